package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.fleet.FleetEvent;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.placement.SteeringPlanner;
import io.slipstream.controller.scale.ScaleDecision;
import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.Site;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;

/** Renders a {@link FleetSnapshot} as the JSON served at {@code /api/fleet}. */
public final class FleetJson {

    /** Events the status document carries at most (newest first). */
    static final int MAX_STATUS_EVENTS = 50;
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FleetJson() {}

    public static ObjectNode render(FleetSnapshot snapshot) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("taken_at", snapshot.takenAt().toString());
        root.put("stale", snapshot.stale());
        root.put("generation", snapshot.generation());
        root.put("converged", snapshot.converged());
        ArrayNode workers = root.putArray("workers");
        for (WorkerView w : snapshot.workers()) {
            workers.add(worker(w));
        }
        ArrayNode events = root.putArray("events");
        for (FleetEvent e : snapshot.events()) {
            ObjectNode event = events.addObject();
            event.put("at", e.at().toString());
            event.put("worker", e.workerId());
            event.put("kind", e.kind());
            event.put("detail", e.detail());
        }
        return root;
    }

    /** One worker: id, role, site, health and the load figures. */
    public static ObjectNode worker(WorkerView w) {
        ObjectNode node = MAPPER.createObjectNode();
        node.put("id", w.id());
        node.put("role", w.record().role());
        node.put("site", w.record().site());
        node.put("health", w.health().label());
        node.put("registered", w.registered());
        node.put("health_since", w.healthSince().toString());
        if (!w.reason().isEmpty()) {
            node.put("reason", w.reason());
        }
        node.put("control_endpoint", w.record().controlEndpoint());
        node.put("metrics_endpoint", w.record().metricsEndpoint());
        node.put("capacity_bytes_per_second", w.record().capacityBytesPerSecond());
        node.put("version", w.record().version());
        node.put("config_digest", w.configDigest());
        LoadReport load = w.load();
        node.put("cpu", load.getCpu());
        node.put("bytes_in_per_second", load.getBytesInPerSecond());
        node.put("bytes_out_per_second", load.getBytesOutPerSecond());
        node.put("active_flows", load.getActiveFlows());
        node.put("queue_depth", load.getQueueDepth());
        node.put("draining", load.getDraining());
        node.put("wanopt_app_bytes", load.getWanoptAppBytes());
        node.put("wanopt_wan_bytes", load.getWanoptWanBytes());
        if (load.getWanoptAppBytes() > 0) {
            ObjectNode encoded = node.putObject("wanopt_encoded_bytes");
            encoded.put("reference", load.getWanoptReferenceBytes()).put("delta", load.getWanoptDeltaBytes())
                    .put("literal", load.getWanoptLiteralBytes()).put("raw", load.getWanoptRawBytes());
            node.put("wanopt_delta_candidates", load.getWanoptDeltaCandidates());
            node.put("wanopt_delta_hits", load.getWanoptDeltaHits());
            ArrayNode traffic = node.putArray("wanopt_traffic");
            for (io.slipstream.proto.v1.WanoptTraffic t : load.getWanoptTrafficList()) {
                traffic.addObject().put("peer", t.getPeerWorkerId()).put("policy", t.getPolicy())
                        .put("app_bytes", t.getAppBytes()).put("wan_bytes", t.getWanBytes())
                        .put("reference_bytes", t.getReferenceBytes()).put("delta_bytes", t.getDeltaBytes())
                        .put("literal_bytes", t.getLiteralBytes()).put("raw_bytes", t.getRawBytes())
                        .put("delta_candidates", t.getDeltaCandidates()).put("delta_hits", t.getDeltaHits());
            }
            ArrayNode stores = node.putArray("chunk_stores");
            for (io.slipstream.proto.v1.ChunkStoreState c : load.getChunkStoresList()) {
                stores.addObject().put("peer", c.getPeerWorkerId()).put("store", c.getStore())
                        .put("available", c.getAvailable()).put("bytes_held", c.getBytesHeld())
                        .put("max_bytes", c.getMaxBytes()).put("bytes_on_disk", c.getBytesOnDisk())
                        .put("chunks", c.getChunks()).put("evictions", c.getEvictions())
                        .put("corrupt_dropped", c.getCorruptDropped()).put("write_failures", c.getWriteFailures());
            }
        }
        node.put("cache_hits", load.getCacheHits());
        node.put("cache_lookups", load.getCacheLookups());
        node.put("cache_origin_requests", load.getCacheOriginRequests());
        node.put("cache_origin_bytes", load.getCacheOriginBytes());
        node.put("compression_fallbacks", fallbacks(load));
        ArrayNode providers = node.putArray("compression");
        for (CompressionProviderState p : load.getCompressionList()) {
            ObjectNode provider = providers.addObject().put("name", p.getName()).put("hardware", p.getHardware())
                    .put("available", p.getAvailable()).put("fallbacks", p.getFallbacks());
            if (!p.getReason().isEmpty()) {
                provider.put("reason", p.getReason());
            }
        }
        return node;
    }

    private static long fallbacks(LoadReport load) {
        long total = 0;
        for (CompressionProviderState p : load.getCompressionList()) {
            total += p.getFallbacks();
        }
        return total;
    }

    /**
     * Everything the status page shows, in one document: sites and roles with worker counts, every worker
     * with health and load, placement per policy and site, the policies, savings over the workers the
     * controller knows now, and recent events (fleet events and the autoscaler's decisions, newest first).
     *
     * @param decisions the autoscaler's latest decisions, empty when scaling is off
     */
    public static ObjectNode status(FleetSnapshot snapshot, List<ScaleDecision> decisions) {
        return status(snapshot.takenAt(), snapshot.stale(), snapshot.generation(), snapshot.policy(),
                snapshot.workers(), snapshot.events(), decisions);
    }

    /** {@link #status(FleetSnapshot, List)} from the parts of a snapshot. */
    public static ObjectNode status(Instant takenAt, boolean stale, long generation, FleetPolicy policy,
                                    List<WorkerView> workerViews, List<FleetEvent> fleetEvents,
                                    List<ScaleDecision> decisions) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("taken_at", takenAt.toString());
        root.put("stale", stale);
        root.put("generation", generation);
        Map<String, int[]> sites = new TreeMap<>();
        Map<String, int[]> roles = new TreeMap<>();
        ArrayNode workers = root.putArray("workers");
        long appBytes = 0;
        long wanBytes = 0;
        long hits = 0;
        long lookups = 0;
        long originRequests = 0;
        long originBytes = 0;
        long fallbacks = 0;
        for (WorkerView w : workerViews) {
            workers.add(worker(w));
            int serving = w.healthy() ? 1 : 0;
            int[] site = sites.computeIfAbsent(w.record().site(), k -> new int[2]);
            site[0]++;
            site[1] += serving;
            int[] role = roles.computeIfAbsent(w.record().role(), k -> new int[2]);
            role[0]++;
            role[1] += serving;
            LoadReport load = w.load();
            appBytes += load.getWanoptAppBytes();
            wanBytes += load.getWanoptWanBytes();
            hits += load.getCacheHits();
            lookups += load.getCacheLookups();
            originRequests += load.getCacheOriginRequests();
            originBytes += load.getCacheOriginBytes();
            fallbacks += fallbacks(load);
        }
        for (Site site : policy.getSitesList()) {
            sites.computeIfAbsent(site.getName(), k -> new int[2]);
        }
        counts(root.putArray("sites"), "site", sites);
        counts(root.putArray("roles"), "role", roles);
        ObjectNode savings = root.putObject("savings");
        savings.put("wanopt_app_bytes", appBytes);
        savings.put("wanopt_wan_bytes", wanBytes);
        savings.put("wan_bytes_saved", Math.max(0, appBytes - wanBytes));
        if (appBytes > 0) {
            savings.put("wan_reduction_ratio", (double) wanBytes / appBytes);
        }
        savings.put("cache_hits", hits);
        savings.put("cache_lookups", lookups);
        savings.put("cache_origin_requests", originRequests);
        savings.put("cache_origin_bytes", originBytes);
        if (lookups > 0) {
            savings.put("cache_hit_ratio", (double) hits / lookups);
            // Requests answered without the origin, as a share of all: the origin traffic they saved.
            savings.put("origin_requests_saved_ratio", Math.max(0, 1 - (double) originRequests / lookups));
            if (originRequests > 0) {
                // Estimated at the mean size of what the origins sent: lookups the origins did not serve.
                savings.put("origin_bytes_saved_estimate",
                        Math.max(0, lookups - originRequests) * (originBytes / originRequests));
            }
        }
        savings.put("compression_fallbacks", fallbacks);
        ArrayNode policies = root.putArray("policies");
        for (FlowPolicy p : policy.getPoliciesList()) {
            policies.addObject().put("name", p.getName()).put("chain", p.getChain().name())
                    .put("ingress_site", p.getIngressSite());
        }
        ArrayNode placement = root.putArray("placement");
        for (com.fasterxml.jackson.databind.JsonNode entry : placement(policy, workerViews, generation).path("entries")) {
            ObjectNode summary = placement.addObject();
            summary.put("policy", entry.path("policy").asText());
            summary.put("site", entry.path("site").asText());
            summary.put("chain", entry.path("chain").asText());
            summary.set("members", entry.path("members"));
        }
        List<ObjectNode> events = new ArrayList<>();
        for (FleetEvent e : fleetEvents) {
            events.add(MAPPER.createObjectNode().put("at", e.at().toString()).put("worker", e.workerId())
                    .put("kind", e.kind()).put("detail", e.detail()));
        }
        for (ScaleDecision d : decisions) {
            events.add(MAPPER.createObjectNode().put("at", d.at().toString()).put("worker", "")
                    .put("kind", "scaling").put("detail", d.role() + " at site " + d.site() + ": " + d.current()
                            + " -> " + d.desired() + " (" + d.reason().tag() + ")"));
        }
        events.sort(Comparator.comparing((ObjectNode n) -> Instant.parse(n.path("at").asText())).reversed());
        ArrayNode list = root.putArray("events");
        events.stream().limit(MAX_STATUS_EVENTS).forEach(list::add);
        return root;
    }

    private static void counts(ArrayNode array, String key, Map<String, int[]> counts) {
        counts.forEach((name, c) -> array.addObject().put(key, name).put("workers", c[0]).put("serving", c[1]));
    }

    /**
     * The steering table the fleet's policy and health give now: per policy and site, the members with the
     * number of buckets each owns, and the owner of every bucket.
     */
    public static ObjectNode placement(FleetSnapshot snapshot) {
        return placement(snapshot.policy(), snapshot.workers(), snapshot.generation());
    }

    static ObjectNode placement(FleetPolicy policy, List<WorkerView> workers, long generation) {
        SteeringTable table = SteeringPlanner.plan(policy, workers);
        ObjectNode root = MAPPER.createObjectNode();
        root.put("generation", generation);
        root.put("bucket_count", table.getBucketCount());
        ArrayNode entries = root.putArray("entries");
        for (SteeringEntry e : table.getEntriesList()) {
            entry(entries, e);
        }
        // The second hop of cache+wanopt policies: the wanopt workers each site's cache workers hand misses to
        ArrayNode hops = root.putArray("chain_hops");
        java.util.TreeSet<String> sites = new java.util.TreeSet<>();
        for (WorkerView w : workers) {
            sites.add(w.record().site());
        }
        for (String site : sites) {
            for (SteeringEntry e : SteeringPlanner.chainHops(policy, workers, site).getEntriesList()) {
                entry(hops, e);
            }
        }
        return root;
    }

    private static void entry(ArrayNode entries, SteeringEntry e) {
        ObjectNode entry = entries.addObject();
        entry.put("policy", e.getPolicy());
        entry.put("site", e.getSite());
        entry.put("chain", e.getChain().name());
        int[] load = new int[e.getMembersCount()];
        for (int owner : e.getOwnersList()) {
            load[owner]++;
        }
        ArrayNode members = entry.putArray("members");
        for (int i = 0; i < e.getMembersCount(); i++) {
            members.addObject()
                    .put("id", e.getMembers(i).getWorkerId())
                    .put("endpoint", e.getMembers(i).getDataEndpoint())
                    .put("weight", e.getMembers(i).getWeight())
                    .put("buckets", load[i]);
        }
        ArrayNode owners = entry.putArray("owners");
        for (int owner : e.getOwnersList()) {
            owners.add(e.getMembers(owner).getWorkerId());
        }
    }

    /** The autoscaler's latest decision per role and site, and the workers it drains now. */
    public static ObjectNode scaling(java.util.List<io.slipstream.controller.scale.ScaleDecision> decisions,
                                     java.util.List<String> draining) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode list = root.putArray("decisions");
        for (io.slipstream.controller.scale.ScaleDecision d : decisions) {
            list.addObject().put("role", d.role()).put("site", d.site()).put("at", d.at().toString())
                    .put("current", d.current()).put("desired", d.desired()).put("needed", d.needed())
                    .put("utilisation", d.utilisation()).put("reason", d.reason().tag());
        }
        ArrayNode drains = root.putArray("draining");
        draining.forEach(drains::add);
        return root;
    }

    public static String write(Object node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
