package io.slipstream.controller.standalone;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.fleet.FleetEvent;
import io.slipstream.controller.fleet.FleetSnapshot;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.controller.placement.SteeringPlanner;
import io.slipstream.proto.v1.LoadReport;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;

/** Renders a {@link FleetSnapshot} as the JSON served at {@code /api/fleet}. */
public final class FleetJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private FleetJson() {}

    public static ObjectNode render(FleetSnapshot snapshot) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("taken_at", snapshot.takenAt().toString());
        root.put("stale", snapshot.stale());
        root.put("generation", snapshot.generation());
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
        return node;
    }

    /**
     * The steering table the fleet's policy and health give now: per policy and site, the members with the
     * number of buckets each owns, and the owner of every bucket.
     */
    public static ObjectNode placement(FleetSnapshot snapshot) {
        SteeringTable table = SteeringPlanner.plan(snapshot.policy(), snapshot.workers());
        ObjectNode root = MAPPER.createObjectNode();
        root.put("generation", snapshot.generation());
        root.put("bucket_count", table.getBucketCount());
        ArrayNode entries = root.putArray("entries");
        for (SteeringEntry e : table.getEntriesList()) {
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
        return root;
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
