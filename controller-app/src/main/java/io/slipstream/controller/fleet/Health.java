package io.slipstream.controller.fleet;

/** What the controller knows of a worker's health. */
public enum Health {
    /** Registered, no health answer yet. */
    UNKNOWN,
    /** The worker's health stream says SERVING: it is in the steering set. */
    SERVING,
    /** The worker answers but does not serve (starting or draining). */
    NOT_SERVING,
    /** The control stream broke: the worker is dead or unreachable. */
    DOWN;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
