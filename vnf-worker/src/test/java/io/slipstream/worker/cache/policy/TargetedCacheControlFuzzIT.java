package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Coverage-guided fuzzing of targeted cache-control fields ({@link TargetedCacheControl}, RFC 9213 over
 * RFC 8941 dictionaries): any lines of the own target and of CDN-Cache-Control beside any Cache-Control.
 * Properties, per input: no exception (a field that does not parse is ignored, never thrown); the result is
 * null or a list of directives named as RFC 8941 keys, with only Integer arguments; the strategy's
 * storability, freshness and lookup decide on it without an exception.
 */
class TargetedCacheControlFuzzIT {

    private static final List<String> TARGETS = List.of("Slipstream-Cache-Control", TargetedCacheControl.CDN);
    private static final CacheStrategy STRATEGY = CacheStrategy.builder()
            .targets(List.of("Slipstream-Cache-Control")).build();
    private static final Pattern DIRECTIVES = Pattern.compile(
            "([a-z*][a-z0-9_.*-]*(=([0-9]+|invalid))?)(, [a-z*][a-z0-9_.*-]*(=([0-9]+|invalid))?)*|");

    @FuzzTest(maxDuration = "10s")
    void targetedFields_anyLines_selectedOrIgnoredNeverThrown(FuzzedDataProvider data) {
        HttpHeaders.Builder b = HttpHeaders.builder().add("Date", "Thu, 01 Jan 2026 00:00:00 GMT");
        int lines = data.consumeInt(1, 4);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < lines; i++) {
            String name = data.pickValue(List.of("Slipstream-Cache-Control", "CDN-Cache-Control", "Cache-Control"));
            String value = data.consumeString(200).replace('\r', ' ').replace('\n', ' ');
            values.add(value);
            b.add(name, value);
        }
        HttpHeaders headers = b.build();

        String selected = TargetedCacheControl.select(headers, TARGETS);
        if (selected != null) {
            assertThat(selected).as("from %s", values).matches(DIRECTIVES);
        }
        ResponseHead response = ResponseHead.of(200, headers);
        RequestHead get = RequestHead.get(Fixtures.URL);
        STRATEGY.storable(get, response);
        StoredResponse stored = Fixtures.stored(response);
        STRATEGY.freshness(stored);
        STRATEGY.lookup(get, stored, Fixtures.at(data.consumeInt(0, 100_000)));
    }
}
