package io.slipstream.tools.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of one {@code bin/slipstream bench X} run: rows of (metric, ours, peer, theirs),
 * each with the ratio ours/theirs and which direction is better. Printed as a table and written as
 * {@code {"bench": X, "rows": [{"metric", "ours", "peer", "theirs", "ratio", "better"}]}}.
 */
public final class BenchReport {

    /** Which direction of a metric is better. */
    public enum Better {
        HIGHER, LOWER;

        String json() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One measured metric against a peer measured in the same run. */
    public static final class Row {
        public final String metric;
        public final double ours;
        public final String peer;
        public final double theirs;
        public final Better better;

        Row(String metric, double ours, String peer, double theirs, Better better) {
            this.metric = metric;
            this.ours = ours;
            this.peer = peer;
            this.theirs = theirs;
            this.better = better;
        }

        /** ours / theirs; NaN when theirs is 0. */
        public double ratio() {
            return theirs == 0 ? Double.NaN : ours / theirs;
        }
    }

    private final String bench;
    private final List<Row> rows = new ArrayList<>();

    public BenchReport(String bench) {
        this.bench = bench;
    }

    public BenchReport add(String metric, double ours, String peer, double theirs, Better better) {
        rows.add(new Row(metric, ours, peer, theirs, better));
        return this;
    }

    public String bench() {
        return bench;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** A fixed-width table, one row a metric. */
    public void print(PrintStream out) {
        java.io.PrintWriter writer = new java.io.PrintWriter(out);
        print(writer);
        writer.flush();
    }

    /** A fixed-width table, one row a metric. */
    public void print(java.io.PrintWriter out) {
        out.printf(Locale.ROOT, "%-48s %14s %-22s %14s %8s  %s%n", "metric", "ours", "peer", "theirs", "ratio", "better");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-48s %14.3f %-22s %14.3f %8.3f  %s%n",
                    r.metric, r.ours, r.peer, r.theirs, r.ratio(), r.better.json());
        }
    }

    public String toJson() {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("bench", bench);
        ArrayNode array = root.putArray("rows");
        for (Row r : rows) {
            ObjectNode row = array.addObject();
            row.put("metric", r.metric);
            row.put("ours", r.ours);
            row.put("peer", r.peer);
            row.put("theirs", r.theirs);
            if (Double.isNaN(r.ratio())) {
                row.putNull("ratio");
            } else {
                row.put("ratio", r.ratio());
            }
            row.put("better", r.better.json());
        }
        try {
            return mapper.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void writeJson(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson() + "\n");
    }
}
