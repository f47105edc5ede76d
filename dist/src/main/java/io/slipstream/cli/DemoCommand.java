package io.slipstream.cli;

import io.slipstream.tools.workload.Workloads;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code slipstream demo}: the whole system on one machine on embedded defaults. An embedded
 * ZooKeeper, the standalone controller and worker JVMs for two sites; the controller programs
 * them. Warm-up bulk transfers A -> B (the wanopt workers' emulated compression card fails in the
 * third), then a steady workload for {@code --duration} (near-duplicate and repeated bulk transfers,
 * Zipf web requests through the caches, and chained web requests to an origin behind site B whose misses
 * the caches send through the wanopt pair, {@code cache+wanopt}); half-way a cache worker is killed with
 * SIGKILL to show how fast it leaves the steering set; the rest are drained at the end. Then a load step on an autoscaled
 * fleet shows it grow and shrink ({@link ScaleScenario}). A live progress line ({@link DemoProgress})
 * runs throughout; prints the fleet and a report; {@code --json FILE} writes the report. This class holds
 * the options and what the demo runs; {@link DemoRun} plays the fleet's phases, {@link DemoReport} is what
 * they measured.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the fleet on embedded defaults (ZooKeeper, controller, worker JVMs) and report.")
final class DemoCommand implements Callable<Integer> {

    /** Site B's hosts (the bulk-transfer sink) on loopback; site A's clients use 127.0.0.1. */
    static final String SITE_B_HOST = "127.0.0.2";
    /** The web servers (the HTTP origin) on loopback. */
    static final String WEB_HOST = "127.0.0.3";
    /**
     * A web server behind site B (in its prefixes): site A's caches fetch it through the wanopt pair (policy
     * {@link #CHAIN_POLICY}, chain {@code cache+wanopt}).
     */
    static final String CHAIN_HOST = "127.0.0.4";
    static final String CHAIN_POLICY = "web-b";
    /** The bulk transfers' policy (site A to the sink behind site B, chain wanopt). */
    static final String BULK_POLICY = "bulk-to-b";

    static final String DEMO_POLICY = "{\n"
            + "  \"policies\": [\n"
            + "    {\"name\": \"bulk-to-b\", \"protocol\": \"tcp\", \"dstPrefixes\": [\"127.0.0.2/32\"],"
            + " \"chain\": \"wanopt\"},\n"
            + "    {\"name\": \"web\", \"protocol\": \"tcp\", \"dstPrefixes\": [\"127.0.0.3/32\"], \"chain\": \"cache\"},\n"
            + "    {\"name\": \"web-b\", \"protocol\": \"tcp\", \"dstPrefixes\": [\"127.0.0.4/32\"],"
            + " \"chain\": \"cache+wanopt\", \"peerUnavailable\": \"bypass\"},\n"
            + "    {\"name\": \"smb-to-dc\", \"srcPrefixes\": [\"198.18.1.0/24\"], \"dstPrefixes\": [\"198.18.2.0/24\"],\n"
            + "     \"protocol\": \"tcp\", \"dstPorts\": [445], \"chain\": \"wanopt\"}\n"
            + "  ],\n"
            + "  \"sites\": [{\"name\": \"b\", \"prefixes\": [\"127.0.0.2/32\", \"127.0.0.4/32\", \"198.18.2.0/24\"]}],\n"
            + "  \"compression\": {\"codec\": \"zstd\", \"level\": 3, \"minHardwareBlockBytes\": 1024},\n"
            + "  \"cache\": {\"maxBytes\": \"268435456\", \"maxObjectBytes\": \"16777216\"}\n"
            + "}\n";

    /** One worker of the demo fleet. */
    record FleetMember(String id, String role, String site) {
    }

    /** The demo fleet: site A's wanopt worker, two caches and the gateway; site B's wanopt worker. */
    static final List<FleetMember> FLEET = List.of(
            new FleetMember("wanopt-a1", "wanopt", "a"),
            new FleetMember("cache-a1", "cache", "a"),
            new FleetMember("cache-a2", "cache", "a"),
            new FleetMember("gateway-a1", "gateway", "a"),
            new FleetMember("wanopt-b1", "wanopt", "b"));
    static final String VICTIM = "cache-a2";
    static final String GATEWAY = "gateway-a1";
    static final String WAN_INGRESS = "wanopt-a1";
    static final String WAN_EGRESS = "wanopt-b1";
    /** The emulated WAN link between the sites. */
    static final int WAN_MBIT = 20;
    static final int WAN_DELAY_MILLIS = 40;
    static final int FILE_BYTES = 16 << 20;
    static final int HTTP_OBJECTS = 500;

