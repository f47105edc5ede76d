package io.slipstream.worker.compression;

/** A source of nanoseconds, injected so that back-off and latency can be tested without sleeping. */
@FunctionalInterface
public interface Ticker {

    long read();

    static Ticker system() {
        return System::nanoTime;
    }
}
