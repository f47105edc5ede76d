package io.slipstream.cli;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.standalone.FleetJson;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a demo run measured, built once at its end from what each phase returned: printed as the summary and
 * written by {@code --json FILE}. In JSON the sections are flattened into one object with snake_case keys
 * (docs/demo.md says what each means); only {@code transfers}, {@code workers}, {@code events} and
 * {@code scale} nest.
 *
 * @param fleetRun  the fleet part: warm-up, steady workload with the kill, totals, the fleet at the end
 * @param scaleStep the autoscaling part; null with {@code --skip-scale-step} (its keys are then absent)
 */
record DemoReport(@JsonUnwrapped FleetRun fleetRun, @JsonUnwrapped ScaleStep scaleStep) {

    private static final ObjectMapper JSON = FleetJson.mapper().copy()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    /** The fleet part of the run, in the order its phases measured it. */
    record FleetRun(@JsonUnwrapped WarmUp warmUp, @JsonUnwrapped Traffic traffic, Chain chain,
                    @JsonUnwrapped Bulk bulk, long compressionFallbacks, @JsonUnwrapped Fleet fleet,
                    int workersStoppedCleanly) {
    }

    /** The edited file over the same kind of link without Slipstream, against with it. */
    record WarmUp(double wanSpeedup, double secondsWithoutSlipstream) {
    }

    /**
     * The clients' HTTP requests through the gateway and site A's caches over the run. The kill window runs from
     * the SIGKILL to the gateway's re-steer (-1: it never re-steered); the data-plane failover to the first
     * successful GET of a key the killed worker owned (-1: none).
     */
    record Traffic(double gatewayConnections, long httpRequests, long httpFailures, long httpFailuresInKillWindow,
                   long httpFailuresUnexpected, double killWindowSeconds, double failoverDataPlaneSeconds,
                   double cacheHitRatio, long originRequests, long originBytes, double originBytesSavedRatio,
                   double latencyMsP50, double latencyMsP99) {
    }

    /**
     * The chained web traffic of the steady phase (policy {@code web-b}, chain {@code cache+wanopt}): clients at
     * site A, through the gateway and site A's caches, to the origin behind site B, whose objects change a little
     * every few seconds; the caches fetch it through the wanopt pair.
     *
     * @param requests          the clients' requests
     * @param hits              requests the origin did not see (requests minus origin requests, 304s included)
     * @param missesViaTunnel   origin fetches the caches sent through a wanopt worker
     *                          ({@code slipstream.cache.chain.fetches{route="tunnel"}}, summed over the caches)
     * @param bypassed          fetches the policy covered that went directly ({@code route="bypass"})
     * @param hopFailures       connections to a wanopt worker that failed ({@code slipstream.cache.chain.hop.failures})
     * @param notModified       revalidations the origin answered 304
     * @param objectChanges     rounds of object changes at the origin during the run
     * @param originBytes       body bytes the caches received from the origin through the tunnel
     *                          ({@code slipstream.cache.chain.origin.bytes})
     * @param wanBytes          bytes the wanopt pair put on the WAN for the policy, both directions
     *                          ({@code slipstream.wanopt.bytes.wan{policy="web-b"}} of both wanopt workers)
     * @param wanRatio          {@code wanBytes / originBytes}
     * @param failuresInKillWindow failed requests from the SIGKILL of the cache until the gateway re-steered
     * @param failuresUnexpected every other failed request (non-200, wrong or short body, exception); must be 0
     */
    record Chain(long requests, long hits, long missesViaTunnel, long bypassed, long hopFailures, long notModified,
                 long objectChanges, long originBytes, long wanBytes, double wanRatio, long failuresInKillWindow,
                 long failuresUnexpected) {
    }

    /** The bulk transfers A -> B: WAN against application bytes, and what the digest checks found. */
    record Bulk(List<Transfer> transfers, long appBytes, long wanBytes, double wanReductionRatio, long bulkTransfers,
                long bulkBytesSent, long bulkBytesReceived, long transferRetries, long corruptedBytes, long lostBytes,
                double repeatWanRatioFirst, double repeatWanRatioLast) {
    }

    /** One bulk transfer through Slipstream. */
    record Transfer(String name, int bytes, long wanBytes, double seconds, boolean intact) {
    }

    /**
     * The run's timings and the fleet at its end; {@code workers} as the controller's API renders them
     * ({@link FleetJson#worker}).
     */
    record Fleet(double durationSeconds, long steadySeconds, String zookeeper, double servingSeconds,
                 double failoverSeconds, long generation, List<ObjectNode> workers, List<Event> events) {
    }

    /** Something that happened, with its time in the run; {@code kill} only for the kill (else null). */
    record Event(String event, double atSeconds, String detail, @JsonUnwrapped Kill kill) {
    }

    /** The kill: which worker, and whether and how fast it left the steering set. */
    record Kill(String worker, boolean detected, double detectionSeconds) {
    }

    /** The autoscaling part: a load step on a separate autoscaled fleet ({@link ScaleScenario}). */
    record ScaleStep(double scaleOutSeconds, double scaleInSeconds, Scale scale) {

        static ScaleStep of(ScaleScenario.Result r) {
            return new ScaleStep(r.scaleOutSeconds, r.scaleInSeconds, new Scale(r.coldStartSeconds,
                    r.stepToDecisionSeconds, r.decisionToServingSeconds, r.decisionToTrafficSeconds,
                    r.dropToDecisionSeconds, r.peakReplicas, r.finalReplicas, r.flows, r.flowsIntact,
                    List.copyOf(r.timeline)));
        }
    }

    /** The autoscaling part's details. */
    record Scale(double coldStartSeconds, double stepToDecisionSeconds, double decisionToServingSeconds,
                 double decisionToTrafficSeconds, double dropToDecisionSeconds, int peakReplicas, int finalReplicas,
                 int flows, int flowsIntact, List<String> timeline) {
    }

