package io.slipstream.controller.state;

/** A write that named a version which is no longer the current one (HTTP 412). */
public final class StateConflictException extends Exception {

    private static final long serialVersionUID = 1L;
    private final transient StateRecord current;

    StateConflictException(String kind, long expected, StateRecord current) {
        super(kind + ": version " + expected + " is not the current one (expected: If-Match \"" + current.version()
                + "\", the version now in force; GET it, reapply your change, PUT again)");
        this.current = current;
    }

    /** The record in force now. */
    public StateRecord current() {
        return current;
    }
}
