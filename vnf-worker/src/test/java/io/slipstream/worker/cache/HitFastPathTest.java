package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.slipstream.worker.cache.policy.CacheStrategy;
import io.slipstream.worker.cache.policy.HttpDates;
import io.slipstream.worker.cache.policy.Lookup;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The hit fast path agrees with the decision core wherever it answers, and leaves everything else to it. */
class HitFastPathTest {

    private static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
    private final CacheStrategy strategy = CacheStrategy.shared();

    private static StoredResponse stored(String... headers) {
        return StoredResponse.of(RequestHead.get("http://h/x"), ResponseHead.of(200, headers), T, T.plusMillis(40));
    }

    @Test
    void freshAge_plainRequest_matchesCoreLookupEverywhere() {
        List<StoredResponse> all = List.of(
                stored("Cache-Control", "max-age=60"),
                stored("Cache-Control", "max-age=60", "Age", "50"),
                stored("Cache-Control", "s-maxage=5, max-age=600"),
                stored("Cache-Control", "max-age=0"),
                stored("Expires", HttpDates.format(T.plusSeconds(30)), "Date", HttpDates.format(T)),
                stored("Expires", "0"),
                stored("Last-Modified", HttpDates.format(T.minusSeconds(1000)), "Date", HttpDates.format(T)),
                stored("Cache-Control", "max-age=60, must-revalidate", "ETag", "\"e\""),
                stored("Cache-Control", "max-age=10, stale-while-revalidate=30"),
                stored("Cache-Control", "no-cache, max-age=60"),
                stored("Cache-Control", "max-age=60", "Vary", "Accept-Encoding"),
                stored("Cache-Control", "max-age=60", "Vary", "*"),
                stored("Date", HttpDates.format(T.minusSeconds(20)), "Cache-Control", "max-age=30"));
        RequestHead plain = RequestHead.get("http://h/x", "Accept", "*/*");
        for (StoredResponse s : all) {
            for (long offset : new long[] {0, 1, 4, 5, 9, 10, 29, 30, 31, 59, 60, 61, 99, 100, 101, 3600}) {
                Instant now = T.plusSeconds(offset).plusMillis(40);
                Duration fast = HitFastPath.freshAge(HitFastPath.lifetime(strategy, s),
                        CacheStrategy.currentAge(s, s.responseTime()), s, now);
                Lookup core = strategy.lookup(plain, s, now);
                if (fast != null) {
                    assertThat(core.action()).as(s + " at +" + offset).isEqualTo(Lookup.Action.FRESH);
                    assertThat(core.age()).as(s + " at +" + offset).isEqualTo(fast);
                } else if (HitFastPath.lifetime(strategy, s) != null) {
                    assertThat(core.action()).as(s + " at +" + offset).isNotEqualTo(Lookup.Action.FRESH);
                }
            }
        }
    }

    @Test
    void lifetime_varyOrNoCache_leavesItToTheCore() {
        assertThat(HitFastPath.lifetime(strategy, stored("Cache-Control", "max-age=60", "Vary", "Accept"))).isNull();
        assertThat(HitFastPath.lifetime(strategy, stored("Cache-Control", "no-cache"))).isNull();
        assertThat(HitFastPath.lifetime(strategy, stored("Cache-Control", "max-age=60"))).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void plainRequest_directivesOrValidators_areNotPlain() {
        assertThat(HitFastPath.plainRequest(new DefaultHttpHeaders().add("Accept", "*/*"))).isTrue();
        assertThat(HitFastPath.plainRequest(new DefaultHttpHeaders().add("cache-control", "max-age=0"))).isFalse();
        assertThat(HitFastPath.plainRequest(new DefaultHttpHeaders().add("Pragma", "no-cache"))).isFalse();
        assertThat(HitFastPath.plainRequest(new DefaultHttpHeaders().add("If-None-Match", "\"e\""))).isFalse();
        assertThat(HitFastPath.plainRequest(new DefaultHttpHeaders().add("If-Modified-Since", "x"))).isFalse();
    }
}
