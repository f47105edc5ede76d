package io.slipstream.cli;

import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.LoadReport;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The demo's live progress display and event log. Once a second (on its own scheduled thread) it reads
 * the controller's view of the fleet and the clients' tally and shows the phase, the time, WAN and
 * application throughput (from the wanopt workers' load reports), the cache hit ratio so far and the
 * healthy workers: on a terminal as one line rewritten in place, otherwise as a plain line per second.
 * It also watches the load reports for compression fallbacks and hardware providers going unavailable,
 * and records them (and the events the demo reports itself) with their time in the run.
 */
final class DemoProgress implements AutoCloseable {

    private final PrintWriter out;
    private final boolean terminal;
    private final boolean quiet;
    private final Supplier<FleetSnapshot> fleet;
    private final DemoTally tally;
    private final LongSupplier originRequests;
    private final long startedNanos;
    private final List<DemoReport.Event> events = new ArrayList<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "demo-progress");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, Long> fallbacks = new HashMap<>();
    /** Hardware providers seen available, by worker/provider: only those can fail. */
    private final Set<String> available = new HashSet<>();
    private volatile String phase = "start";
    private volatile long phaseStartNanos;
    private volatile Duration phaseLength;
    private long lastNanos;
    private long lastApp = -1;
    private long lastWan = -1;
    private boolean lineOpen;
    private boolean closed;

    DemoProgress(PrintWriter out, boolean terminal, boolean quiet, Supplier<FleetSnapshot> fleet, DemoTally tally,
                 LongSupplier originRequests, long startedNanos) {
        this.out = out;
        this.terminal = terminal;
        this.quiet = quiet;
        this.fleet = fleet;
        this.tally = tally;
        this.originRequests = originRequests;
        this.startedNanos = startedNanos;
        this.phaseStartNanos = startedNanos;
    }

    void start() {
        ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /** Enters a phase; {@code length} (or null) is how long it is planned to last. */
    void phase(String name, Duration length) {
        phase = name;
        phaseLength = length;
        phaseStartNanos = System.nanoTime();
    }

    long phaseStartNanos() {
        return phaseStartNanos;
    }

    /** Records an event with its time in the run and prints it at once. */
    synchronized void event(String kind, String detail) {
        event(kind, detail, null);
    }

    /** Records the kill (or, with {@code kill} null, any event) with its time in the run and prints it at once. */
    synchronized void event(String kind, String detail, DemoReport.Kill kill) {
        double at = (System.nanoTime() - startedNanos) / 1e9;
        events.add(new DemoReport.Event(kind, at, detail, kill));
        breakLine();
        out.printf(Locale.ROOT, "  [%6.1f s] %s: %s%n", at, kind, detail);
        out.flush();
    }

    /** Prints a line of the demo's own output (ending the progress line first on a terminal). */
    synchronized void say(String line) {
        breakLine();
        out.println(line);
        out.flush();
    }

    /** The events so far, in the order they happened. */
    synchronized List<DemoReport.Event> events() {
        return List.copyOf(events);
    }

    /** Blocks moved from hardware compression to software, summed over every wanopt worker's latest report. */
    synchronized long compressionFallbacks() {
        observe(fleet.get());
        return fallbacks.values().stream().mapToLong(Long::longValue).sum();
    }

    private synchronized void tick() {
        try {
            FleetSnapshot s = fleet.get();
            observe(s);
            if (quiet) {
                return;
            }
            long now = System.nanoTime();
            long app = 0;
            long wan = 0;
            for (WorkerView v : s.workers()) {
                app += v.load().getWanoptAppBytes();
                wan += v.load().getWanoptWanBytes();
            }
            double dt = lastApp < 0 ? 0 : (now - lastNanos) / 1e9;
            double appRate = dt > 0 ? Math.max(0, app - lastApp) / dt / 1e6 : 0;
            double wanRate = dt > 0 ? Math.max(0, wan - lastWan) / dt / 1e6 : 0;
            lastNanos = now;
            lastApp = app;
            lastWan = wan;
            long requests = tally.httpRequests.get();
            String hit = requests == 0 ? "  -  " : String.format(Locale.ROOT, "%.3f",
                    Math.max(0, 1 - (double) originRequests.getAsLong() / requests));
            Duration length = phaseLength;
            String time = String.format(Locale.ROOT, "%4.0f s", (now - startedNanos) / 1e9)
                    + (length == null ? "" : String.format(Locale.ROOT, " (%s %.0f/%d s)", phase,
                    (now - phaseStartNanos) / 1e9, length.toSeconds()));
            String line = String.format(Locale.ROOT,
                    "%-8s %s | WAN %6.2f MB/s | app %6.2f MB/s | cache hit %s | healthy %d/%d | fallbacks %d",
                    phase, time, wanRate, appRate, hit, s.healthy().size(), s.workers().size(),
                    fallbacks.values().stream().mapToLong(Long::longValue).sum());
            if (terminal) {
                out.print("\r" + line + "\u001b[K");
                lineOpen = true;
            } else {
                out.println(line);
            }
            out.flush();
        } catch (RuntimeException e) {
            // a bad tick must not end the display: the next one tries again
        }
    }

    /** Fallback counts and hardware providers that went away, from the wanopt workers' load reports. */
    private void observe(FleetSnapshot s) {
        for (WorkerView v : s.workers()) {
            if (!v.record().role().equals("wanopt")) {
                continue;
            }
            LoadReport load = v.load();
            long hardwareFallbacks = 0;
            for (CompressionProviderState p : load.getCompressionList()) {
                if (!p.getHardware()) {
                    continue;
                }
                hardwareFallbacks += p.getFallbacks();
                String key = v.id() + "/" + p.getName();
                if (p.getAvailable()) {
                    available.add(key);
                } else if (available.remove(key)) {
                    event("card_failure", "compression card '" + p.getName() + "' on " + v.id() + " unavailable ("
                            + p.getReason() + "); blocks fall back to software, " + p.getFallbacks()
                            + " so far");
                }
            }
            fallbacks.merge(v.id(), hardwareFallbacks, Math::max);
        }
    }

    private void breakLine() {
        if (lineOpen) {
            out.println();
            lineOpen = false;
        }
    }

    /** Stops the ticker (waiting for a tick in progress), takes a last look at the fleet and ends the open line. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        ticker.shutdown();
        try {
            if (!ticker.awaitTermination(5, TimeUnit.SECONDS)) {
                ticker.shutdownNow();
            }
        } catch (InterruptedException e) {
            ticker.shutdownNow();
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            try {
                observe(fleet.get());
            } catch (RuntimeException e) {
                // the controller is already gone (a failed run): nothing more to see
            }
            breakLine();
            out.flush();
        }
    }
}
