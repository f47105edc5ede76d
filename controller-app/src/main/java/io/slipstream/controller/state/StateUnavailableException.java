package io.slipstream.controller.state;

/** ZooKeeper could not be reached or did not answer: nothing was written, or (when it says so) the outcome is unknown. */
public final class StateUnavailableException extends Exception {

    private static final long serialVersionUID = 1L;

    StateUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
