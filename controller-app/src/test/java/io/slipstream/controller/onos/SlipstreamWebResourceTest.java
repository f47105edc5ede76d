package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.slipstream.controller.config.FleetPolicies;
import io.slipstream.controller.fleet.WorkerView;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.proto.v1.SteeringTable;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

/** The resource's methods called directly, with the service it looks up replaced by a test one. */
class SlipstreamWebResourceTest {

    /** A service that validates like the manager and remembers what was applied. */
    static final class Service implements SlipstreamService {
        volatile FleetPolicy policy = FleetPolicy.getDefaultInstance();

        @Override
        public FleetPolicy policy() {
            return policy;
        }

        @Override
        public FleetPolicy applyPolicy(String json) {
            policy = FleetPolicies.parse(json);
            return policy;
        }

        @Override
        public List<WorkerView> workers() {
            return List.of();
        }

        @Override
        public SteeringTable placement() {
            return SteeringTable.newBuilder().setBucketCount(256).build();
        }

        @Override
        public SteeringProgrammer.Program program() {
            return SteeringProgrammer.Program.empty();
        }

        @Override
        public boolean isLeader() {
            return true;
        }
    }

    private final Service service = new Service();
    private final SlipstreamWebResource resource = new SlipstreamWebResource() {
        @Override
        public <T> T get(Class<T> serviceClass) {
            return serviceClass.cast(service);
        }
    };

    private static ByteArrayInputStream body(String json) {
        return new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void postPolicies_badPolicy_400WithEveryErrorAndNothingApplied() {
        Response r = resource.postPolicies(body("{\"policies\":[{\"name\":\"x\",\"chain\":\"SERVICE_CHAIN_WANOPT\","
                + "\"srcPrefixes\":[\"10.0.0.0/40\"],\"dstPorts\":[{\"first\":90,\"last\":80}]}]}"));

        assertThat(r.getStatus()).isEqualTo(400);
        ObjectNode entity = (ObjectNode) r.getEntity();
        assertThat(entity.get("errors")).hasSizeGreaterThanOrEqualTo(2);
        assertThat(entity.get("errors").toString()).contains("$.policies[0].srcPrefixes[0]").contains("dstPorts");
        assertThat(service.policy.getPoliciesCount()).isZero();
    }

    @Test
    void postPolicies_notJson_400() {
        Response r = resource.postPolicies(body("{\"policies\": ["));

        assertThat(r.getStatus()).isEqualTo(400);
        assertThat(((ObjectNode) r.getEntity()).get("error").asText()).startsWith("fleet policy:");
    }

    @Test
    void putPolicies_goodPolicy_appliedAndReadBack() {
        Response r = resource.putPolicies(body("{\"policies\":[{\"name\":\"web\",\"dstPorts\":[{\"first\":80,"
                + "\"last\":80}],\"chain\":\"SERVICE_CHAIN_CACHE\"}]}"));

        assertThat(r.getStatus()).isEqualTo(200);
        assertThat(((ObjectNode) r.getEntity()).get("policies").asInt()).isEqualTo(1);
        ObjectNode read = (ObjectNode) resource.getPolicies().getEntity();
        assertThat(read.get("policies").get(0).get("name").asText()).isEqualTo("web");
    }

    @Test
    void getWorkersAndPlacement_renderJson() {
        ObjectNode workers = (ObjectNode) resource.getWorkers().getEntity();
        assertThat(workers.get("leader").asBoolean()).isTrue();
        assertThat(workers.get("workers")).isEmpty();
        ObjectNode placement = (ObjectNode) resource.getPlacement().getEntity();
        assertThat(placement.get("table").get("bucketCount").asInt()).isEqualTo(256);
        assertThat(placement.get("problems")).isEmpty();
    }
}
