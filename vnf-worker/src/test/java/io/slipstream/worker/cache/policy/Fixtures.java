package io.slipstream.worker.cache.policy;

import java.time.Duration;
import java.time.Instant;

/** Shared instants and builders; every test states its own clock readings. */
final class Fixtures {

    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    static final String URL = "http://example.com/a";

    private Fixtures() {
    }

    static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    static String date(long secondsFromT0) {
        return HttpDates.format(at(secondsFromT0));
    }

    /** A response to a plain GET of {@link #URL}, requested and received at T0. */
    static StoredResponse stored(ResponseHead response) {
        return stored(RequestHead.get(URL), response);
    }

    static StoredResponse stored(RequestHead request, ResponseHead response) {
        return StoredResponse.of(request, response, T0, T0);
    }

    /** A 200 dated T0, received at T0, with the given extra headers. */
    static StoredResponse ok(String... headers) {
        String[] all = new String[headers.length + 2];
        all[0] = "Date";
        all[1] = date(0);
        System.arraycopy(headers, 0, all, 2, headers.length);
        return stored(ResponseHead.of(200, all));
    }

    static Duration secs(long s) {
        return Duration.ofSeconds(s);
    }
}
