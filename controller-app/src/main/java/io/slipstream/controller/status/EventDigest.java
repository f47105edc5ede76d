package io.slipstream.controller.status;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.fleet.FleetEvent;
import io.slipstream.controller.scale.ScaleDecision;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fleet events folded into lines an operator reads: the same fact (kind and detail, runs of 4 or more digits
 * left out) on several workers
 * within {@link #BURST} is one line ("hardware compression (qat) unavailable on 5 workers: QATzip not
 * installed"), with a severity, the workers and their roles, and the raw events behind it. Lines can be
 * filtered by worker, role and kind. Pure: a function of the events, the decisions and the roles.
 */
public final class EventDigest {

    /** Events of one fact this close to the first of them are one line. */
    static final Duration BURST = Duration.ofSeconds(60);

    /**
     * Runs of 4 or more digits: temporary file names, ports, timestamps, counts. They differ from worker to
     * worker for one fact (qat-java unpacks its library to {@code /tmp/libqat-java<random>.so} in each process),
     * so they are left out when comparing details and shown as an ellipsis.
     */
    private static final Pattern VOLATILE = Pattern.compile("\\d{4,}");
    private static final Pattern PARAMETER = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern UNAVAILABLE = Pattern.compile("hardware provider (\\S+) unavailable(?:: (.*))?",
            Pattern.DOTALL);

    /** What a line is about, in words, by event kind. */
    private static final Map<String, String> PHRASES = Map.ofEntries(
            Map.entry("joined", "joined"),
            Map.entry("registered", "registered again"),
            Map.entry("unregistered", "gone from ZooKeeper"),
            Map.entry("expired", "removed (not back in ZooKeeper)"),
            Map.entry("left", "left the fleet"),
            Map.entry("serving", "serving"),
            Map.entry("not_serving", "not serving"),
            Map.entry("down", "down"),
            Map.entry("unknown", "health unknown"),
            Map.entry("zookeeper", "ZooKeeper"),
            Map.entry("compression_fallback", "compression fell back to software"),
            Map.entry("compression_available", "hardware compression available again"),
            Map.entry("compression_unavailable", "hardware compression unavailable"),
            Map.entry("scaling", "scaling"));

    private EventDigest() {}

    /** Only the lines of this worker, role and kind; {@code null} matches any. */
    public static final class Filter {

        public static final Filter NONE = new Filter(null, null, null);

        private final String worker;
        private final String role;
        private final String kind;

        public Filter(String worker, String role, String kind) {
            this.worker = worker;
            this.role = role;
            this.kind = kind;
        }

        /**
         * The filter a query string asks for ({@code worker=..&role=..&kind=..}, each optional).
         *
         * @throws IllegalArgumentException naming the bad parameter and what is expected
         */
        public static Filter parse(String query) {
            String worker = null;
            String role = null;
            String kind = null;
            if (query == null || query.isEmpty()) {
                return NONE;
            }
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                if (!name.equals("worker") && !name.equals("role") && !name.equals("kind")) {
                    throw new IllegalArgumentException("query parameter '" + name + "' (expected: worker, role or kind)");
                }
                if (value.isEmpty()) {
                    continue;
                }
                if (!PARAMETER.matcher(value).matches()) {
                    throw new IllegalArgumentException("query parameter " + name + ": '" + value
                            + "' (expected: 1 to 64 of A-Z a-z 0-9 . _ -)");
                }
                if (name.equals("worker")) {
                    worker = value;
                } else if (name.equals("role")) {
                    role = value;
                } else {
                    kind = value;
                }
            }
            return new Filter(worker, role, kind);
        }

        boolean matches(Line line) {
            return (worker == null || line.workers.contains(worker))
                    && (role == null || line.roles.contains(role))
                    && (kind == null || line.kind.equals(kind));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Filter && Objects.equals(worker, ((Filter) o).worker)
                    && Objects.equals(role, ((Filter) o).role) && Objects.equals(kind, ((Filter) o).kind);
        }

        @Override
        public int hashCode() {
            return Objects.hash(worker, role, kind);
        }

        @Override
        public String toString() {
            return "Filter[worker=" + worker + ", role=" + role + ", kind=" + kind + "]";
        }
    }

    /** One line: a fact, on one or more workers. */
    public static final class Line {
        final String kind;
        final String detail;
        final Instant first;
        Instant last;
        final Set<String> workers = new TreeSet<>();
        final Set<String> roles = new TreeSet<>();
        final List<FleetEvent> raw = new ArrayList<>();

        Line(String kind, String detail, Instant first) {
            this.kind = kind;
            this.detail = detail;
            this.first = first;
            this.last = first;
        }

        public String kind() {
            return kind;
        }

        public Set<String> workers() {
            return workers;
        }

        public List<FleetEvent> raw() {
            return raw;
        }

        /** error, warning or info. */
        public String severity() {
            return EventDigest.severity(kind, detail);
        }

        /** The sentence an operator reads. */
        public String text() {
            String phrase = PHRASES.getOrDefault(kind, kind);
            String detail = this.detail;
            if (kind.equals("compression_unavailable")) {
                Matcher m = UNAVAILABLE.matcher(detail);
                if (m.matches()) {
                    phrase = "hardware compression (" + m.group(1) + ") unavailable";
                    detail = m.group(2) == null ? "" : m.group(2);
                }
            }
            String who;
            if (workers.isEmpty()) {
                who = "";
            } else if (workers.size() == 1) {
                who = " on " + workers.iterator().next();
            } else {
                who = " on " + workers.size() + " workers";
            }
            String times = raw.size() > workers.size() && !workers.isEmpty() ? " (" + raw.size() + " times)" : "";
            return phrase + who + times + (detail.isEmpty() ? "" : ": " + detail);
        }
    }

    static String severity(String kind, String detail) {
        switch (kind) {
            case "down":
            case "expired":
            case "compression_unavailable":
                return "error";
            case "not_serving":
            case "unregistered":
            case "left":
            case "compression_fallback":
            case "unknown":
                return "warning";
            case "zookeeper":
                return detail.startsWith("disconnected") ? "warning" : "info";
            default:
                return "info";
        }
    }

    /**
     * The lines, newest first.
     *
     * @param roleOf a worker's role, or {@code null} when unknown
     */
    public static List<Line> digest(List<FleetEvent> events, List<ScaleDecision> decisions,
                                    Function<String, String> roleOf, Filter filter) {
        List<FleetEvent> all = new ArrayList<>(events);
        Map<FleetEvent, String> decisionRoles = new LinkedHashMap<>();
        for (ScaleDecision d : decisions) {
            FleetEvent e = new FleetEvent(d.at(), "", "scaling", d.role() + " at site " + d.site() + ": "
                    + d.current() + " -> " + d.desired() + " (" + d.reason().tag() + ")");
            all.add(e);
            decisionRoles.put(e, d.role());
        }
        all.sort(Comparator.comparing(FleetEvent::at));
        Map<String, Line> open = new LinkedHashMap<>();
        List<Line> lines = new ArrayList<>();
        for (FleetEvent e : all) {
            String detail = VOLATILE.matcher(e.detail()).replaceAll("\u2026");
            String key = e.kind() + '\u0000' + detail;
            Line line = open.get(key);
            if (line == null || e.at().isAfter(line.first.plus(BURST))) {
                line = new Line(e.kind(), detail, e.at());
                open.put(key, line);
                lines.add(line);
            }
            line.last = e.at();
            line.raw.add(e);
            if (!e.workerId().isEmpty()) {
                line.workers.add(e.workerId());
                String role = roleOf.apply(e.workerId());
                if (role != null) {
                    line.roles.add(role);
                }
            }
            String decisionRole = decisionRoles.get(e);
            if (decisionRole != null) {
                line.roles.add(decisionRole);
            }
        }
        List<Line> out = new ArrayList<>();
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (filter.matches(lines.get(i))) {
                out.add(lines.get(i));
            }
        }
        out.sort(Comparator.comparing((Line l) -> l.last).reversed());
        return out;
    }

    /**
     * The lines as JSON ({@code lines}: kind, severity, text, first_at, last_at, workers, roles, raw), and what
     * the filter can choose from among all lines ({@code kinds}, {@code workers}, {@code roles}).
     */
    public static ObjectNode toJson(List<FleetEvent> events, List<ScaleDecision> decisions,
                                    Function<String, String> roleOf, Filter filter) {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        List<Line> all = digest(events, decisions, roleOf, Filter.NONE);
        Set<String> kinds = new TreeSet<>();
        Set<String> workers = new TreeSet<>();
        Set<String> roles = new TreeSet<>();
        for (Line l : all) {
            kinds.add(l.kind);
            workers.addAll(l.workers);
            roles.addAll(l.roles);
        }
        ArrayNode lines = root.putArray("lines");
        for (Line l : all) {
            if (!filter.matches(l)) {
                continue;
            }
            ObjectNode line = lines.addObject().put("kind", l.kind).put("severity", l.severity()).put("text", l.text())
                    .put("first_at", l.first.toString()).put("last_at", l.last.toString());
            l.workers.forEach(line.putArray("workers")::add);
            l.roles.forEach(line.putArray("roles")::add);
            ArrayNode raw = line.putArray("raw");
            for (FleetEvent e : l.raw) {
                raw.addObject().put("at", e.at().toString()).put("worker", e.workerId()).put("detail", e.detail());
            }
        }
        kinds.forEach(root.putArray("kinds")::add);
        workers.forEach(root.putArray("workers")::add);
        roles.forEach(root.putArray("roles")::add);
        return root;
    }
}
