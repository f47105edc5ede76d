package io.slipstream.controller.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.slipstream.common.AdminHttpServer;
import io.slipstream.common.AdminHttpServer.Response;
import io.slipstream.controller.state.Leadership;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link LeaderOnly} on a real loopback HTTP server: reads everywhere, writes only on the leader. */
class LeaderOnlyTest {

    private final AtomicBoolean leading = new AtomicBoolean();
    private final AtomicReference<Leadership.Leader> leader = new AtomicReference<>();
    private final AtomicInteger served = new AtomicInteger();
    private final HttpClient client = HttpClient.newHttpClient();
    private AdminHttpServer http;

    @BeforeEach
    void start() throws Exception {
        http = AdminHttpServer.start("127.0.0.1", 0, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), () -> true);
        http.route("/api/policy", new LeaderOnly(leading::get, leader::get, request -> {
            served.incrementAndGet();
            return Response.json(200, "{}").withHeader("ETag", "\"3\"");
        }));
    }

    @AfterEach
    void stop() {
        http.close();
    }

    private HttpResponse<String> send(String method, String query) throws Exception {
        return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/api/policy"
                        + (query == null ? "" : "?" + query)))
                .method(method, HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void follower_readsServed_writesRedirectedToTheLeaderWithPathAndQuery() throws Exception {
        leader.set(new Leadership.Leader(false, "c1", "http://10.0.0.5:8080"));
        HttpResponse<String> read = send("GET", null);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(read.headers().firstValue("ETag")).hasValue("\"3\"");
        HttpResponse<String> write = send("PUT", "a=1");
        assertThat(write.statusCode()).isEqualTo(307);
        assertThat(write.headers().firstValue("Location")).hasValue("http://10.0.0.5:8080/api/policy?a=1");
        assertThat(write.body()).contains("\"leader\" : \"c1\"", "does not lead");
        assertThat(served).as("GET only").hasValue(1);
    }

    @Test
    void noLeaderKnown_writes503WithRetryAfter_nothingChanged() throws Exception {
        HttpResponse<String> write = send("DELETE", null);
        assertThat(write.statusCode()).isEqualTo(503);
        assertThat(write.headers().firstValue("Retry-After")).hasValue("2");
        assertThat(write.body()).contains("no controller leads right now", "nothing was changed");
        // This controller won the election but its gates have not run yet: not a redirect to itself.
        leader.set(new Leadership.Leader(true, "self", "http://127.0.0.1:1"));
        assertThat(send("PUT", null).statusCode()).isEqualTo(503);
        assertThat(served).hasValue(0);
    }

    @Test
    void leader_writesServed() throws Exception {
        leading.set(true);
        assertThat(send("PUT", null).statusCode()).isEqualTo(200);
        assertThat(served).hasValue(1);
    }
}