    /**
     * The card emulator's fault plan on site A's wanopt worker (the one that compresses towards site B):
     * the device is lost during the third transfer, a fresh file (each fresh 16 MiB file is about
     * FILE_BYTES / 32 KiB chunks — the tunnel's average chunk — at most one card request each, since with a
     * hardware provider first literals go through the card one chunk at a time; the 1%-edited second version
     * travels as references and software-compressed deltas, adding at most a few per edit), and before that
     * one block in a thousand comes back corrupted.
     */
    static final int TUNNEL_AVERAGE_CHUNK = 32 * 1024;
    static final long CARD_FAILS_AT_REQUEST = FILE_BYTES / TUNNEL_AVERAGE_CHUNK * 3 / 2 + 2L * Workloads.EDITS;
    static final String CARD_FAULTS = "lose-device-at:" + CARD_FAILS_AT_REQUEST + ",corrupt-probability:0.001,seed:1";

    @Spec
    CommandSpec spec;

    @Option(names = "--duration", defaultValue = "2m",
            description = "How long the steady workload runs once the fleet serves, e.g. 60s, 2m (default: ${DEFAULT-VALUE})")
    String duration;

    @Option(names = "--json", description = "Write the report as JSON to this file")
    Path json;

    @Option(names = "--work-dir", description = "Where ZooKeeper data and worker logs go (default: a temporary directory)")
    Path workDir;

    @Option(names = "--skip-scale-step",
            description = "Skip the autoscaling part (a load step on an autoscaled fleet that grows and shrinks)")
    boolean skipScaleStep;

    @Option(names = "--quiet", description = "No live progress line (events and results are still printed)")
    boolean quiet;

    /** The story: the fleet's phases ({@link DemoRun}), the autoscaling part, then the report written once. */
    @Override
    public Integer call() throws Exception {
        Duration steadyFor = parseDuration(duration);
        PrintWriter out = spec.commandLine().getOut();
        Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("slipstream-demo");
        DemoReport.FleetRun fleetRun;
        try (DemoRun run = new DemoRun(out, dir)) {
            run.start(quiet);
            if (!run.awaitServing()) {
                return 1;
            }
            DemoReport.WarmUp warmUp = run.warmUp();
            DemoRun.Failover failover = run.steady(steadyFor);
            DemoReport.Traffic traffic = run.traffic(failover);
            DemoReport.Chain chain = run.chain(failover);
            DemoReport.Bulk bulk = run.bulkTotals();
            long fallbacks = run.compressionFallbacks();
            DemoReport.Fleet fleet = run.fleetAtEnd(steadyFor, failover);
            int stopped = run.drain();
            fleetRun = new DemoReport.FleetRun(warmUp, traffic, chain, bulk, fallbacks, fleet, stopped);
        }
        DemoReport report = new DemoReport(fleetRun, skipScaleStep ? null : scaleStep(out, dir.resolve("scale")));
        return report(out, report);
    }

    /**
     * Autoscaling: a separate fleet (own ZooKeeper and controller) whose site A wanopt workers the
     * autoscaler grows 1 -> 3 under a load step and shrinks back to 1 when it falls, draining the
     * leaving workers while flows are still open on them.
     */
    private static DemoReport.ScaleStep scaleStep(PrintWriter out, Path dir) throws Exception {
        out.println("autoscaling: a load step on an autoscaled local fleet (scale-out after 1 s of overload,"
                + " scale-in after 5 s of low load)");
        out.flush();
        return DemoReport.ScaleStep.of(new ScaleScenario(Duration.ofSeconds(1), Duration.ofSeconds(5), out).run(dir));
    }

    /** Prints the report, writes it with {@code --json}; exit 1 (with the reasons) when the run failed. */
    private int report(PrintWriter out, DemoReport report) throws IOException {
        List<String> failures = report.failures();
        report.print(out);
        if (json != null) {
            report.write(json);
            out.println("report written to " + json);
        }
        if (!failures.isEmpty()) {
            out.println("demo FAILED:");
            failures.forEach(f -> out.println("  - " + f));
            out.flush();
            return 1;
        }
        out.flush();
        return 0;
    }

    static Duration parseDuration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return positive(Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2))), text);
            } else if (t.endsWith("s")) {
                return positive(Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1))), text);
            } else if (t.endsWith("m")) {
                return positive(Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1))), text);
            }
            return positive(Duration.ofSeconds(Long.parseLong(t)), text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--duration: '" + text + "' (expected: e.g. 30s, 2m or 500ms)");
        }
    }

    private static Duration positive(Duration d, String text) {
        if (d.isNegative() || d.isZero() || d.compareTo(Duration.ofHours(24)) > 0) {
            throw new IllegalArgumentException("--duration: '" + text + "' (expected: more than 0, at most 24h)");
        }
        return d;
    }
}
