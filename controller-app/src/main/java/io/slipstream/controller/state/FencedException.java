package io.slipstream.controller.state;

/** A write refused because this controller does not lead (its leader-election node is gone): nothing was written. */
public final class FencedException extends Exception {

    private static final long serialVersionUID = 1L;

    FencedException(String message) {
        super(message);
    }
}
