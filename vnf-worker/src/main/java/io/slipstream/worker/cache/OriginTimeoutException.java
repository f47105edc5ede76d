package io.slipstream.worker.cache;

import java.io.IOException;

/** The origin sent nothing for longer than the configured origin timeout. */
final class OriginTimeoutException extends IOException {
    OriginTimeoutException(long millis) {
        super("origin sent nothing for " + millis + " ms");
    }
}
