package io.slipstream.controller.local;

import io.slipstream.controller.scale.ScaleException;
import io.slipstream.controller.scale.ScaleTarget;
import io.slipstream.controller.scale.ScalingJournal;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ScaleTarget} that runs workers as JVMs on this machine ({@link LocalWorkerProcess}): scaling
 * out starts new ones, scaling in stops exactly the victims (SIGTERM, then SIGKILL after the grace),
 * newest first when no victim is named. What a worker of a role and site is started with comes from
 * a {@link WorkerArgs}. Thread-safe.
 *
 * <p>Its workers outlive it, the way a Deployment's pods outlive a controller (issue 23): which workers it runs
 * (id, role, site, host, pid) and the last id it gave are kept in a {@link ScalingJournal} (in ZooKeeper, written
 * only by the leader), each step recorded before it is taken: ids about to start (pid 0), then their pids;
 * workers about to stop ({@code stopping}), then gone. A new leader's {@link #takeOver()} adopts every recorded
 * worker of this host that still runs (found by pid or id, checked against its command line), finishes a stop
 * that was recorded, forgets workers that never started or exited, and gives ids above every one given before:
 * no worker is started twice, none is left without an owner. {@link #release()} (leadership lost) forgets the
 * workers without stopping them; {@link #close()} stops those it runs.
 */
public final class LocalProcessScaleTarget implements ScaleTarget {

    private static final Logger log = LoggerFactory.getLogger(LocalProcessScaleTarget.class);

    /** The arguments a new worker of a role and site runs with (after {@code --id}). */
    public interface WorkerArgs {
        List<String> forWorker(String role, String site, String id) throws IOException;
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /** Worker ids, roles and sites as recorded: what a file name and the fleet map's {@code role@site} key allow. */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Path logDir;
    private final WorkerArgs args;
    /** Argument pairs the command line of a worker of a role and site has (checked before adopting one). */
    private final java.util.function.BiFunction<String, String, List<String>> identity;
    private final Map<String, Map<String, LocalWorkerProcess>> fleets = new LinkedHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final String host = hostName();
    /** Workers being started (no process yet) or stopped, by id: recorded in the journal with their state. */
    private final Map<String, Entry> inFlight = new LinkedHashMap<>();
    /** Journal entries of other hosts: kept as they are, not managed here. */
    private final List<Entry> foreign = new ArrayList<>();
    /** Ids of workers that exited on their own (a victim among them has nothing left to stop). */
    private final java.util.Set<String> exited = new java.util.HashSet<>();
    private ScalingJournal journal = ScalingJournal.inMemory();

    /** One worker as the journal records it. */
    private static final class Entry {
        final String id;
        final String role;
        final String site;
        final String host;
        final long pid;
        /** {@link LocalWorkerProcess#startToken()}, empty when not known. */
        final String start;
        final String log;
        final String launchedAt;
        final boolean stopping;

        Entry(String id, String role, String site, String host, long pid, String start, String log,
              String launchedAt, boolean stopping) {
            this.id = id;
            this.role = role;
            this.site = site;
            this.host = host;
            this.pid = pid;
            this.start = start;
            this.log = log;
            this.launchedAt = launchedAt;
            this.stopping = stopping;
        }
    }

    /**
     * Workers started with {@code args}; a previous leader's worker is adopted on its id alone (use {@link #plain}
     * for a target that also checks the worker's role, site and ZooKeeper).
     */
    public LocalProcessScaleTarget(Path logDir, WorkerArgs args) {
        this(logDir, args, (role, site) -> List.of());
    }

    private LocalProcessScaleTarget(Path logDir, WorkerArgs args,
                                    java.util.function.BiFunction<String, String, List<String>> identity) {
        this.logDir = logDir;
        this.args = args;
        this.identity = identity;
    }

    /**
     * Workers started with {@code --role R --site S --zookeeper Z} (wanopt workers also {@code --steered-port 0}, so
     * that gateways can hand them flows) and, for transport security, a certificate
     * {@code ca} issues for each ({@code --tls-dir}), or {@code --insecure-plaintext} when {@code plaintext}.
     */
    public static LocalProcessScaleTarget plain(Path logDir, String zookeeper, FleetCa ca, boolean plaintext) {
        return plain(logDir, zookeeper, ca, plaintext, null);
    }

    /** As {@link #plain(Path, String, FleetCa, boolean)}, with ZooKeeper digest credentials when {@code zkAuthFile} is set. */
    public static LocalProcessScaleTarget plain(Path logDir, String zookeeper, FleetCa ca, boolean plaintext,
                                                Path zkAuthFile) {
        if ((ca == null) == !plaintext) {
            throw new IllegalArgumentException("local scale target: " + (plaintext ? "both a CA and plaintext"
                    : "neither a CA nor plaintext") + " (expected: a CA that issues worker certificates, or "
                    + "plaintext for development)");
        }
        return new LocalProcessScaleTarget(logDir, (role, site, id) -> {
            List<String> args = new ArrayList<>(List.of("--role", role, "--site", site, "--zookeeper", zookeeper));
            if (zkAuthFile != null) {
                args.addAll(List.of("--zk-auth-file", zkAuthFile.toString()));
            }
            if (role.equals("wanopt")) {
                // Where a gateway hands it flows (PROXY protocol): without it a gateway would send them to the tunnel.
                args.addAll(List.of("--steered-port", "0"));
            }
            if (plaintext) {
                args.add("--insecure-plaintext");
            } else {
                args.addAll(FleetCa.tlsArgs(ca.issueWorker(site, id)));
            }
            return args;
        }, (role, site) -> List.of("--role", role, "--site", site, "--zookeeper", zookeeper));
    }

    /** Keeps the record of this target's workers in {@code journal} (call before use). */
    public synchronized LocalProcessScaleTarget journal(ScalingJournal journal) {
        this.journal = java.util.Objects.requireNonNull(journal, "journal");
        return this;
    }

    @Override
    public String name() {
        return "local";
    }

    @Override
    public synchronized void takeOver() throws ScaleException {
        String doc = journal.read().orElse(null);
        if (doc == null) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = JSON.readTree(doc);
        } catch (IOException e) {
            throw new ScaleException("local workers journal: not JSON (" + e.getMessage() + "); fix or delete it", e);
        }
        if (!root.isObject() || !root.path("workers").isArray()) {
            throw new ScaleException("local workers journal: " + abbreviate(doc) + " (expected: an object with a "
                    + "\"workers\" array); fix or delete it");
        }
        long recorded = root.path("sequence").canConvertToLong() ? root.path("sequence").asLong() : 0;
        sequence.set(Math.max(sequence.get(), Math.max(0, recorded)));
        foreign.clear();
        List<LocalWorkerProcess> finishStopping = new ArrayList<>();
        int adopted = 0;
        for (com.fasterxml.jackson.databind.JsonNode w : root.path("workers")) {
            Entry e = new Entry(w.path("id").asText(""), w.path("role").asText(""), w.path("site").asText(""),
                    w.path("host").asText(""), w.path("pid").canConvertToLong() ? w.path("pid").asLong() : 0,
                    w.path("start").asText(""), w.path("log").asText(""), w.path("launchedAt").asText(""),
                    w.path("stopping").asBoolean(false));
            if (!NAME.matcher(e.id).matches() || !NAME.matcher(e.role).matches() || !NAME.matcher(e.site).matches()
                    || e.pid < 0) {
                log.warn("local workers journal: entry {} left out (expected: id, role and site of letters, digits, "
                        + "'.', '_', '-', and a pid >= 0)", abbreviate(w.toString()));
                continue;
            }
            // Ids above every one given before, even when the recorded sequence is lost or behind.
            sequence.set(Math.max(sequence.get(), idNumber(e.id)));
            if (!e.host.equals(host)) {
                foreign.add(e);
                log.warn("local worker {} was started on host {}, not this one ({}): not adopted", e.id, e.host,
                        host);
                continue;
            }
            Map<String, LocalWorkerProcess> fleet = fleet(e.role, e.site);
            if (fleet.containsKey(e.id)) {
                continue;
            }
            java.time.Instant launched = parseInstant(e.launchedAt);
            java.util.Optional<LocalWorkerProcess> p = LocalWorkerProcess.adopt(e.id, e.pid, e.start,
                    identity.apply(e.role, e.site), logPath(e), launched);
            if (p.isEmpty()) {
                exited.add(e.id);
                log.info("local worker {} of the previous leader {}: forgotten", e.id,
                        e.pid == 0 ? "never started" : "is gone (pid " + e.pid + ")");
            } else if (e.stopping) {
                log.info("local worker {} (pid {}): the previous leader was stopping it; stopping it", e.id,
                        p.get().pid());
                finishStopping.add(p.get());
                exited.add(e.id);
            } else {
                fleet.put(e.id, p.get());
                adopted++;
                log.info("adopted local worker {} (pid {}) of the previous leader", e.id, p.get().pid());
            }
        }
        stopAll(finishStopping);
        record();
        log.info("local scale target: took over {} worker(s), next id after {}", adopted, sequence.get());
    }

    @Override
    public synchronized void release() {
        int n = 0;
        for (Map<String, LocalWorkerProcess> fleet : fleets.values()) {
            n += fleet.size();
            fleet.clear();
        }
        inFlight.clear();
        log.info("local scale target: released {} worker(s) to the next leader (left running)", n);
    }

    private Path logPath(Entry e) {
        try {
            return e.log.isEmpty() ? logDir.resolve(e.id + ".log") : Path.of(e.log);
        } catch (java.nio.file.InvalidPathException ex) {
            return logDir.resolve(e.id + ".log");
        }
    }

    /** The number a worker id ends with ({@code wanopt-a-12}: 12), or 0. */
    private static long idNumber(String id) {
        int dash = id.lastIndexOf('-');
        try {
            return Math.max(0, Long.parseLong(id.substring(dash + 1)));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "...";
    }

    private static java.time.Instant parseInstant(String text) {
        try {
            return java.time.Instant.parse(text);
        } catch (java.time.format.DateTimeParseException e) {
            return java.time.Instant.now();
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /**
     * Records the intent in flight (and, with {@code thenCheckLeading}, that this controller still leads) before
     * acting on it; on failure forgets it, so that nothing unrecorded is done.
     */
    private void recordInFlight(boolean thenCheckLeading) throws ScaleException {
        try {
            record();
            if (thenCheckLeading) {
                journal.checkLeading();
            }
        } catch (ScaleException e) {
            inFlight.clear();
            throw e;
        }
    }

    /** Writes what this target runs (and what it is starting or stopping) to the journal. */
    private void record() throws ScaleException {
        com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
        root.put("sequence", sequence.get());
        com.fasterxml.jackson.databind.node.ArrayNode workers = root.putArray("workers");
        List<Entry> all = new ArrayList<>(foreign);
        for (Map<String, LocalWorkerProcess> fleet : fleets.values()) {
            for (LocalWorkerProcess p : fleet.values()) {
                if (!inFlight.containsKey(p.id())) {
                    String[] rs = roleSiteOf(p.id());
                    all.add(new Entry(p.id(), rs[0], rs[1], host, p.pid(), p.startToken(), p.log().toString(),
                            p.launchedAt().toString(), false));
                }
            }
        }
        all.addAll(inFlight.values());
        for (Entry e : all) {
            workers.addObject().put("id", e.id).put("role", e.role).put("site", e.site).put("host", e.host)
                    .put("pid", e.pid).put("start", e.start).put("log", e.log).put("launchedAt", e.launchedAt)
                    .put("stopping", e.stopping);
        }
        journal.write(root.toString());
    }

    private String[] roleSiteOf(String id) {
        for (Map.Entry<String, Map<String, LocalWorkerProcess>> f : fleets.entrySet()) {
            if (f.getValue().containsKey(id)) {
                int at = f.getKey().indexOf('@');
                return new String[] {f.getKey().substring(0, at), f.getKey().substring(at + 1)};
            }
        }
        throw new IllegalStateException("worker " + id + " is in no fleet");
    }

    private static void stopAll(List<LocalWorkerProcess> stopping) {
        // Stop in parallel: each close waits up to its grace.
        CompletableFuture.allOf(stopping.stream()
                .map(p -> CompletableFuture.runAsync(p::close))
                .toArray(CompletableFuture[]::new)).join();
    }

    @Override
    public synchronized int replicas(String role, String site) {
        Map<String, LocalWorkerProcess> fleet = fleet(role, site);
        boolean gone = fleet.values().removeIf(p -> {
            if (!p.isAlive()) {
                log.warn("local worker {} exited on its own; see {}", p.id(), p.log());
                exited.add(p.id());
                return true;
            }
            return false;
        });
        if (gone) {
            try {
                record();
            } catch (ScaleException e) {
                log.warn("local scale target: cannot record the workers that exited: {}", e.getMessage());
            }
        }
        return fleet.size();
    }

    @Override
    public synchronized void scale(String role, String site, int replicas, List<String> victims) throws ScaleException {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas: " + replicas + " (expected: >= 0)");
        }
        Map<String, LocalWorkerProcess> fleet = fleet(role, site);
        List<String> present = new ArrayList<>();
        for (String victim : victims) {
            if (fleet.containsKey(victim)) {
                present.add(victim);
            } else if (!exited.contains(victim) && fleet.size() > replicas) {
                // Unknown and a worker is to be stopped: stopping another one instead is not what was asked. (At the
                // count already, there is nothing to stop: e.g. a new leader finishing a drain whose victim the
                // previous leader had stopped and recorded as gone.)
                throw new ScaleException("victim '" + victim + "' is not a local " + role + " worker at site " + site
                        + " (expected one of " + fleet.keySet() + ")");
            }
        }
        List<String> stoppingIds = new ArrayList<>();
        int remaining = fleet.size();
        for (String victim : present) {
            if (remaining > replicas) {
                stoppingIds.add(victim);
                remaining--;
            }
        }
        List<String> newestFirst = new ArrayList<>(fleet.keySet());
        java.util.Collections.reverse(newestFirst);
        for (String id : newestFirst) {
            if (remaining <= replicas) {
                break;
            }
            if (!stoppingIds.contains(id)) {
                stoppingIds.add(id);
                remaining--;
            }
        }
        if (!stoppingIds.isEmpty()) {
            // Recorded before it is done: a new leader finishes a stop this controller dies in the middle of.
            for (String id : stoppingIds) {
                LocalWorkerProcess p = fleet.get(id);
                inFlight.put(id, new Entry(id, role, site, host, p.pid(), p.startToken(), p.log().toString(),
                        p.launchedAt().toString(), true));
            }
            recordInFlight(true);
            List<LocalWorkerProcess> stopping = new ArrayList<>();
            for (String id : stoppingIds) {
                stopping.add(fleet.remove(id));
            }
            stopAll(stopping);
            inFlight.clear();
            record();
        }
        if (fleet.size() < replicas) {
            // The ids are recorded before their processes start: a new leader looks for them by id.
            List<String> ids = new ArrayList<>();
            while (fleet.size() + ids.size() < replicas) {
                String id = role + "-" + site + "-" + String.format(Locale.ROOT, "%d", sequence.incrementAndGet());
                ids.add(id);
                inFlight.put(id, new Entry(id, role, site, host, 0, "", logDir.resolve(id + ".log").toString(),
                        java.time.Instant.now().toString(), false));
            }
            recordInFlight(false);
            try {
                for (String id : ids) {
                    // Each start only while this controller still leads: a deposed one's new leader may have
                    // forgotten the ids recorded here (not running when it took over) and started its own.
                    journal.checkLeading();
                    LocalWorkerProcess p = LocalWorkerProcess.start(id, args.forWorker(role, site, id), logDir);
                    inFlight.remove(id);
                    fleet.put(id, p);
                    log.info("started local worker {} (pid {})", id, p.pid());
                }
            } catch (IOException | ScaleException e) {
                ScaleException failed = e instanceof ScaleException ? (ScaleException) e
                        : new ScaleException("cannot start a local " + role + " worker: " + e.getMessage(), e);
                inFlight.clear();
                try {
                    record();
                } catch (ScaleException notRecorded) {
                    failed.addSuppressed(notRecorded);
                }
                throw failed;
            }
            inFlight.clear();
            record();
        }
    }

    /** The ids of the workers this target runs for a role and site, oldest first. */
    public synchronized List<String> workers(String role, String site) {
        return new ArrayList<>(fleet(role, site).keySet());
    }

    /** The process of one worker, or {@code null}. */
    public synchronized LocalWorkerProcess process(String id) {
        for (Map<String, LocalWorkerProcess> fleet : fleets.values()) {
            LocalWorkerProcess p = fleet.get(id);
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    private Map<String, LocalWorkerProcess> fleet(String role, String site) {
        return fleets.computeIfAbsent(role + "@" + site, k -> new LinkedHashMap<>());
    }

    /** Stops every worker this target runs (started or adopted), and records that they are gone. */
    @Override
    public synchronized void close() {
        List<LocalWorkerProcess> all = new ArrayList<>();
        for (Map<String, LocalWorkerProcess> fleet : fleets.values()) {
            all.addAll(fleet.values());
        }
        if (all.isEmpty()) {
            return;
        }
        stopAll(all);
        fleets.values().forEach(Map::clear);
        try {
            record();
        } catch (ScaleException e) {
            log.warn("local scale target: stopped {} worker(s) but cannot record it: {}", all.size(), e.getMessage());
        }
    }
}
