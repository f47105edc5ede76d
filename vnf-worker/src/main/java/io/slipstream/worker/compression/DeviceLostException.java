package io.slipstream.worker.compression;

/** The hardware behind an engine is gone (unplugged, reset, driver error). */
public class DeviceLostException extends CompressionException {

    private static final long serialVersionUID = 1L;

    public DeviceLostException(String message) {
        super(message);
    }

    public DeviceLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
