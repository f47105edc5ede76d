package io.slipstream.worker.compression;

/**
 * Input that is not a valid block: corrupted, truncated, or expanding past its declared or
 * configured size. Never retried: every provider would reject it the same way.
 */
public class CorruptBlockException extends CompressionException {

    private static final long serialVersionUID = 1L;

    public CorruptBlockException(String message) {
        super(message);
    }

    public CorruptBlockException(String message, Throwable cause) {
        super(message, cause);
    }
}
