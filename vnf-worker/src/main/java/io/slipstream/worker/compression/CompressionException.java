package io.slipstream.worker.compression;

/** A block could not be compressed or decompressed. Subclasses say why. */
public class CompressionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CompressionException(String message) {
        super(message);
    }

    public CompressionException(String message, Throwable cause) {
        super(message, cause);
    }
}
