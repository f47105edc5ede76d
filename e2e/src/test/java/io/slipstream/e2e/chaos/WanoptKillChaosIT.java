package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.e2e.Fleet;
import io.slipstream.e2e.Metrics;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.tools.net.Ports;
import java.time.Duration;
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
 * kill -9 of a wanopt worker in the middle of transfers through the gateway: a gateway and two wanopt workers at
 * site a, one wanopt worker at site b, a verifying sink behind site b. Twelve paced 4 MiB flows spread over both
 * site-a workers; one is killed while they run. The victim's flows are reset (the sender sees a reset, never a
 * wrong answer; the sink saw only correct bytes), the survivor's flows complete intact, and new flows succeed
 * through the survivor within a second.
 */
class WanoptKillChaosIT {

    private static final int FLOWS = 12;
    private static final int FLOW_BYTES = 4 << 20;
    private static final int CHUNK = 16 * 1024;

    @Test
    void wanoptWorkerKilledMidTransfer_victimFlowsResetCleanly_survivorFlowsIntact_newFlowsWithinOneSecond()
            throws Exception {
        long testStart = System.nanoTime();
        ExecutorService senders = Executors.newCachedThreadPool();
        try (DataStreams.Sink sink = new DataStreams.Sink(); Fleet fleet = Fleet.inTarget("WanoptKillChaosIT");
             DataPacer pacer = new DataPacer(20, 4)) {
            int sinkPort = sink.port();
            fleet.startController(FleetPolicy.newBuilder()
                    .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24"))
                    .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8"))
                    .addPolicies(FlowPolicy.newBuilder().setName("to-b").setIngressSite("a")
                            .setChain(ServiceChain.SERVICE_CHAIN_WANOPT)
                            .addDstPorts(PortRange.newBuilder().setFirst(sinkPort).setLast(sinkPort)))
                    .build());
            int gatewayPort = Ports.free();
            fleet.startWorker("gw-a", "gateway", "a", "--listen", gatewayPort + "=127.0.0.1:" + sinkPort);
            LocalWorkerProcess victim = fleet.startWorker("wan-a1", "wanopt", "a", "--steered-port", "0");
            fleet.startWorker("wan-a2", "wanopt", "a", "--steered-port", "0");
            fleet.startWorker("wan-b1", "wanopt", "b");
            fleet.awaitServingAndConfigured("gw-a", "wan-a1", "wan-a2", "wan-b1");
            // Both site-a workers carry flows to site b (their tunnels are up) before the scenario starts.
            long seed = 1000;
            await().atMost(Fleet.WAIT).until(() -> DataStreams.send(gatewayPort, System.nanoTime(), 64 * 1024)
                    == DataStreams.Outcome.INTACT && accepted(fleet, "wan-a1") > 0 && accepted(fleet, "wan-a2") > 0);
            // A worker resets steered flows until its tunnel to site b is up: both are up once ten in a row pass.
            await().atMost(Fleet.WAIT).until(() -> {
                for (int i = 0; i < 10; i++) {
                    if (DataStreams.send(gatewayPort, System.nanoTime(), 64 * 1024) != DataStreams.Outcome.INTACT) {
                        return false;
                    }
                }
                return true;
            });
            double a1Before = accepted(fleet, "wan-a1");
            double a2Before = accepted(fleet, "wan-a2");

            // Long paced flows, spread over both workers by bucket.
            List<CompletableFuture<DataStreams.Outcome>> longFlows = new ArrayList<>();
            List<AtomicLong> progress = new ArrayList<>();
            for (int i = 0; i < FLOWS; i++) {
                long s = seed++;
                AtomicLong mine = new AtomicLong();
                progress.add(mine);
                Runnable pace = pacer.sender();
                longFlows.add(CompletableFuture.supplyAsync(() -> DataStreams.send(gatewayPort, s, FLOW_BYTES, CHUNK,
                        () -> true, pace, mine, 30_000), senders));
            }
            // Every flow under way (past its first 512 KiB) and placed.
            await().atMost(Fleet.WAIT).until(() -> progress.stream().allMatch(p -> p.get() >= 512 * 1024)
                    && accepted(fleet, "wan-a1") + accepted(fleet, "wan-a2") - a1Before - a2Before >= FLOWS);
            int onVictim = (int) (accepted(fleet, "wan-a1") - a1Before);
            int onSurvivor = (int) (accepted(fleet, "wan-a2") - a2Before);
            assertThat(onVictim).as("flows on the victim").isPositive();
            assertThat(onSurvivor).as("flows on the survivor").isPositive();

            long killedAt = System.nanoTime();
            victim.kill();
            // New flows from now on: the first that succeeds, then 20 in a row.
            long firstGoodAt = 0;
            int consecutive = 0;
            int failedNew = 0;
            int wrongNew = 0;
            long deadline = killedAt + Duration.ofSeconds(15).toNanos();
            while (consecutive < 20 && System.nanoTime() < deadline) {
                DataStreams.Outcome o = DataStreams.send(gatewayPort, seed++, 64 * 1024);
                if (o == DataStreams.Outcome.INTACT) {
                    if (firstGoodAt == 0) {
                        firstGoodAt = System.nanoTime();
                    }
                    consecutive++;
                } else {
                    failedNew++;
                    wrongNew += o == DataStreams.Outcome.WRONG ? 1 : 0;
                    consecutive = 0;
                }
            }
            double recovery = (firstGoodAt - killedAt) / 1e9;

            CompletableFuture.allOf(longFlows.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            int intact = 0;
            int reset = 0;
            int wrong = 0;
            for (CompletableFuture<DataStreams.Outcome> f : longFlows) {
                switch (f.get()) {
                    case INTACT -> intact++;
                    case RESET -> reset++;
                    case WRONG -> wrong++;
                }
            }
            double seconds = (System.nanoTime() - testStart) / 1e9;
            System.out.printf(Locale.ROOT, "CHAOS wanopt-kill: recovery %.2f s (first new flow after kill -9), "
                            + "%.1f MiB checked, %d corrupted; long flows: %d on victim -> %d reset, %d on survivor "
                            + "-> %d intact, %d wrong answers; new flows failed before recovery: %d; test %.1f s%n",
                    recovery, sink.verifiedBytes.get() / 1048576.0, sink.corrupted.get() + wrong + wrongNew,
                    onVictim, reset, onSurvivor, intact, wrong, failedNew, seconds);

            assertThat(sink.corrupted.get()).as("streams with a wrong byte at the sink").isZero();
            assertThat(wrong + wrongNew).as("wrong answers to senders").isZero();
            assertThat(consecutive).as("20 consecutive new flows intact").isEqualTo(20);
            assertThat(recovery).as("seconds to the first good new flow").isLessThan(1.0);
            assertThat(intact).as("the survivor's flows complete intact").isEqualTo(onSurvivor);
            assertThat(reset).as("the victim's flows are reset").isEqualTo(onVictim);
            assertThat(victim.isAlive()).isFalse();
        } finally {
            senders.shutdownNow();
        }
    }

    private static double accepted(Fleet fleet, String id) throws Exception {
        return Metrics.sumExact(fleet.metrics(id), "slipstream_wanopt_steered_connections_total", "outcome=\"accepted\"");
    }
}
