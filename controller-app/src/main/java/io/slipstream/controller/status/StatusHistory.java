package io.slipstream.controller.status;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.fleet.FleetEvent;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.scale.ScaleDecision;
import io.slipstream.proto.v1.LoadReport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The fleet's figures over the last {@code capacity} samples (900 one-second samples: 15 minutes), kept in
 * fixed arrays so memory is bounded whatever runs: WAN application and WAN bytes per second and their ratio
 * per site, cache lookups, origin requests, hit ratio and origin bytes per second, open flows and received
 * bytes per second per role, serving workers per role and per site, and per worker its own load (for the
 * worker's page). Scaling decisions, worker deaths ({@code down} events), card failures
 * ({@code compression_unavailable}) and configuration changes (a new generation) become markers on the time
 * axis.
 *
 * <p>Rates come from the workers' cumulative load-report counters: each new report (a new
 * {@code timestamp_millis}) gives the counter growth over the time between the worker's two reports; that rate
 * holds until the next report, and drops to 0 once the latest report is older than {@link #STALE_REPORT}. A
 * counter that shrank means the worker restarted: its value is the growth since.
 *
 * <p>Memory: one {@code float} per series and sample; {@code 4 * sites + 3 * roles + 4} fleet series and 4 per
 * worker, at most {@code maxWorkers} workers tracked (more are counted in {@code untracked_workers}, not
 * charted), at most {@link #MAX_MARKERS} markers. {@link #memoryBytes()} estimates it. Thread-safe (every method
 * synchronized); sampled by one timer, read by HTTP threads.
 */
public final class StatusHistory {

    public static final int DEFAULT_CAPACITY = 900;
    public static final int DEFAULT_MAX_WORKERS = 1000;
    static final int MAX_MARKERS = 256;
    /** A worker whose latest report is older than this adds no rate. */
    static final Duration STALE_REPORT = Duration.ofSeconds(5);
    /** Per worker: received bytes/s, sent bytes/s, open flows, CPU. */
    private static final String[] WORKER_FIELDS = {"bytes_in_per_second", "bytes_out_per_second", "active_flows", "cpu"};

    /** The charts, in page order: id, title, unit. */
    private static final String[][] CHARTS = {
        {"wan_bytes", "WAN optimizer: application and WAN bytes/s by site", "bytes/s"},
        {"wan_ratio", "WAN / application bytes by site", "ratio"},
        {"cache_requests", "Cache lookups and origin requests/s", "req/s"},
        {"cache_hit_ratio", "Cache hit ratio", "ratio"},
        {"cache_origin_bytes", "Cache origin bytes/s", "bytes/s"},
        {"role_flows", "Open flows by role", "flows"},
        {"role_throughput", "Received bytes/s by role", "bytes/s"},
        {"fleet_size", "Serving workers by role and site", "workers"},
    };

    private final Clock clock;
    private final int capacity;
    private final int maxWorkers;
    private final Instant startedAt;
    private final long[] times;
    private int count;
    private int head;
    private long sequence;
    private final Map<String, Series> series = new TreeMap<>();
    private final Map<String, Track> tracks = new HashMap<>();
    private int untracked;
    private final Deque<Marker> markers = new ArrayDeque<>();
    private final Map<String, Long> seenEvents = new LinkedHashMap<>();
    private long generation = -1;

    /** A history of 15 minutes at one sample a second for up to 1000 workers. */
    public StatusHistory(Clock clock) {
        this(clock, DEFAULT_CAPACITY, DEFAULT_MAX_WORKERS);
    }

    public StatusHistory(Clock clock, int capacity, int maxWorkers) {
        if (capacity < 2 || capacity > 86_400) {
            throw new IllegalArgumentException("capacity: " + capacity + " (expected: 2..86400 samples)");
        }
        if (maxWorkers < 1) {
            throw new IllegalArgumentException("maxWorkers: " + maxWorkers + " (expected: > 0)");
        }
        this.clock = clock;
        this.capacity = capacity;
        this.maxWorkers = maxWorkers;
        this.startedAt = clock.instant();
        this.times = new long[capacity];
    }

    /** A marker on the time axis: when, what kind (death, card, scaling, config), which worker ("" for the fleet). */
    public static final class Marker {
        private final Instant at;
        private final String kind;
        private final String worker;
        private final String text;

        Marker(Instant at, String kind, String worker, String text) {
            this.at = at;
            this.kind = kind;
            this.worker = worker;
            this.text = text;
        }

        public Instant at() {
            return at;
        }

        public String kind() {
            return kind;
        }

        public String worker() {
            return worker;
        }

        public String text() {
            return text;
        }
    }

    private static final class Series {
        final String chart;
        final String label;
        final float[] values;
        long lastSeen;

        Series(String chart, String label, int capacity) {
            this.chart = chart;
            this.label = label;
            this.values = new float[capacity];
            Arrays.fill(values, Float.NaN);
        }
    }

    private static final class Track {
        final String role;
        final String site;
        final float[][] values;
        long lastSeen;
        long reportMillis;
        final long[] counters = new long[6];
        final double[] rates = new double[6];

        Track(String role, String site, int capacity) {
            this.role = role;
            this.site = site;
            this.values = new float[WORKER_FIELDS.length][capacity];
            for (float[] v : values) {
                Arrays.fill(v, Float.NaN);
            }
        }
    }

    // Counter indexes in Track.counters / rates.
    private static final int APP = 0;
    private static final int WAN = 1;
    private static final int HITS = 2;
    private static final int LOOKUPS = 3;
    private static final int ORIGIN_REQUESTS = 4;
    private static final int ORIGIN_BYTES = 5;

    /**
     * Takes one sample at the clock's now: the workers in the directory, the configuration generation, the
     * fleet's recent events and the autoscaler's latest decisions (new ones become markers).
     */
    public synchronized void sample(List<WorkerView> workers, long currentGeneration, List<FleetEvent> events,
                                    List<ScaleDecision> decisions) {
        Instant now = clock.instant();
        long nowMillis = now.toEpochMilli();
        int slot = head;
        times[slot] = nowMillis;
        head = (head + 1) % capacity;
        count = Math.min(count + 1, capacity);
        sequence++;
        for (Series s : series.values()) {
            s.values[slot] = Float.NaN;
        }
        for (Track t : tracks.values()) {
            for (float[] v : t.values) {
                v[slot] = Float.NaN;
            }
        }
        Map<String, double[]> sites = new TreeMap<>();
        Map<String, double[]> roles = new TreeMap<>();
        double[] cache = new double[4];
        for (WorkerView w : workers) {
            String role = w.record().role();
            String site = w.record().site();
            double[] bySite = sites.computeIfAbsent(site, k -> new double[3]);
            double[] byRole = roles.computeIfAbsent(role, k -> new double[3]);
            if (w.healthy()) {
                bySite[2]++;
                byRole[2]++;
            }
            Track t = track(w.id(), role, site);
            if (t == null) {
                continue;
            }
            LoadReport load = w.load();
            updateRates(t, load, nowMillis);
            t.values[0][slot] = (float) load.getBytesInPerSecond();
            t.values[1][slot] = (float) load.getBytesOutPerSecond();
            t.values[2][slot] = load.getActiveFlows();
            t.values[3][slot] = (float) load.getCpu();
            bySite[0] += t.rates[APP];
            bySite[1] += t.rates[WAN];
            byRole[0] += load.getActiveFlows();
            byRole[1] += load.getBytesInPerSecond();
            cache[0] += t.rates[HITS];
            cache[1] += t.rates[LOOKUPS];
            cache[2] += t.rates[ORIGIN_REQUESTS];
            cache[3] += t.rates[ORIGIN_BYTES];
        }
        // A series the window still shows but nobody feeds now: 0 for counts and rates, a gap for ratios.
        for (Series s : series.values()) {
            if (!s.chart.endsWith("_ratio")) {
                s.values[slot] = 0;
            }
        }
        sites.forEach((site, v) -> {
            put("wan_bytes", "wan.app." + site, "site " + site + " application bytes/s", slot, v[0]);
            put("wan_bytes", "wan.wan." + site, "site " + site + " WAN bytes/s", slot, v[1]);
            if (v[0] > 0) {
                put("wan_ratio", "wan.ratio." + site, "site " + site + " WAN / application", slot, v[1] / v[0]);
            }
            put("fleet_size", "size.site." + site, "site " + site, slot, v[2]);
        });
        roles.forEach((role, v) -> {
            put("role_flows", "flows." + role, role, slot, v[0]);
            put("role_throughput", "throughput." + role, role, slot, v[1]);
            put("fleet_size", "size.role." + role, "role " + role, slot, v[2]);
        });
        if (roles.containsKey("cache")) {
            put("cache_requests", "cache.lookups", "lookups/s", slot, cache[1]);
            put("cache_requests", "cache.origin_requests", "origin requests/s", slot, cache[2]);
            put("cache_origin_bytes", "cache.origin_bytes", "origin bytes/s", slot, cache[3]);
            if (cache[1] > 0) {
                put("cache_hit_ratio", "cache.hit_ratio", "hit ratio", slot, Math.min(1, cache[0] / cache[1]));
            }
        }
        markEvents(now, events, decisions, currentGeneration);
        forgetOld();
    }

    private Track track(String id, String role, String site) {
        Track t = tracks.get(id);
        if (t == null) {
            if (tracks.size() >= maxWorkers) {
                untracked++;
                return null;
            }
            t = new Track(role, site, capacity);
            tracks.put(id, t);
        }
        t.lastSeen = sequence;
        return t;
    }

    private static void updateRates(Track t, LoadReport load, long nowMillis) {
        long[] current = {load.getWanoptAppBytes(), load.getWanoptWanBytes(), load.getCacheHits(),
            load.getCacheLookups(), load.getCacheOriginRequests(), load.getCacheOriginBytes()};
        long reported = load.getTimestampMillis();
        if (reported != t.reportMillis && reported > 0) {
            if (t.reportMillis > 0 && reported > t.reportMillis) {
                double seconds = (reported - t.reportMillis) / 1000.0;
                for (int i = 0; i < current.length; i++) {
                    // A counter that shrank: the worker restarted, and what it shows is the growth since.
                    long grown = current[i] >= t.counters[i] ? current[i] - t.counters[i] : current[i];
                    t.rates[i] = grown / seconds;
                }
            } else {
                Arrays.fill(t.rates, 0);
            }
            t.reportMillis = reported;
            System.arraycopy(current, 0, t.counters, 0, current.length);
        }
        if (reported <= 0 || nowMillis - t.reportMillis > STALE_REPORT.toMillis()) {
            Arrays.fill(t.rates, 0);
        }
    }

    private void put(String chart, String key, String label, int slot, double value) {
        Series s = series.computeIfAbsent(key, k -> new Series(chart, label, capacity));
        s.values[slot] = (float) value;
        s.lastSeen = sequence;
    }

    private void markEvents(Instant now, List<FleetEvent> events, List<ScaleDecision> decisions, long currentGeneration) {
        long oldest = now.toEpochMilli() - (long) capacity * 1000;
        for (FleetEvent e : events) {
            String kind = "down".equals(e.kind()) ? "death"
                    : "compression_unavailable".equals(e.kind()) ? "card" : null;
            if (kind != null && e.at().toEpochMilli() >= oldest
                    && seenEvents.putIfAbsent(e.at() + "|" + e.workerId() + "|" + e.kind() + "|" + e.detail(),
                    e.at().toEpochMilli()) == null) {
                mark(new Marker(e.at(), kind, e.workerId(), e.workerId() + " " + e.kind()
                        + (e.detail().isEmpty() ? "" : ": " + e.detail())));
            }
        }
        for (ScaleDecision d : decisions) {
            if (d.current() != d.desired() && d.at().toEpochMilli() >= oldest
                    && seenEvents.putIfAbsent(d.at() + "|scaling|" + d.role() + "|" + d.site(),
                    d.at().toEpochMilli()) == null) {
                mark(new Marker(d.at(), "scaling", "", d.role() + " at site " + d.site() + ": " + d.current() + " -> "
                        + d.desired() + " (" + d.reason().tag() + ")"));
            }
        }
        if (generation >= 0 && currentGeneration != generation) {
            mark(new Marker(now, "config", "", "configuration generation " + generation + " -> " + currentGeneration));
        }
        generation = currentGeneration;
        seenEvents.values().removeIf(at -> at < oldest);
    }

    private void mark(Marker m) {
        markers.addLast(m);
        while (markers.size() > MAX_MARKERS) {
            markers.removeFirst();
        }
    }

    private void forgetOld() {
        long window = capacity;
        series.values().removeIf(s -> sequence - s.lastSeen >= window);
        tracks.values().removeIf(t -> sequence - t.lastSeen >= window);
        long oldest = count == 0 ? 0 : times[(head - count + capacity) % capacity];
        while (!markers.isEmpty() && markers.peekFirst().at().toEpochMilli() < oldest) {
            markers.removeFirst();
        }
    }

    /** Role of a worker seen in the window, or {@code null}. */
    public synchronized String roleOf(String workerId) {
        Track t = tracks.get(workerId);
        return t == null ? null : t.role;
    }

    /** Roles of the workers seen in the window, by id. */
    public synchronized Map<String, String> roles() {
        Map<String, String> roles = new TreeMap<>();
        tracks.forEach((id, t) -> roles.put(id, t.role));
        return roles;
    }

    public synchronized List<Marker> markers() {
        return List.copyOf(markers);
    }

    /** Samples held now (at most the capacity). */
    public synchronized int size() {
        return count;
    }

    /** Values of one fleet series, oldest first ({@code NaN}: no value), or {@code null} for an unknown key. */
    public synchronized float[] values(String key) {
        Series s = series.get(key);
        return s == null ? null : ordered(s.values);
    }

    /** One of a worker's series ({@code bytes_in_per_second}, ...), oldest first, or {@code null}. */
    public synchronized float[] workerValues(String workerId, String field) {
        Track t = tracks.get(workerId);
        int i = Arrays.asList(WORKER_FIELDS).indexOf(field);
        return t == null || i < 0 ? null : ordered(t.values[i]);
    }

    private float[] ordered(float[] ring) {
        float[] out = new float[count];
        int start = (head - count + capacity) % capacity;
        for (int i = 0; i < count; i++) {
            out[i] = ring[(start + i) % capacity];
        }
        return out;
    }

    /**
     * Bytes the arrays hold now: sample times, one {@code float} per series and sample, markers counted at
     * 200 bytes each. A fleet of 100 workers at 2 sites and 2 roles: (8 + 4 * 18 + 4 * 4 * 100) * 900 =
     * 1 512 000 bytes plus markers, about 1.5 MB (see {@code StatusHistoryTest}).
     */
    public synchronized long memoryBytes() {
        long perSample = 8L + 4L * series.size() + 4L * WORKER_FIELDS.length * tracks.size();
        return perSample * capacity + 200L * markers.size();
    }

    /**
     * The history as the page reads it: {@code t} (sample times, epoch milliseconds, oldest first), {@code
     * charts} (id, title, unit, series with key, label and values; {@code null} where there is no value),
     * {@code markers} (at, kind, worker, text), and the figures behind the bounds.
     */
    public synchronized ObjectNode toJson() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("started_at", startedAt.toString());
        root.put("interval_ms", 1000);
        root.put("capacity", capacity);
        root.put("max_workers", maxWorkers);
        root.put("untracked_workers", untracked);
        root.put("memory_bytes", memoryBytes());
        ArrayNode t = root.putArray("t");
        int start = (head - count + capacity) % capacity;
        for (int i = 0; i < count; i++) {
            t.add(times[(start + i) % capacity]);
        }
        ArrayNode charts = root.putArray("charts");
        for (String[] c : CHARTS) {
            ObjectNode chart = charts.addObject().put("id", c[0]).put("title", c[1]).put("unit", c[2]);
            ArrayNode list = chart.putArray("series");
            series.forEach((key, s) -> {
                if (s.chart.equals(c[0])) {
                    values(list.addObject().put("key", key).put("label", s.label).putArray("values"), ordered(s.values));
                }
            });
        }
        markers(root.putArray("markers"), markers);
        return root;
    }

    /** One worker's load history and markers, as {@link #toJson()}; {@code null} if the window never saw it. */
    public synchronized ObjectNode workerJson(String workerId) {
        Track track = tracks.get(workerId);
        if (track == null) {
            return null;
        }
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("role", track.role).put("site", track.site);
        ArrayNode t = root.putArray("t");
        int start = (head - count + capacity) % capacity;
        for (int i = 0; i < count; i++) {
            t.add(times[(start + i) % capacity]);
        }
        ObjectNode series = root.putObject("series");
        for (int i = 0; i < WORKER_FIELDS.length; i++) {
            values(series.putArray(WORKER_FIELDS[i]), ordered(track.values[i]));
        }
        markers(root.putArray("markers"), markers.stream().filter(m -> m.worker().isEmpty()
                || m.worker().equals(workerId)).collect(Collectors.toList()));
        return root;
    }

    private static void values(ArrayNode out, float[] values) {
        for (float v : values) {
            if (Float.isNaN(v)) {
                out.addNull();
            } else {
                out.add(v);
            }
        }
    }

    private static void markers(ArrayNode out, Iterable<Marker> markers) {
        Iterator<Marker> it = markers.iterator();
        while (it.hasNext()) {
            Marker m = it.next();
            out.addObject().put("at", m.at().toEpochMilli()).put("kind", m.kind()).put("worker", m.worker())
                    .put("text", m.text());
        }
    }
}
