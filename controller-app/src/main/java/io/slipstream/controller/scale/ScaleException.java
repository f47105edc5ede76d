package io.slipstream.controller.scale;

/** A scale target could not be read or changed; the message says why and what to do. */
public final class ScaleException extends Exception {

    public ScaleException(String message) {
        super(message);
    }

    public ScaleException(String message, Throwable cause) {
        super(message, cause);
    }
}
