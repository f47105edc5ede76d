package io.slipstream.controller.state;

/** A stored state record that cannot be read: not a record, or content its kind refuses. */
public final class CorruptStateException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CorruptStateException(String message) {
        super(message);
    }
}
