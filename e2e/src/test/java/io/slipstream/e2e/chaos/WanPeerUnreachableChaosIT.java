package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.e2e.Fleet;
import io.slipstream.e2e.Metrics;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.tools.net.Ports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The far-site wanopt peer killed with SIGKILL, then started again: new flows of the "bypass" policy go straight to
 * their destination, intact and counted; new flows of the "fail-fast" policy are reset at once; once the peer is back,
 * flows are optimised again (WAN bytes well below application bytes for a repetitive payload).
 */
@Timeout(150)
class WanPeerUnreachableChaosIT {

    private static final int FLOW_BYTES = 256 * 1024;

    /** A repetitive payload (compresses and deduplicates well), distinct per seed. */
    private static byte[] payload(long seed) {
        byte[] words = ("slipstream chaos peer-unreachable block " + seed + "; ").getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[FLOW_BYTES];
        for (int i = 0; i < b.length; i++) {
            b[i] = words[i % words.length];
        }
        return b;
    }

    /** One flow of a repetitive payload to {@code port}: true when it came back intact. */
    private static boolean intact(int port, long seed) {
        byte[] data = payload(seed);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(data);
            s.shutdownOutput();
            return Arrays.equals(s.getInputStream().readAllBytes(), data);
        } catch (IOException e) {
            return false;
        }
    }

    /** Milliseconds until a flow to {@code port} ends with nothing echoed (reset or EOF), or -1 if data came back. */
    private static long millisToReset(int port) throws IOException {
        long started = System.nanoTime();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            try {
                s.getOutputStream().write(payload(0), 0, 4096);
                if (s.getInputStream().read() >= 0) {
                    return -1;
                }
            } catch (IOException reset) {
                // the reset the policy asks for
            }
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static double metric(String metricsEndpoint, String name, String... labels) throws Exception {
        return Metrics.sum(Metrics.scrape(metricsEndpoint), name, labels);
    }

    @Test
    void peerKilled_bypassAndFailFastByPolicy_thenOptimisedAgainWhenBack() throws Exception {
        long testStarted = System.nanoTime();
        Path logs = Path.of("target", "WanPeerUnreachableChaosIT-logs");
        ControlSupport.resetLogs(logs);
        try (ControlTraffic.Echo bulk = new ControlTraffic.Echo(); ControlTraffic.Echo strict = new ControlTraffic.Echo();
             Fleet fleet = new Fleet(logs)) {
            FleetPolicy policy = FleetPolicy.newBuilder()
                    .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24"))
                    .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8"))
                    .addPolicies(FlowPolicy.newBuilder().setName("bulk").setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                            .setPeerUnavailable(PeerUnavailable.PEER_UNAVAILABLE_BYPASS)
                            .addDstPorts(PortRange.newBuilder().setFirst(bulk.port()).setLast(bulk.port())))
                    .addPolicies(FlowPolicy.newBuilder().setName("strict").setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                            .setPeerUnavailable(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST)
                            .addDstPorts(PortRange.newBuilder().setFirst(strict.port()).setLast(strict.port())))
                    .build();
            fleet.startController(policy);
            int bulkPort = Ports.free();
            int strictPort = Ports.free();
            fleet.startWorker("wan-a1", "wanopt", "a",
                    "--forward", bulkPort + "=127.0.0.1:" + bulk.port() + "@b",
                    "--forward", strictPort + "=127.0.0.1:" + strict.port() + "@b");
            var peer = fleet.startWorker("wan-b1", "wanopt", "b");
            fleet.awaitServingAndConfigured("wan-a1", "wan-b1");
            String a1 = fleet.controller.fleet().snapshot().worker("wan-a1").record().metricsEndpoint();
            ControlSupport.untilEchoed(bulkPort, 3);
            ControlSupport.untilEchoed(strictPort, 3);

            long seed = 1;
            long checked = 0;
            // Optimised while the peer is up.
            double app0 = metric(a1, "slipstream_wanopt_bytes_in");
            double wan0 = metric(a1, "slipstream_wanopt_bytes_wan");
            for (int i = 0; i < 10; i++) {
                assertThat(intact(bulkPort, seed++)).as("optimised flow %d", i).isTrue();
                checked += 2L * FLOW_BYTES;
            }
            double appUp = metric(a1, "slipstream_wanopt_bytes_in") - app0;
            double wanUp = metric(a1, "slipstream_wanopt_bytes_wan") - wan0;

            // The peer dies.
            double bypassed0 = metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"");
            peer.kill();
            assertThat(peer.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            long killedAt = System.nanoTime();
            int transitionFailures = 0;
            long firstBypassNanos = 0;
            while (System.nanoTime() - killedAt < 30_000_000_000L) {
                boolean ok = intact(bulkPort, seed++);
                if (ok && metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"") > bypassed0) {
                    firstBypassNanos = System.nanoTime() - killedAt;
                    checked += 2L * FLOW_BYTES;
                    break;
                }
                if (!ok) {
                    transitionFailures++;
                }
            }
            assertThat(firstBypassNanos).as("a flow bypassed within 30 s of the kill").isPositive();
            int bypassedFlows = 20;
            for (int i = 0; i < bypassedFlows; i++) {
                assertThat(intact(bulkPort, seed++)).as("bypassed flow %d", i).isTrue();
                checked += 2L * FLOW_BYTES;
            }
            double bypassCount = metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"") - bypassed0;
            long maxResetMillis = 0;
            for (int i = 0; i < 5; i++) {
                long millis = millisToReset(strictPort);
                assertThat(millis).as("fail-fast flow %d: reset, nothing echoed", i).isNotNegative();
                maxResetMillis = Math.max(maxResetMillis, millis);
            }

            // The peer comes back (a new process, new ports): the controller pushes it, flows go optimised again.
            fleet.startWorker("wan-b1", "wanopt", "b");
            long restartedAt = System.nanoTime();
            long optimisedNanos = 0;
            while (System.nanoTime() - restartedAt < 60_000_000_000L) {
                double before = metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"");
                assertThat(intact(bulkPort, seed++)).as("flow while the peer comes back").isTrue();
                checked += 2L * FLOW_BYTES;
                if (metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"") == before) {
                    optimisedNanos = System.nanoTime() - restartedAt;
                    break;
                }
            }
            assertThat(optimisedNanos).as("optimised again within 60 s of the restart").isPositive();
            double app1 = metric(a1, "slipstream_wanopt_bytes_in");
            double wan1 = metric(a1, "slipstream_wanopt_bytes_wan");
            double bypassed1 = metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"");
            for (int i = 0; i < 10; i++) {
                assertThat(intact(bulkPort, seed++)).as("optimised flow %d after recovery", i).isTrue();
                assertThat(intact(strictPort, seed++)).as("strict flow %d after recovery", i).isTrue();
                checked += 4L * FLOW_BYTES;
            }
            double appAfter = metric(a1, "slipstream_wanopt_bytes_in") - app1;
            double wanAfter = metric(a1, "slipstream_wanopt_bytes_wan") - wan1;

            String summary = String.format("CHAOS wan-peer-unreachable: bulk (bypass) flows bypassed %.2f s after "
                            + "kill -9 of the peer (%d failed in the switch, then %.0f bypassed intact), strict (fail-fast) "
                            + "flows reset in <= %d ms, optimised again %.1f s after the peer restarted (WAN/app bytes "
                            + "%.3f before, %.3f after), %d MiB checked, test %.0f s",
                    firstBypassNanos / 1e9, transitionFailures, bypassCount, maxResetMillis, optimisedNanos / 1e9,
                    wanUp / appUp, wanAfter / appAfter, checked >> 20, (System.nanoTime() - testStarted) / 1e9);
            System.out.println(summary);
            Files.writeString(logs.resolve("summary.txt"), summary + "\n");

            assertThat(bypassCount).as("bypassed flows counted").isGreaterThanOrEqualTo(bypassedFlows + 1);
            assertThat(maxResetMillis).as("fail-fast reset, ms").isLessThan(2000);
            assertThat(metric(a1, "slipstream_wanopt_peer_unavailable", "action=\"bypass\"")).as("no bypass after recovery")
                    .isEqualTo(bypassed1);
            assertThat(appAfter).isGreaterThanOrEqualTo(10.0 * FLOW_BYTES);
            assertThat(wanAfter).as("WAN bytes after recovery").isLessThan(appAfter / 4);
            assertThat(wanUp).as("WAN bytes before the kill").isLessThan(appUp / 4);
            assertThat(transitionFailures).as("flows failed while switching to bypass").isLessThanOrEqualTo(2);
        }
    }
}
