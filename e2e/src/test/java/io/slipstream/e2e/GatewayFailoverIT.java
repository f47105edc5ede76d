package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.tools.net.Ports;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Real worker JVMs and the standalone controller: a gateway and two wanopt workers at site a, one wanopt
 * worker at site b, a server at site b (loopback). Flows through the gateway spread over both site-a workers;
 * after kill -9 of one, new flows go to the other; with the controller gone, the gateway keeps serving.
 */
class GatewayFailoverIT {

    /** An echo server on loopback, one thread per connection. */
    private static final class Echo implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        final ExecutorService threads = Executors.newCachedThreadPool();

        Echo() throws IOException {
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        threads.execute(() -> {
                            try (s) {
                                s.getInputStream().transferTo(s.getOutputStream());
                                s.shutdownOutput();
                            } catch (IOException e) {
                                // client gone
                            }
                        });
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }


    /** One flow through the gateway: 64 KiB out, the same back. */
    private static boolean flow(int port, long seed) {
        byte[] data = new byte[64 * 1024];
        new Random(seed).nextBytes(data);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(data);
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            return Arrays.equals(in.readAllBytes(), data);
        } catch (IOException e) {
            System.out.println("GATEWAY FLOW FAILED: " + e);
            return false;
        }
    }

    private final HttpClient http = HttpClient.newHttpClient();

    /** The worker's slipstream_wanopt_steered_connections_total{outcome="accepted"} from its /metrics. */
    private double accepted(Fleet fleet, String id) throws Exception {
        String endpoint = fleet.controller.fleet().snapshot().worker(id).record().metricsEndpoint();
        String body = http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("slipstream_wanopt_steered_connections_total\\{[^}]*outcome=\"accepted\"[^}]*} (\\S+)")
                .matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    @Test
    void killedWanoptWorker_newFlowsGoToTheOtherWithinOneSecond_andTheGatewayOutlivesTheController() throws Exception {
        // Worker logs under target/, kept after the run to diagnose a failure.
        Path logs = Path.of("target", "GatewayFailoverIT-logs");
        Fleet.resetLogs(logs);
        try (Echo server = new Echo(); Fleet fleet = new Fleet(logs)) {
            int serverPort = server.server.getLocalPort();
            FleetPolicy policy = FleetPolicy.newBuilder()
                    .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24"))
                    .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8"))
                    .addPolicies(FlowPolicy.newBuilder().setName("to-b").setIngressSite("a")
                            .setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                            .addDstPorts(PortRange.newBuilder().setFirst(serverPort).setLast(serverPort)))
                    .build();
            fleet.startController(policy);
            int gatewayPort = Ports.free();
            fleet.startWorker("gw-a", "gateway", "a", "--listen", gatewayPort + "=127.0.0.1:" + serverPort);
            LocalWorkerProcess victim = fleet.startWorker("wan-a1", "wanopt", "a", "--steered-port", "0");
            fleet.startWorker("wan-a2", "wanopt", "a", "--steered-port", "0");
            fleet.startWorker("wan-b1", "wanopt", "b");
            fleet.awaitServingAndConfigured("gw-a", "wan-a1", "wan-a2", "wan-b1");

            // Flows spread over both site-a workers (bucket placement), each carried intact to site b.
            await().atMost(Fleet.WAIT).until(() -> flow(gatewayPort, 0));
            int seed = 1;
            await().atMost(Fleet.WAIT).until(() -> flow(gatewayPort, System.nanoTime())
                    && accepted(fleet, "wan-a1") > 0 && accepted(fleet, "wan-a2") > 0);
            // Both site-a workers' tunnels to site b are up once a run of flows succeeds.
            await().atMost(Fleet.WAIT).until(() -> {
                for (int i = 0; i < 10; i++) {
                    if (!flow(gatewayPort, System.nanoTime())) {
                        return false;
                    }
                }
                return true;
            });
            for (int i = 0; i < 30; i++) {
                assertThat(flow(gatewayPort, seed++)).as("flow %d", i).isTrue();
            }
            double a2Before = accepted(fleet, "wan-a2");
            assertThat(accepted(fleet, "wan-a1")).isPositive();

            long killedAt = System.nanoTime();
            victim.kill();
            // New flows from now on: how soon does every one of 20 consecutive ones succeed (all via wan-a2)?
            long allGoodAt = 0;
            int consecutive = 0;
            int failures = 0;
            long deadline = killedAt + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < deadline) {
                if (flow(gatewayPort, seed++)) {
                    if (consecutive++ == 0) {
                        allGoodAt = System.nanoTime();
                    }
                    if (consecutive == 20) {
                        break;
                    }
                } else {
                    failures++;
                    consecutive = 0;
                }
            }
            double millis = (allGoodAt - killedAt) / 1e6;
            System.out.printf("GATEWAY FAILOVER: kill -9 of wan-a1 -> new flows all via wan-a2 after %.1f ms "
                    + "(%d new flows failed before that)%n", millis, failures);
            assertThat(consecutive).as("20 consecutive new flows succeed").isEqualTo(20);
            assertThat(millis).as("failover time in ms").isLessThan(1000);
            assertThat(accepted(fleet, "wan-a2") - a2Before).isGreaterThanOrEqualTo(20);

            // The controller goes away: the gateway keeps serving with its last table.
            fleet.controller.close();
            for (int i = 0; i < 10; i++) {
                assertThat(flow(gatewayPort, seed++)).as("flow %d without a controller", i).isTrue();
            }
            fleet.controller = null;
        }
    }
}
