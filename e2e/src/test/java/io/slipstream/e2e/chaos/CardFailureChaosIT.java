package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.e2e.Fleet;
import io.slipstream.e2e.Metrics;
import io.slipstream.proto.v1.CompressionSettings;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.tools.net.Ports;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Compression card failures at random blocks under load. Every wanopt worker runs the card emulator with
 * faults: at site a, wan-a1's card fails 5 % of requests and corrupts 1 % of blocks (seed 7), wan-a2's card is
 * lost for good at its 200th request; wan-b1 (which decompresses) has the 5 %/1 % card too. Twelve compressible
 * 4 MiB flows go through both site-a workers at once. Every stream arrives intact (zero corrupted blocks
 * delivered), and the fallbacks to software are counted in each faulty worker's /metrics.
 */
class CardFailureChaosIT {

    private static final String EMULATOR = "-Dslipstream.compression.emulator=true";
    private static final String RANDOM_FAULTS =
            "-Dslipstream.compression.emulator.faults=fail-probability:0.05,corrupt-probability:0.01,seed:7";
    private static final String LOST_DEVICE = "-Dslipstream.compression.emulator.faults=lose-device-at:200";
    private static final int FLOWS_PER_WORKER = 6;
    private static final int FLOW_BYTES = 4 << 20;

    @Test
    void cardFailsAtRandomBlocksUnderLoad_everyStreamIntact_fallbacksCounted() throws Exception {
        long testStart = System.nanoTime();
        ExecutorService senders = Executors.newCachedThreadPool();
        try (DataStreams.Sink sink = new DataStreams.Sink(); Fleet fleet = Fleet.inTarget("CardFailureChaosIT")) {
            fleet.startController(FleetPolicy.newBuilder()
                    .setCompression(CompressionSettings.newBuilder().setMinHardwareBlockBytes(1024))
                    .build());
            int portA1 = Ports.free();
            int portA2 = Ports.free();
            fleet.startWorker("wan-a1", "wanopt", "a", List.of(EMULATOR, RANDOM_FAULTS),
                    "--forward", portA1 + "=127.0.0.1:" + sink.port() + "@b");
            fleet.startWorker("wan-a2", "wanopt", "a", List.of(EMULATOR, LOST_DEVICE),
                    "--forward", portA2 + "=127.0.0.1:" + sink.port() + "@b");
            fleet.startWorker("wan-b1", "wanopt", "b", List.of(EMULATOR, RANDOM_FAULTS));
            fleet.awaitServingAndConfigured("wan-a1", "wan-a2", "wan-b1");
            for (int port : new int[] {portA1, portA2}) {
                await().atMost(Fleet.WAIT).until(() -> DataStreams.send(port, -1, 64 * 1024)
                        == DataStreams.Outcome.INTACT);
            }

            long loadStart = System.nanoTime();
            List<CompletableFuture<DataStreams.Outcome>> flows = new ArrayList<>();
            AtomicLong sent = new AtomicLong();
            for (int i = 0; i < 2 * FLOWS_PER_WORKER; i++) {
                int port = i % 2 == 0 ? portA1 : portA2;
                long seed = -100 - i;
                flows.add(CompletableFuture.supplyAsync(() -> DataStreams.send(port, seed, FLOW_BYTES, 64 * 1024,
                        () -> true, () -> { }, sent, 60_000), senders));
            }
            CompletableFuture.allOf(flows.toArray(new CompletableFuture[0])).get(90, TimeUnit.SECONDS);
            double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
            int intact = 0;
            for (CompletableFuture<DataStreams.Outcome> f : flows) {
                intact += f.get() == DataStreams.Outcome.INTACT ? 1 : 0;
            }

            String a1 = fleet.metrics("wan-a1");
            String a2 = fleet.metrics("wan-a2");
            String b1 = fleet.metrics("wan-b1");
            String fallbacks = "slipstream_compression_fallbacks_total";
            String blocks = "slipstream_compression_blocks_total";
            double a1Fallbacks = Metrics.sumExact(a1, fallbacks);
            double a2Fallbacks = Metrics.sumExact(a2, fallbacks);
            double b1Fallbacks = Metrics.sumExact(b1, fallbacks);
            double a1Card = Metrics.sumExact(a1, blocks, "provider=\"emulator\"");
            double a2Card = Metrics.sumExact(a2, blocks, "provider=\"emulator\"");
            System.out.printf(Locale.ROOT, "CHAOS card-failure: recovery in place (each failed block redone in "
                            + "software, %d flows reset), %.1f MiB checked, %d corrupted; %d/%d streams intact in %.1f s; "
                            + "fallbacks: wan-a1 %.0f (%s), wan-a2 %.0f (%s), wan-b1 %.0f (%s); card blocks: wan-a1 "
                            + "%.0f, wan-a2 %.0f; test %.1f s%n",
                    flows.size() - intact, sink.verifiedBytes.get() / 1048576.0, sink.corrupted.get(), intact,
                    flows.size(), loadSeconds,
                    a1Fallbacks, reasons(a1), a2Fallbacks, reasons(a2), b1Fallbacks, reasons(b1), a1Card, a2Card,
                    (System.nanoTime() - testStart) / 1e9);

            assertThat(sink.corrupted.get()).as("streams with a wrong byte at the sink").isZero();
            assertThat(intact).as("streams intact").isEqualTo(flows.size());
            assertThat(a1Card).as("blocks wan-a1's card handled").isPositive();
            assertThat(a1Fallbacks).as("wan-a1 fallbacks (card errors and corrupt blocks)").isPositive();
            assertThat(a2Fallbacks).as("wan-a2 fallbacks (card lost)").isPositive();
            assertThat(Metrics.sumExact(a2, fallbacks, "reason=\"device_lost\"")
                    + Metrics.sumExact(a2, fallbacks, "reason=\"circuit_open\"")).as("wan-a2 device lost / circuit open")
                    .isPositive();
        } finally {
            senders.shutdownNow();
        }
    }

    /** The fallbacks by reason, e.g. "hardware_error=12 verify_failed=3". */
    private static String reasons(String metrics) {
        StringBuilder out = new StringBuilder();
        var m = java.util.regex.Pattern.compile("(?m)^slipstream_compression_fallbacks_total\\{[^}]*reason=\"([^\"]+)\"[^}]*} (\\S+)$")
                .matcher(metrics);
        while (m.find()) {
            out.append(out.length() == 0 ? "" : " ").append(m.group(1)).append('=')
                    .append((long) Double.parseDouble(m.group(2)));
        }
        return out.toString();
    }
}
