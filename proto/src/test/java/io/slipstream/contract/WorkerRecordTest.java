package io.slipstream.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import io.slipstream.proto.v1.Role;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerRecordTest {

    private final ObjectMapper mapper = new ObjectMapper();

    @Test
    void json_roundTrip_keepsEveryField() throws Exception {
        WorkerRecord record = new WorkerRecord("w1", "WANOPT", "a", "10.0.0.1:9000", "10.0.0.1:7000",
                "10.0.0.1:9100", 125_000_000L, List.of("qat", "zstd-jni"), "1.0");
        WorkerRecord back = mapper.readValue(mapper.writeValueAsString(record), WorkerRecord.class);
        assertThat(back).isEqualTo(record);
        assertThat(back.role()).isEqualTo("wanopt");
    }

    @Test
    void json_unknownFields_areIgnored() throws Exception {
        WorkerRecord r = mapper.readValue("{\"id\":\"w\",\"role\":\"cache\",\"site\":\"a\","
                + "\"controlEndpoint\":\"h:1\",\"future\":true}", WorkerRecord.class);
        assertThat(r.capacityBytesPerSecond()).isZero();
        assertThat(r.compressionProviders()).isEmpty();
    }

    @Test
    void json_badRole_isRejectedWithExpectedValues() {
        assertThatThrownBy(() -> mapper.readValue("{\"id\":\"w\",\"role\":\"router\",\"site\":\"a\","
                + "\"controlEndpoint\":\"h:1\"}", WorkerRecord.class))
                .isInstanceOf(ValueInstantiationException.class)
                .hasMessageContaining("role: 'router' (expected: wanopt, cache or gateway)");
    }

    @Test
    void roles_parseAndName_areInverse() {
        for (Role role : new Role[] {Role.ROLE_WANOPT, Role.ROLE_CACHE, Role.ROLE_GATEWAY}) {
            assertThat(Roles.parse(Roles.name(role))).isEqualTo(role);
        }
        assertThatThrownBy(() -> Roles.name(Role.ROLE_UNSPECIFIED)).isInstanceOf(IllegalArgumentException.class);
    }
}
