package io.slipstream.worker.cache;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Requests and connections the proxy refused, by reason: bound as {@code slipstream.cache.rejected{reason}}
 * (a fixed, low-cardinality set of tags).
 */
final class Rejections {

    /** Why a request or connection was refused. */
    enum Reason {
        /** Malformed framing, header, Host or request target (400). */
        BAD_REQUEST,
        /** Request line over the limit (414). */
        URI_TOO_LONG,
        /** Header block over the byte limit or too many fields (431). */
        HEADER_TOO_LARGE,
        /** Request body over the limit (413). */
        BODY_TOO_LARGE,
        /** CONNECT, TRACE (501, 405). */
        METHOD,
        /** Not HTTP/1.0 or 1.1 (505). */
        VERSION,
        /** No complete request head within the head timeout (408, or a close while a response is owed). */
        HEAD_TIMEOUT,
        /** A request body not complete within the idle timeout after its head (408, or a close). */
        BODY_TIMEOUT,
        /** Via shows a loop (508). */
        LOOP,
        /** Unexpected failure while handling a request (500). */
        INTERNAL_ERROR;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Map<Reason, LongAdder> counts = new EnumMap<>(Reason.class);

    Rejections() {
        for (Reason r : Reason.values()) {
            counts.put(r, new LongAdder());
        }
    }

    void increment(Reason reason) {
        counts.get(reason).increment();
    }

    long count(Reason reason) {
        return counts.get(reason).sum();
    }

    /** The reason an error response with {@code status} stands for, or {@code null} when it is no rejection. */
    static Reason forStatus(int status) {
        return switch (status) {
            case 400 -> Reason.BAD_REQUEST;
            case 405, 501 -> Reason.METHOD;
            case 408 -> Reason.HEAD_TIMEOUT;
            case 413 -> Reason.BODY_TOO_LARGE;
            case 414 -> Reason.URI_TOO_LONG;
            case 431 -> Reason.HEADER_TOO_LARGE;
            case 500 -> Reason.INTERNAL_ERROR;
            case 505 -> Reason.VERSION;
            case 508 -> Reason.LOOP;
            default -> null;
        };
    }

    void bind(MeterRegistry meters) {
        counts.forEach((reason, adder) -> FunctionCounter.builder("slipstream.cache.rejected", adder, LongAdder::sum)
                .tag("reason", reason.tag()).description("Requests and connections refused, by reason")
                .register(meters));
    }
}