    /** What went wrong in the run (empty when nothing did): lost or corrupted bytes, unexpected HTTP failures. */
    @JsonProperty("failures")
    List<String> failures() {
        Bulk bulk = fleetRun.bulk();
        Traffic traffic = fleetRun.traffic();
        List<String> reasons = new ArrayList<>();
        if (bulk.lostBytes() > 0) {
            reasons.add(bulk.lostBytes() + " bulk bytes lost (a transfer never got through or"
                    + " arrived short; see the WAN transfer lines)");
        }
        if (bulk.corruptedBytes() > 0) {
            reasons.add(bulk.corruptedBytes() + " bulk bytes arrived with a wrong digest");
        }
        if (traffic.httpFailuresUnexpected() > 0) {
            reasons.add(traffic.httpFailuresUnexpected() + " HTTP requests failed outside the kill"
                    + " window (from the SIGKILL to the gateway's re-steer)");
        }
        Chain chain = fleetRun.chain();
        if (chain.failuresUnexpected() > 0) {
            reasons.add(chain.failuresUnexpected() + " chained HTTP requests (cache+wanopt, origin behind site B)"
                    + " failed outside the kill window");
        }
        if (chain.missesViaTunnel() == 0) {
            reasons.add("no chained miss went through the wanopt pair (cache+wanopt)");
        }
        if (traffic.killWindowSeconds() < 0) {
            reasons.add("the gateway never got a steering table without the killed worker");
        }
        if (traffic.failoverDataPlaneSeconds() < 0) {
            reasons.add("no key the killed worker owned was served again");
        }
        return reasons;
    }

    /** The report as JSON (indented, as the controller's API writes). */
    String toJson() throws JsonProcessingException {
        return JSON.writeValueAsString(this);
    }

    /** Writes {@link #toJson()} and a newline to {@code file}, creating its directory. */
    void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson() + "\n");
    }

    /** The summary a person reads at the end of the run. */
    void print(PrintWriter out) {
        WarmUp warmUp = fleetRun.warmUp();
        Traffic traffic = fleetRun.traffic();
        Bulk bulk = fleetRun.bulk();
        Fleet fleet = fleetRun.fleet();
        out.println("report:");
        out.printf(Locale.ROOT, "  fleet serving and configured after   %.2f s%n", fleet.servingSeconds());
        out.printf(Locale.ROOT, "  killed worker out of steering after  %.0f ms%n", fleet.failoverSeconds() * 1000);
        out.printf(Locale.ROOT, "  workers drained and stopped cleanly  %d%n", fleetRun.workersStoppedCleanly());
        out.printf(Locale.ROOT, "  WAN bytes / application bytes        %.3f (%d of %d bytes)%n",
                bulk.wanReductionRatio(), bulk.wanBytes(), bulk.appBytes());
        out.printf(Locale.ROOT, "  edited file over the WAN: speed-up   %.1fx%n", warmUp.wanSpeedup());
        out.printf(Locale.ROOT, "  cache hit ratio                      %.3f (origin bytes saved %.3f)%n",
                traffic.cacheHitRatio(), traffic.originBytesSavedRatio());
        out.printf(Locale.ROOT, "  HTTP latency p50 / p99                %.2f / %.2f ms%n",
                traffic.latencyMsP50(), traffic.latencyMsP99());
        out.printf(Locale.ROOT, "  HTTP failed in the kill window (%.0f ms) %d; unexpected %d; of %d%n",
                traffic.killWindowSeconds() * 1000, traffic.httpFailuresInKillWindow(),
                traffic.httpFailuresUnexpected(), traffic.httpRequests());
        Chain chain = fleetRun.chain();
        out.printf(Locale.ROOT, "  chained web (cache+wanopt, site B)   %d requests, %d hits, %d misses via the"
                        + " tunnel; origin %d bytes, WAN %d bytes (%.3f); failed %d in the kill window,"
                        + " unexpected %d%n", chain.requests(), chain.hits(), chain.missesViaTunnel(),
                chain.originBytes(), chain.wanBytes(), chain.wanRatio(), chain.failuresInKillWindow(),
                chain.failuresUnexpected());
        out.printf(Locale.ROOT, "  a killed worker's key served again   %.0f ms after the SIGKILL%n",
                traffic.failoverDataPlaneSeconds() * 1000);
        out.printf(Locale.ROOT, "  bulk transfers checked by digest     %d (%d bytes sent, %d received)%n",
                bulk.bulkTransfers(), bulk.bulkBytesSent(), bulk.bulkBytesReceived());
        out.printf(Locale.ROOT, "  corrupted bytes / lost bytes         %d / %d%n", bulk.corruptedBytes(),
                bulk.lostBytes());
        out.printf(Locale.ROOT, "  compression fallbacks to software    %d%n", fleetRun.compressionFallbacks());
        out.printf(Locale.ROOT, "  configuration generation             %d%n", fleet.generation());
        if (scaleStep != null) {
            Scale scale = scaleStep.scale();
            out.printf(Locale.ROOT, "  autoscaling 1 -> %d after load step   %.2f s (decision %.2f s after the step)%n",
                    scale.peakReplicas(), scaleStep.scaleOutSeconds(), scale.stepToDecisionSeconds());
            out.printf(Locale.ROOT, "  autoscaling back to %d after drop     %.2f s, %d of %d flows intact%n",
                    scale.finalReplicas(), scaleStep.scaleInSeconds(), scale.flowsIntact(), scale.flows());
            out.printf(Locale.ROOT, "  worker cold start to serving         %.2f s%n", scale.coldStartSeconds());
        }
        out.flush();
    }
}
