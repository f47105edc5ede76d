package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.worker.CacheRoleSettings;
import io.slipstream.worker.Worker;
import io.slipstream.worker.WorkerSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/** A whole cache-role worker: its data endpoint is the caching proxy for the origin given on the command line. */
class CacheWorkerIT {

    @Test
    void cacheWorker_withOrigin_servesHitsOnItsDataEndpoint() throws Exception {
        try (TestingServer zk = new TestingServer(true);
             TestOrigin origin = new TestOrigin()) {
            origin.route("/w", ex -> TestOrigin.Reply.ok("worker", "Cache-Control", "max-age=60"));
            try (Worker worker = Worker.start(WorkerSettings.of("cache-a1", "a", zk.getConnectString(),
                            CacheRoleSettings.defaults().withOrigin(origin.url()).withAdminToken("token"))
                    .withZkSessionTimeoutMillis(4000).withCapacityBytesPerSecond(125_000_000L).withVersion("test"))) {
                String endpoint = worker.record().dataEndpoint();
                assertThat(endpoint).startsWith("127.0.0.1:");
                HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                HttpRequest get = HttpRequest.newBuilder(URI.create("http://" + endpoint + "/w"))
                        .timeout(Duration.ofSeconds(10)).build();
                assertThat(client.send(get, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("worker");
                assertThat(client.send(get, HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("worker");
                assertThat(origin.count("/w")).isEqualTo(1);
                await().atMost(Duration.ofSeconds(5)).until(() -> worker.meters()
                        .get("slipstream.cache.hits").functionCounter().count() == 1.0);
                // A reverse proxy for its origin is no open relay to other hosts.
                try (java.net.Socket raw = new java.net.Socket("127.0.0.1", Integer.parseInt(endpoint.split(":")[1]))) {
                    raw.setSoTimeout(5000);
                    raw.getOutputStream().write(("GET http://127.0.0.1:9/elsewhere HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                            + "Connection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    String answer = new String(raw.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
                    assertThat(answer).startsWith("HTTP/1.1 403");
                }
            }
        }
    }
}
