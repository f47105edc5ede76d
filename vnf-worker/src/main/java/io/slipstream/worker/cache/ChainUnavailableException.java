package io.slipstream.worker.cache;

import java.io.IOException;

/** A {@code cache+wanopt} fetch with no wanopt worker to carry it and {@code peerUnavailable: fail-fast}. */
final class ChainUnavailableException extends IOException {

    ChainUnavailableException(String reason) {
        super(reason);
    }
}
