package io.slipstream.worker.cache.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HttpHeadersTest {

    @Test
    void get_differentCase_found() {
        assertThat(HttpHeaders.of("Cache-Control", "max-age=5").get("cache-CONTROL")).isEqualTo("max-age=5");
    }

    @Test
    void all_multipleFieldLines_inOrder() {
        HttpHeaders h = HttpHeaders.of("Vary", "Accept", "X", "1", "vary", "Accept-Encoding");
        assertThat(h.all("VARY")).containsExactly("Accept", "Accept-Encoding");
        assertThat(h.combined("Vary")).isEqualTo("Accept, Accept-Encoding");
        assertThat(h.combined("Missing")).isNull();
    }

    @Test
    void with_existingName_replacesAllLinesInPlace() {
        HttpHeaders h = HttpHeaders.of("A", "1", "B", "2", "a", "3").with("A", "9");
        assertThat(h.lines()).extracting(l -> l[0] + "=" + l[1]).containsExactly("A=9", "B=2");
    }

    @Test
    void without_name_removesEveryLine() {
        assertThat(HttpHeaders.of("A", "1", "a", "2", "B", "3").without("A").names()).containsExactly("b");
    }

    @Test
    void of_oddArguments_rejectedWithExpectation() {
        assertThatThrownBy(() -> HttpHeaders.of("A")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: name/value pairs");
    }

    @Test
    void add_nameWithColonOrSpace_rejected() {
        assertThatThrownBy(() -> HttpHeaders.of("Bad Name", "x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected: a non-empty HTTP token");
    }

    @Test
    void equals_sameFieldsDifferentNameCase_equal() {
        assertThat(HttpHeaders.of("ETag", "\"a\"")).isEqualTo(HttpHeaders.of("etag", "\"a\""));
    }
}
