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
import io.slipstream.tools.net.Ports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of a cache worker under HTTP load through the gateway: a gateway and two cache workers at site a in
 * front of an origin whose objects the clients can check. Four clients request random objects (one request per
 * connection, so each is routed by its own key) before, during and after the kill. Requests that fail are
 * counted by when they started; none may fail once the controller has taken the victim out, no body may be
 * wrong, and the victim's keys end up on the survivor (a full pass over every key afterwards is all hits:
 * the origin sees no request).
 */
class CacheKillChaosIT {

    private static final int OBJECTS = 200;
    private static final int CLIENTS = 4;

    private record Request(long startedNanos, long endedNanos, DataOrigin.Result result) {
    }

    @Test
    void cacheWorkerKilledUnderLoad_keysRehomed_noFailureAfterDetection_noWrongBody() throws Exception {
        long testStart = System.nanoTime();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        AtomicBoolean running = new AtomicBoolean(true);
        try (DataOrigin origin = new DataOrigin(); Fleet fleet = Fleet.inTarget("CacheKillChaosIT")) {
            int originPort = origin.port();
            fleet.startController(FleetPolicy.newBuilder()
                    .addPolicies(FlowPolicy.newBuilder().setName("web").setIngressSite("a")
                            .setChain(ServiceChain.SERVICE_CHAIN_CACHE)
                            .addDstPorts(PortRange.newBuilder().setFirst(originPort).setLast(originPort)))
                    .build());
            int gatewayPort = Ports.free();
            String originUrl = "http://127.0.0.1:" + originPort;
            fleet.startWorker("gw-a", "gateway", "a", "--listen", gatewayPort + "=127.0.0.1:" + originPort);
            LocalWorkerProcess victim = fleet.startWorker("cache-a1", "cache", "a", "--origin", originUrl);
            fleet.startWorker("cache-a2", "cache", "a", "--origin", originUrl);
            fleet.awaitServingAndConfigured("gw-a", "cache-a1", "cache-a2");
            AtomicLong bytes = new AtomicLong();
            await().atMost(Fleet.WAIT).until(() -> DataOrigin.get(gatewayPort, originPort, 0, bytes)
                    == DataOrigin.Result.OK);
            // Warm both caches: every object once (each lands on its owner).
            for (int n = 0; n < OBJECTS; n++) {
                assertThat(DataOrigin.get(gatewayPort, originPort, n, bytes)).as("object %d", n)
                        .isEqualTo(DataOrigin.Result.OK);
            }
            double victimKeys = Metrics.sumExact(fleet.metrics("cache-a1"), "slipstream_cache_store_keys");

            ConcurrentLinkedQueue<Request> log = new ConcurrentLinkedQueue<>();
            CountDownLatch done = new CountDownLatch(CLIENTS);
            for (int c = 0; c < CLIENTS; c++) {
                SplittableRandom random = new SplittableRandom(c);
                clients.execute(() -> {
                    try {
                        while (running.get()) {
                            long t0 = System.nanoTime();
                            DataOrigin.Result r = DataOrigin.get(gatewayPort, originPort, random.nextInt(OBJECTS),
                                    bytes);
                            log.add(new Request(t0, System.nanoTime(), r));
                        }
                    } finally {
                        done.countDown();
                    }
                });
            }
            await().atMost(Fleet.WAIT).until(() -> log.size() >= 200);

            AtomicLong detectedAt = new AtomicLong();
            fleet.controller.fleet().addListener(s -> {
                if (!s.healthy().contains("cache-a1")) {
                    detectedAt.compareAndSet(0, System.nanoTime());
                }
            });
            long killedAt = System.nanoTime();
            victim.kill();
            await().atMost(Duration.ofSeconds(10)).until(() -> detectedAt.get() != 0);
            // Load goes on for a while after the survivor has been told it owns every key.
            long loadUntil = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            await().atMost(Duration.ofSeconds(20)).until(() -> System.nanoTime() > loadUntil);
            running.set(false);
            assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();

            // The victim's keys now live on the survivor: after one more pass, a second pass is all hits.
            for (int n = 0; n < OBJECTS; n++) {
                assertThat(DataOrigin.get(gatewayPort, originPort, n, bytes)).as("object %d after", n)
                        .isEqualTo(DataOrigin.Result.OK);
            }
            long originBefore = origin.requests.get();
            for (int n = 0; n < OBJECTS; n++) {
                assertThat(DataOrigin.get(gatewayPort, originPort, n, bytes)).as("object %d re-homed", n)
                        .isEqualTo(DataOrigin.Result.OK);
            }
            long originDuringFinalPass = origin.requests.get() - originBefore;

            List<Request> all = new ArrayList<>(log);
            long failedBeforeDetection = 0;
            long failedAfterDetection = 0;
            long wrong = 0;
            long lastFailureEnd = killedAt;
            long afterKill = 0;
            for (Request r : all) {
                if (r.startedNanos >= killedAt || r.endedNanos >= killedAt) {
                    afterKill++;
                }
                if (r.result == DataOrigin.Result.WRONG_BODY) {
                    wrong++;
                }
                if (r.result != DataOrigin.Result.OK) {
                    if (r.startedNanos >= detectedAt.get()) {
                        failedAfterDetection++;
                    } else {
                        failedBeforeDetection++;
                    }
                    lastFailureEnd = Math.max(lastFailureEnd, r.endedNanos);
                }
            }
            double detection = (detectedAt.get() - killedAt) / 1e9;
            double recovery = (lastFailureEnd - killedAt) / 1e9;
            System.out.printf(Locale.ROOT, "CHAOS cache-kill: recovery %.2f s (last failed request after kill -9; "
                            + "detection %.2f s), %.1f MiB checked, %d corrupted; %d requests (%d during/after the "
                            + "kill), %d failed before detection, %d after; victim held %.0f keys; origin requests "
                            + "in the final pass %d; test %.1f s%n",
                    recovery, detection, bytes.get() / 1048576.0, wrong, all.size(), afterKill,
                    failedBeforeDetection, failedAfterDetection, victimKeys, originDuringFinalPass,
                    (System.nanoTime() - testStart) / 1e9);

            assertThat(wrong).as("responses with a wrong body").isZero();
            assertThat(failedAfterDetection).as("requests failed after detection").isZero();
            assertThat(victimKeys).as("keys the victim held").isPositive();
            assertThat(originDuringFinalPass).as("origin requests once every key is re-homed").isZero();
            assertThat(detection).as("detection seconds").isLessThan(5.0);
        } finally {
            running.set(false);
            clients.shutdownNow();
        }
    }
}
