package io.slipstream.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Objects;

/**
 * The JSON payload a worker registers in ZooKeeper (Curator service discovery): who it is, where
 * to reach it and what it can do. Unknown properties are ignored so that newer workers can add
 * fields without breaking older controllers.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public final class WorkerRecord {

    private final String id;
    private final String role;
    private final String site;
    private final String controlEndpoint;
    private final String dataEndpoint;
    private final String metricsEndpoint;
    private final long capacityBytesPerSecond;
    private final List<String> compressionProviders;
    private final String version;
    private final String steeredEndpoint;

    /** A record without a steered endpoint. */
    public WorkerRecord(String id, String role, String site, String controlEndpoint, String dataEndpoint,
            String metricsEndpoint, long capacityBytesPerSecond, List<String> compressionProviders, String version) {
        this(id, role, site, controlEndpoint, dataEndpoint, metricsEndpoint, capacityBytesPerSecond,
                compressionProviders, version, "");
    }

    @JsonCreator
    public WorkerRecord(
            @JsonProperty("id") String id,
            @JsonProperty("role") String role,
            @JsonProperty("site") String site,
            @JsonProperty("controlEndpoint") String controlEndpoint,
            @JsonProperty("dataEndpoint") String dataEndpoint,
            @JsonProperty("metricsEndpoint") String metricsEndpoint,
            @JsonProperty("capacityBytesPerSecond") long capacityBytesPerSecond,
            @JsonProperty("compressionProviders") List<String> compressionProviders,
            @JsonProperty("version") String version,
            @JsonProperty("steeredEndpoint") String steeredEndpoint) {
        this.id = requireText(id, "id");
        this.role = Roles.name(Roles.parse(role));
        this.site = requireText(site, "site");
        this.controlEndpoint = requireText(controlEndpoint, "controlEndpoint");
        this.dataEndpoint = dataEndpoint == null ? "" : dataEndpoint;
        this.metricsEndpoint = metricsEndpoint == null ? "" : metricsEndpoint;
        if (capacityBytesPerSecond < 0) {
            throw new IllegalArgumentException(
                    "capacityBytesPerSecond: " + capacityBytesPerSecond + " (expected: >= 0)");
        }
        this.capacityBytesPerSecond = capacityBytesPerSecond;
        this.compressionProviders =
                compressionProviders == null ? List.of() : List.copyOf(compressionProviders);
        this.version = version == null ? "" : version;
        this.steeredEndpoint = steeredEndpoint == null ? "" : steeredEndpoint;
    }

    private static String requireText(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(field + ": '" + value + "' (expected: non-empty)");
        }
        return value;
    }

    @JsonProperty public String id() { return id; }
    @JsonProperty public String role() { return role; }
    @JsonProperty public String site() { return site; }
    /** host:port of the gRPC control endpoint (WorkerControl + health). */
    @JsonProperty public String controlEndpoint() { return controlEndpoint; }
    /** host:port of the data-plane endpoint; empty for roles without one yet. */
    @JsonProperty public String dataEndpoint() { return dataEndpoint; }
    /** host:port of the HTTP endpoint serving /metrics and /healthz. */
    @JsonProperty public String metricsEndpoint() { return metricsEndpoint; }
    /** Declared capacity in bytes per second; the weight in placement. */
    @JsonProperty public long capacityBytesPerSecond() { return capacityBytesPerSecond; }
    /** Names of the compression providers available on the worker, best first. */
    @JsonProperty public List<String> compressionProviders() { return compressionProviders; }
    @JsonProperty public String version() { return version; }
    /**
     * {@code host:port} where a gateway hands this worker steered connections (PROXY protocol v2 header
     * first, carrying the original addresses); empty when the worker takes none.
     */
    @JsonProperty public String steeredEndpoint() { return steeredEndpoint; }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof WorkerRecord)) {
            return false;
        }
        WorkerRecord that = (WorkerRecord) o;
        return capacityBytesPerSecond == that.capacityBytesPerSecond
                && id.equals(that.id)
                && role.equals(that.role)
                && site.equals(that.site)
                && controlEndpoint.equals(that.controlEndpoint)
                && dataEndpoint.equals(that.dataEndpoint)
                && metricsEndpoint.equals(that.metricsEndpoint)
                && compressionProviders.equals(that.compressionProviders)
                && version.equals(that.version)
                && steeredEndpoint.equals(that.steeredEndpoint);
    }

    @Override
    public int hashCode() {
        return Objects.hash(id, role, site, controlEndpoint, dataEndpoint, metricsEndpoint,
                capacityBytesPerSecond, compressionProviders, version, steeredEndpoint);
    }

    @Override
    public String toString() {
        return "WorkerRecord{id=" + id + ", role=" + role + ", site=" + site
                + ", control=" + controlEndpoint + ", data=" + dataEndpoint
                + (steeredEndpoint.isEmpty() ? "" : ", steered=" + steeredEndpoint)
                + ", capacity=" + capacityBytesPerSecond + ", version=" + version + '}';
    }
}
