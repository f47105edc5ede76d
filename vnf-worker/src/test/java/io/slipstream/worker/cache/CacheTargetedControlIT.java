package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Targeted cache-control fields (RFC 9213) obeyed by the proxy, on real sockets. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheTargetedControlIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private TestOrigin origin;
    private CacheServer proxy;
    private HttpClient client;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(origin.url())).threads(1).preopen(1)
                .cacheTargets(List.of("Slipstream-Cache-Control")).build()).start();
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT).build();
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.address().getPort() + path))
                .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void cdnCacheControl_maxAge_storesDespiteCacheControlNoStoreAndForwardsBothFields() throws Exception {
        origin.route("/cdn", ex -> TestOrigin.Reply.ok("cdn", "Cache-Control", "no-store",
                "CDN-Cache-Control", "max-age=600"));
        get("/cdn");
        HttpResponse<String> hit = get("/cdn");
        assertThat(hit.body()).isEqualTo("cdn");
        assertThat(origin.count("/cdn")).isEqualTo(1);
        assertThat(hit.headers().firstValue("Cache-Control")).hasValue("no-store");
        assertThat(hit.headers().firstValue("CDN-Cache-Control")).hasValue("max-age=600");
    }

    @Test
    void ownTarget_noStore_winsOverCdnCacheControl() throws Exception {
        origin.route("/own", ex -> TestOrigin.Reply.ok("own", "CDN-Cache-Control", "max-age=600",
                "Slipstream-Cache-Control", "no-store"));
        get("/own");
        get("/own");
        assertThat(origin.count("/own")).isEqualTo(2);
    }

    @Test
    void invalidOwnTarget_isIgnoredAndCdnCacheControlApplies() throws Exception {
        origin.route("/bad", ex -> TestOrigin.Reply.ok("bad", "Cache-Control", "no-store",
                "Slipstream-Cache-Control", "No-Store", "CDN-Cache-Control", "max-age=600"));
        get("/bad");
        get("/bad");
        assertThat(origin.count("/bad")).isEqualTo(1);
    }

    @Test
    void invalidTargetsOnly_cacheControlApplies() throws Exception {
        origin.route("/cc", ex -> TestOrigin.Reply.ok("cc", "Cache-Control", "no-store",
                "CDN-Cache-Control", "max-age=\"unterminated"));
        get("/cc");
        get("/cc");
        assertThat(origin.count("/cc")).isEqualTo(2);
    }
}
