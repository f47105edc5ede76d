package io.slipstream.controller.config;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.slipstream.contract.ConfigValidator;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.WorkerConfig;
import java.util.List;

/**
 * Reads, validates and writes the fleet policy as JSON (the proto3 JSON mapping of {@link FleetPolicy}, plus
 * the short forms {@link PolicyJson} accepts). Every error names its JSON path and what was expected.
 */
public final class FleetPolicies {

    /**
     * The largest policy document accepted, in characters: ZooKeeper's default {@code jute.maxbuffer} (1 MiB)
     * could not store a larger one anyway, and the bound keeps parsing cheap.
     */
    public static final int MAX_DOCUMENT_CHARS = 1 << 20;

    private FleetPolicies() {}

    /**
     * Parses and validates a fleet policy.
     *
     * @throws PolicyException with every problem found, each naming its JSON path
     */
    public static FleetPolicy parse(String json) {
        if (json == null || json.isBlank()) {
            throw new PolicyException(List.of("$: empty (expected: a JSON object)"), null);
        }
        if (json.length() > MAX_DOCUMENT_CHARS) {
            throw new PolicyException(List.of("$: " + json.length() + " characters (expected: at most "
                    + MAX_DOCUMENT_CHARS + ")"), null);
        }
        FleetPolicy.Builder builder = FleetPolicy.newBuilder();
        try {
            JsonFormat.parser().merge(PolicyJson.normalize(json, FleetPolicy.getDescriptor()), builder);
        } catch (PolicyException e) {
            throw e;
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            throw new PolicyException(List.of("$: " + e.getMessage()), e);
        }
        FleetPolicy policy = builder.build();
        validate(policy);
        return policy;
    }

    /** Validates a policy with the same rules workers apply to their configuration. */
    public static void validate(FleetPolicy policy) {
        WorkerConfig probe = WorkerConfig.newBuilder()
                .setRole(Role.ROLE_WANOPT)
                .setSite("policy")
                .addAllPolicies(policy.getPoliciesList())
                .setCompression(policy.getCompression())
                .setCache(policy.getCache())
                .build();
        List<String> errors = ConfigValidator.validate(probe, null, null);
        ConfigValidator.checkSites(errors, "sites", policy.getSitesList());
        ConfigValidator.checkBucketCount(errors, "bucket_count", policy.getBucketCount());
        if (!errors.isEmpty()) {
            List<String> paths = new java.util.ArrayList<>();
            for (String error : errors) {
                int colon = error.indexOf(':');
                paths.add(colon < 0 ? error : PolicyJson.jsonPath(error.substring(0, colon)) + error.substring(colon));
            }
            throw new PolicyException(paths, null);
        }
    }

    public static String toJson(FleetPolicy policy) {
        try {
            return JsonFormat.printer().print(policy);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
