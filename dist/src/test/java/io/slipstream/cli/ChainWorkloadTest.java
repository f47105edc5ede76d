package io.slipstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The chained web traffic's origin and the clients' check of every answer. */
class ChainWorkloadTest {

    @Test
    void check_theVersionItsETagNames_passes() {
        assertThat(ChainWorkload.check(3, 200, "\"3-2\"", DemoChainOrigin.body(3, 2), 5)).isNull();
        assertThat(ChainWorkload.check(3, 200, "\"3-0\"", DemoChainOrigin.body(3, 0), 0)).isNull();
    }

    @Test
    void check_wrongStatusVersionOrBody_saysWhat() {
        assertThat(ChainWorkload.check(3, 502, "\"3-2\"", new byte[12], 5)).startsWith("status 502, 12 bytes");
        assertThat(ChainWorkload.check(3, 200, "\"3-6\"", DemoChainOrigin.body(3, 6), 5))
                .contains("ETag \"3-6\"");
        assertThat(ChainWorkload.check(3, 200, "\"4-2\"", DemoChainOrigin.body(4, 2), 5)).contains("ETag");
        assertThat(ChainWorkload.check(3, 200, null, DemoChainOrigin.body(3, 2), 5)).contains("ETag null");
        // One version off: 16 bytes differ.
        assertThat(ChainWorkload.check(3, 200, "\"3-2\"", DemoChainOrigin.body(3, 1), 5))
                .contains("not version 2 of object 3");
        byte[] shortBody = java.util.Arrays.copyOf(DemoChainOrigin.body(3, 2), 1000);
        assertThat(ChainWorkload.check(3, 200, "\"3-2\"", shortBody, 5)).startsWith("1000 bytes");
    }

    @Test
    void body_eachVersion_differsFromTheLastInAFewBytes() {
        byte[] v4 = DemoChainOrigin.body(7, 4);
        byte[] v5 = DemoChainOrigin.body(7, 5);
        assertThat(v5).hasSize(DemoChainOrigin.OBJECT_BYTES).isEqualTo(DemoChainOrigin.body(7, 5));
        int differing = 0;
        for (int i = 0; i < v4.length; i++) {
            differing += v4[i] != v5[i] ? 1 : 0;
        }
        assertThat(differing).isBetween(1, DemoChainOrigin.EDIT_BYTES);
    }

    @Test
    void origin_answersTheCurrentVersion_and304ForItsETag() throws Exception {
        try (DemoChainOrigin origin = new DemoChainOrigin("127.0.0.1")) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(origin.url() + "/obj/5")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            String etag = r.headers().firstValue("ETag").orElseThrow();
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Cache-Control")).hasValue("public, max-age="
                    + DemoChainOrigin.MAX_AGE_SECONDS);
            assertThat(ChainWorkload.check(5, r.statusCode(), etag, r.body(), origin.version(5))).isNull();
            HttpResponse<byte[]> again = http.send(HttpRequest.newBuilder(URI.create(origin.url() + "/obj/5"))
                    .header("If-None-Match", DemoChainOrigin.etag(5, origin.version(5))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(again.statusCode()).isEqualTo(304);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(origin.url() + "/obj/32")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
            assertThat(origin.requests.get()).isEqualTo(3);
            assertThat(origin.notModified.get()).isEqualTo(1);
            assertThat(origin.bytes.get()).isEqualTo(DemoChainOrigin.OBJECT_BYTES);
        }
    }
}
