package io.slipstream.worker.control;

import io.slipstream.proto.v1.DrainResponse;

/** Takes the worker out of service; implemented by the composition root, which owns every part involved. */
@FunctionalInterface
public interface Drainer {

    /**
     * Begins a drain. Returns at once; the drain proceeds in the background.
     *
     * @param timeoutMillis how long active flows may take to finish
     * @param stopWhenDrained stop the process afterwards
     */
    DrainResponse drain(long timeoutMillis, boolean stopWhenDrained);
}
