package io.slipstream.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.e2e.Fleet;
import io.slipstream.e2e.Metrics;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.tools.net.Ports;
import io.slipstream.tools.net.ShapingRelay;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAccumulator;
import org.junit.jupiter.api.Test;

/**
 * A sustained overload: 32 senders push incompressible bytes as fast as they can for 30 s into a wanopt worker
 * capped at -Xmx256m whose only way to site b is a 4 MB/s emulated WAN link. The worker must not die or run out
 * of memory, its heap (sampled from its /metrics every 250 ms) stays under a bound, the senders are slowed down
 * (TCP back-pressure: they cannot send much faster than the link) instead of failing, every byte they sent
 * arrives intact once they stop, and afterwards the worker carries a normal transfer intact.
 */
class OverloadChaosIT {

    private static final int SENDERS = 32;
    private static final long LINK_BYTES_PER_SECOND = 4_000_000;
    private static final Duration OVERLOAD = Duration.ofSeconds(30);
    private static final long HEAP_BOUND = 192L << 20;

    @Test
    void sustainedOverload_workerStaysUpWithBoundedHeap_sendersSlowedNotFailed_everyByteIntact() throws Exception {
        long testStart = System.nanoTime();
        ExecutorService senders = Executors.newCachedThreadPool();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        AtomicBoolean overloading = new AtomicBoolean(true);
        int tunnelPortB = Ports.free();
        try (DataStreams.Sink sink = new DataStreams.Sink(); Fleet fleet = Fleet.inTarget("OverloadChaosIT");
             ShapingRelay wan = ShapingRelay.sharedLink(new InetSocketAddress("127.0.0.1", tunnelPortB),
                     LINK_BYTES_PER_SECOND, 10)) {
            fleet.startController(FleetPolicy.getDefaultInstance());
            int forwardPort = Ports.free();
            LocalWorkerProcess worker = fleet.startWorker("wan-a1", "wanopt", "a", List.of("-Xmx256m"),
                    "--forward", forwardPort + "=127.0.0.1:" + sink.port() + "@b");
            fleet.startWorker("wan-b1", "wanopt", "b", "--data-port", Integer.toString(tunnelPortB),
                    "--data-advertise", "127.0.0.1:" + wan.port());
            fleet.awaitServingAndConfigured("wan-a1", "wan-b1");
            await().atMost(Fleet.WAIT).until(() -> DataStreams.send(forwardPort, 1, 256 * 1024)
                    == DataStreams.Outcome.INTACT);
            long verifiedBefore = sink.verifiedBytes.get();

            DoubleAccumulator maxHeap = new DoubleAccumulator(Math::max, 0);
            DoubleAccumulator maxDirect = new DoubleAccumulator(Math::max, 0);
            AtomicLong samples = new AtomicLong();
            AtomicLong sent = new AtomicLong();
            // Bytes the senders have written that the sink has not yet verified, at each second of the overload.
            List<Long> inFlight = new java.util.concurrent.CopyOnWriteArrayList<>();
            long overloadStart = System.nanoTime();
            sampler.scheduleAtFixedRate(() -> inFlight.add(sent.get() - (sink.verifiedBytes.get() - verifiedBefore)),
                    1, 1, TimeUnit.SECONDS);
            sampler.scheduleWithFixedDelay(() -> {
                try {
                    String m = fleet.metrics("wan-a1");
                    maxHeap.accumulate(Metrics.sumExact(m, "jvm_memory_used_bytes", "area=\"heap\""));
                    maxDirect.accumulate(Metrics.sumExact(m, "jvm_buffer_memory_used_bytes", "id=\"direct\""));
                    samples.incrementAndGet();
                } catch (Exception e) {
                    System.out.println("CHAOS overload: /metrics not answered: " + e);
                }
            }, 0, 250, TimeUnit.MILLISECONDS);

            List<CompletableFuture<DataStreams.Outcome>> flows = new ArrayList<>();
            for (int i = 0; i < SENDERS; i++) {
                long seed = 100 + i;
                flows.add(CompletableFuture.supplyAsync(() -> DataStreams.send(forwardPort, seed, -1, 64 * 1024,
                        overloading::get, () -> { }, sent, 120_000), senders));
            }
            await().atMost(OVERLOAD.plusSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .until(() -> System.nanoTime() - overloadStart >= OVERLOAD.toNanos());
            overloading.set(false);
            double overloadSeconds = (System.nanoTime() - overloadStart) / 1e9;
            long sentDuringOverload = sent.get();
            boolean aliveUnderLoad = worker.isAlive();
            List<Long> series = new ArrayList<>(inFlight.subList(0, Math.min(inFlight.size(), (int) OVERLOAD.toSeconds())));
            long midway = series.get(series.size() / 2);
            long atStop = series.get(series.size() - 1);

            // The senders stop; what is still buffered drains over the link and every stream is checked.
            long drainStart = System.nanoTime();
            CompletableFuture.allOf(flows.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
            double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
            int intact = 0;
            int failed = 0;
            for (CompletableFuture<DataStreams.Outcome> f : flows) {
                if (f.get() == DataStreams.Outcome.INTACT) {
                    intact++;
                } else {
                    failed++;
                }
            }
            sampler.shutdownNow();

            // Afterwards a normal transfer goes through intact.
            long t0 = System.nanoTime();
            DataStreams.Outcome after = DataStreams.send(forwardPort, 7, 4 << 20);
            double afterSeconds = (System.nanoTime() - t0) / 1e9;

            double offered = sentDuringOverload / overloadSeconds;
            System.out.printf(Locale.ROOT, "CHAOS overload: recovery %.2f s (drain after the senders stop), "
                            + "%.1f MiB checked, %d corrupted; %d senders for %.1f s over a %.1f MB/s link: senders "
                            + "pushed %.2f MB/s, in flight %.1f MiB half-way and %.1f MiB at the stop; heap max %.1f MiB (bound %d MiB, "
                            + "-Xmx256m), direct max %.1f MiB, %d samples; %d/%d streams intact; 4 MiB transfer "
                            + "after: %s in %.2f s; test %.1f s%n",
                    drainSeconds, sink.verifiedBytes.get() / 1048576.0, sink.corrupted.get(), SENDERS, overloadSeconds,
                    LINK_BYTES_PER_SECOND / 1e6, offered / 1e6,
                    midway / 1048576.0, atStop / 1048576.0, maxHeap.get() / 1048576.0,
                    HEAP_BOUND >> 20, maxDirect.get() / 1048576.0, samples.get(), intact, SENDERS, after,
                    afterSeconds, (System.nanoTime() - testStart) / 1e9);

            assertThat(aliveUnderLoad).as("worker alive at the end of the overload").isTrue();
            assertThat(worker.isAlive()).as("worker alive after the drain").isTrue();
            assertThat(Fleet.logMentions(worker, "OutOfMemoryError")).as("OutOfMemoryError in the log").isFalse();
            assertThat(Fleet.logMentions(worker, "OutOfDirectMemoryError")).as("OutOfDirectMemoryError").isFalse();
            assertThat(samples.get()).as("heap samples").isGreaterThan(20);
            assertThat(maxHeap.get()).as("max heap used, bytes").isLessThan(HEAP_BOUND);
            assertThat(sink.corrupted.get()).as("corrupted streams").isZero();
            assertThat(failed).as("senders that failed instead of being slowed").isZero();
            // Back-pressure: senders cannot run far ahead of the link (what they pushed is at most the link's
            // share plus bounded buffers on the way).
            assertThat(offered).as("senders' rate, bytes/s").isLessThan(4.0 * LINK_BYTES_PER_SECOND);
            // ... and what is buffered on the way stops growing: the high-water mark of the second half of the
            // overload exceeds the first half's by less than a quarter of what the senders would add if they
            // were not held back (their surplus over the link's rate is at least the link's rate when
            // unbounded). High-water marks, not two samples: the bytes in flight swing by 20-35 MiB with a
            // period of a few seconds (kernel buffers of 32 connections behind one shared link), so a trough
            // half-way and a crest at the stop once differed by 14.5 MiB in a flat series.
            System.out.println("CHAOS overload: in flight each second, MiB: " + series.stream()
                    .map(b -> String.format(Locale.ROOT, "%.0f", b / 1048576.0)).toList());
            long firstHalfPeak = series.subList(0, series.size() / 2).stream().mapToLong(Long::longValue).max()
                    .orElseThrow();
            long secondHalfPeak = series.subList(series.size() / 2, series.size()).stream().mapToLong(Long::longValue)
                    .max().orElseThrow();
            assertThat(secondHalfPeak - firstHalfPeak).as("growth of the bytes in flight's peak in the second half")
                    .isLessThan(LINK_BYTES_PER_SECOND * OVERLOAD.toSeconds() / 2 / 4);
            assertThat(after).as("a normal transfer after the overload").isEqualTo(DataStreams.Outcome.INTACT);
        } finally {
            overloading.set(false);
            sampler.shutdownNow();
            senders.shutdownNow();
        }
    }
}
