package io.slipstream.controller.local;

import io.slipstream.controller.scale.ScaleException;
import io.slipstream.controller.scale.ScaleTarget;
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
 */
public final class LocalProcessScaleTarget implements ScaleTarget {

    private static final Logger log = LoggerFactory.getLogger(LocalProcessScaleTarget.class);

    /** The arguments a new worker of a role and site runs with (after {@code --id}). */
    public interface WorkerArgs {
        List<String> forWorker(String role, String site, String id) throws IOException;
    }

    private final Path logDir;
    private final WorkerArgs args;
    private final Map<String, Map<String, LocalWorkerProcess>> fleets = new LinkedHashMap<>();
    private final AtomicLong sequence = new AtomicLong();

    public LocalProcessScaleTarget(Path logDir, WorkerArgs args) {
        this.logDir = logDir;
        this.args = args;
    }

    /**
     * Workers started with {@code --role R --site S --zookeeper Z} and, for transport security, a certificate
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
            if (plaintext) {
                args.add("--insecure-plaintext");
            } else {
                args.addAll(FleetCa.tlsArgs(ca.issueWorker(site, id)));
            }
            return args;
        });
    }

    @Override
    public String name() {
        return "local";
    }

    @Override
    public synchronized int replicas(String role, String site) {
        Map<String, LocalWorkerProcess> fleet = fleet(role, site);
        fleet.values().removeIf(p -> {
            if (!p.isAlive()) {
                log.warn("local worker {} exited on its own; see {}", p.id(), p.log());
                return true;
            }
            return false;
        });
        return fleet.size();
    }

    @Override
    public synchronized void scale(String role, String site, int replicas, List<String> victims) throws ScaleException {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas: " + replicas + " (expected: >= 0)");
        }
        Map<String, LocalWorkerProcess> fleet = fleet(role, site);
        for (String victim : victims) {
            if (!fleet.containsKey(victim)) {
                throw new ScaleException("victim '" + victim + "' is not a local " + role + " worker at site " + site
                        + " (expected one of " + fleet.keySet() + ")");
            }
        }
        List<LocalWorkerProcess> stopping = new ArrayList<>();
        for (String victim : victims) {
            if (fleet.size() > replicas) {
                stopping.add(fleet.remove(victim));
            }
        }
        List<String> newestFirst = new ArrayList<>(fleet.keySet());
        java.util.Collections.reverse(newestFirst);
        for (String id : newestFirst) {
            if (fleet.size() <= replicas) {
                break;
            }
            stopping.add(fleet.remove(id));
        }
        // Stop in parallel: each close waits up to its grace.
        CompletableFuture.allOf(stopping.stream()
                .map(p -> CompletableFuture.runAsync(p::close))
                .toArray(CompletableFuture[]::new)).join();
        while (fleet.size() < replicas) {
            String id = role + "-" + site + "-" + String.format(Locale.ROOT, "%d", sequence.incrementAndGet());
            try {
                LocalWorkerProcess p = LocalWorkerProcess.start(id, args.forWorker(role, site, id), logDir);
                fleet.put(id, p);
                log.info("started local worker {} (pid {})", id, p.pid());
            } catch (IOException e) {
                throw new ScaleException("cannot start a local " + role + " worker: " + e.getMessage(), e);
            }
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

    /** Stops every worker this target started. */
    @Override
    public synchronized void close() {
        List<LocalWorkerProcess> all = new ArrayList<>();
        for (Map<String, LocalWorkerProcess> fleet : fleets.values()) {
            all.addAll(fleet.values());
            fleet.clear();
        }
        CompletableFuture.allOf(all.stream().map(p -> CompletableFuture.runAsync(p::close))
                .toArray(CompletableFuture[]::new)).join();
    }
}
