package io.slipstream.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.CacheSettings;
import io.slipstream.proto.v1.Codec;
import io.slipstream.proto.v1.CompressionSettings;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.WorkerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValidatorTest {

    static FlowPolicy.Builder policy(String name) {
        return FlowPolicy.newBuilder().setName(name).setChain(ServiceChain.SERVICE_CHAIN_WANOPT);
    }

    static WorkerConfig.Builder valid() {
        return WorkerConfig.newBuilder()
                .setRole(Role.ROLE_WANOPT)
                .setSite("a")
                .addPeers(Peer.newBuilder().setWorkerId("w-b").setSite("b").setDataEndpoint("10.0.0.2:7000"))
                .addPolicies(policy("smb").addSrcPrefixes("10.1.0.0/16").addDstPrefixes("2001:db8::/32")
                        .addDstPorts(PortRange.newBuilder().setFirst(445).setLast(445)))
                .setCompression(CompressionSettings.newBuilder().setCodec(Codec.CODEC_ZSTD).setLevel(3));
    }

    @Test
    void validate_completeConfig_hasNoErrors() {
        assertThat(ConfigValidator.validate(valid().build(), Role.ROLE_WANOPT, "a")).isEmpty();
    }

    @Test
    void validate_otherRoleThanWorker_namesRole() {
        assertThat(ConfigValidator.validate(valid().build(), Role.ROLE_CACHE, "a"))
                .singleElement().asString().startsWith("role: ROLE_WANOPT").contains("ROLE_CACHE");
    }

    @Test
    void validate_unspecifiedRole_namesRole() {
        assertThat(ConfigValidator.validate(valid().setRole(Role.ROLE_UNSPECIFIED).build(), null, null))
                .anySatisfy(e -> assertThat(e).startsWith("role: ROLE_UNSPECIFIED"));
    }

    @Test
    void validate_otherSite_namesSite() {
        assertThat(ConfigValidator.validate(valid().build(), Role.ROLE_WANOPT, "b"))
                .singleElement().asString().startsWith("site: 'a'");
    }

    @Test
    void validate_portOutOfRange_namesFieldPath() {
        WorkerConfig config = valid().addPolicies(policy("web")
                .addDstPorts(PortRange.newBuilder().setFirst(80).setLast(80))
                .addDstPorts(PortRange.newBuilder().setFirst(70000).setLast(70001))).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .contains("policies[1].dst_ports[1].first: 70000 (expected: 1..65535)",
                        "policies[1].dst_ports[1].last: 70001 (expected: 1..65535)");
    }

    @Test
    void validate_unknownPeerUnavailableValue_namesFieldPath() {
        WorkerConfig config = valid().addPolicies(policy("web").setPeerUnavailableValue(7)).build();
        assertThat(ConfigValidator.validate(config, null, null)).containsExactly("policies[1].peer_unavailable: 7 "
                + "(expected: PEER_UNAVAILABLE_UNSPECIFIED, PEER_UNAVAILABLE_BYPASS or PEER_UNAVAILABLE_FAIL_FAST)");
    }

    @Test
    void validate_reversedPortRange_namesLast() {
        WorkerConfig config = valid().addPolicies(policy("web")
                .addDstPorts(PortRange.newBuilder().setFirst(90).setLast(80))).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .containsExactly("policies[1].dst_ports[0].last: 80 (expected: >= first, 90)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.1.0.0", "10.1.0.0/33", "300.1.0.0/8", "example.com/8", "/8", "10.1.0.0/", "::1/129",
        "1.2.3.4/x", "fe80::zz/64"})
    void validate_badPrefix_namesPrefix(String prefix) {
        WorkerConfig config = valid().addPolicies(policy("p2").addSrcPrefixes(prefix)).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .singleElement().asString().startsWith("policies[1].src_prefixes[0]: '" + prefix + "'");
    }

    @Test
    void validate_duplicatePolicyName_namesSecond() {
        WorkerConfig config = valid().addPolicies(policy("smb")).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .containsExactly("policies[1].name: 'smb' (expected: unique, it is used twice)");
    }

    @Test
    void validate_missingChain_namesChain() {
        WorkerConfig config = valid().addPolicies(FlowPolicy.newBuilder().setName("x")).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .singleElement().asString().startsWith("policies[1].chain: SERVICE_CHAIN_UNSPECIFIED");
    }

    @Test
    void validate_unknownEnumNumber_isRejected() {
        WorkerConfig config = valid().addPolicies(policy("x").setChainValue(99).setProtocolValue(42)).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .anySatisfy(e -> assertThat(e).startsWith("policies[1].chain: UNRECOGNIZED"))
                .anySatisfy(e -> assertThat(e).startsWith("policies[1].protocol: 42"));
    }

    @Test
    void validate_levelAboveCodecMaximum_namesLevel() {
        WorkerConfig config = valid().setCompression(CompressionSettings.newBuilder()
                .setCodec(Codec.CODEC_DEFLATE).setLevel(12)).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .containsExactly("compression.level: 12 (expected: 0...9 for CODEC_DEFLATE)");
    }

    @Test
    void validate_peerAtOwnSiteOrWithoutPort_isRejected() {
        WorkerConfig config = valid()
                .addPeers(Peer.newBuilder().setWorkerId("w-a2").setSite("a").setDataEndpoint("10.0.0.3:7000"))
                .addPeers(Peer.newBuilder().setWorkerId("w-c").setSite("c").setDataEndpoint("10.0.0.4"))
                .build();
        assertThat(ConfigValidator.validate(config, null, null)).containsExactly(
                "peers[1].site: 'a' (expected: a site other than this worker's own)",
                "peers[2].data_endpoint: '10.0.0.4' (expected: host:port with port 1..65535)");
    }

    @Test
    void validate_cacheObjectLargerThanCache_namesMaxObjectBytes() {
        WorkerConfig config = valid().setRole(Role.ROLE_CACHE).clearPeers()
                .setCache(CacheSettings.newBuilder().setMaxBytes(100).setMaxObjectBytes(200)
                        .addShardMembers(Peer.newBuilder().setWorkerId("c1").setSite("b").setDataEndpoint("[::1]:80")))
                .build();
        assertThat(ConfigValidator.validate(config, null, null)).containsExactly(
                "cache.max_object_bytes: 200 (expected: <= max_bytes, 100)",
                "cache.shard_members[0].site: 'b' (expected: 'a', this worker's site)");
    }

    @Test
    void validate_uint64CacheSizesAboveTwoToThe63_comparedUnsignedAndBounded() {
        // -1L is 2^64-1 on the wire: a signed comparison would let it through as smaller than max_bytes.
        WorkerConfig config = valid().setRole(Role.ROLE_CACHE).clearPeers()
                .setCache(CacheSettings.newBuilder().setMaxBytes(100).setMaxObjectBytes(-1L)).build();
        assertThat(ConfigValidator.validate(config, null, null)).containsExactly(
                "cache.max_object_bytes: 18446744073709551615 (expected: <= max_bytes, 100)",
                "cache.max_object_bytes: 18446744073709551615 (expected: 0 for the default, or at most 1099511627776)");
        WorkerConfig huge = valid().setRole(Role.ROLE_CACHE).clearPeers()
                .setCache(CacheSettings.newBuilder().setMaxBytes(-1L)).build();
        assertThat(ConfigValidator.validate(huge, null, null)).containsExactly(
                "cache.max_bytes: 18446744073709551615 (expected: 0 for the default, or at most 1099511627776)");
    }

    @Test
    void validate_uint32MinHardwareBlockAboveTwoToThe31_isRejectedUnsigned() {
        WorkerConfig config = valid().setCompression(CompressionSettings.newBuilder().setCodec(Codec.CODEC_ZSTD)
                .setMinHardwareBlockBytes(-1)).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .containsExactly("compression.min_hardware_block_bytes: 4294967295 (expected: <= 16777216)");
    }

    @Test
    void validate_steeringOwnerAboveTwoToThe31_isOutOfRangeNotNegative() {
        WorkerConfig config = valid().setSteering(io.slipstream.proto.v1.SteeringTable.newBuilder().setBucketCount(2)
                .addEntries(io.slipstream.proto.v1.SteeringEntry.newBuilder().setPolicy("smb").setSite("a")
                        .addMembers(Peer.newBuilder().setWorkerId("w1").setSite("a").setDataEndpoint("10.0.0.5:7000"))
                        .addOwners(0).addOwners(-1))).build();
        assertThat(ConfigValidator.validate(config, null, null)).containsExactly(
                "steering.entries[0].owners[1]: 4294967295 (expected: an index into members, 0..0)");
    }

    @Test
    void validate_chainTable_checkedLikeTheSteeringTable() {
        WorkerConfig config = valid().setChain(io.slipstream.proto.v1.SteeringTable.newBuilder().setBucketCount(2)
                .addEntries(io.slipstream.proto.v1.SteeringEntry.newBuilder().setPolicy("nosuch").setSite("a")
                        .addMembers(Peer.newBuilder().setWorkerId("w1").setSite("a").setDataEndpoint("10.0.0.5:7000"))
                        .addOwners(0).addOwners(1))).build();
        assertThat(ConfigValidator.validate(config, null, null)).containsExactly(
                "chain.entries[0].policy: 'nosuch' (expected: the name of one of the policies)",
                "chain.entries[0].owners[1]: 1 (expected: an index into members, 0..0)");
    }

    @Test
    void validate_hundredThousandPolicies_oneErrorNamingTheCount() {
        WorkerConfig.Builder config = valid();
        for (int i = 0; i < 100_000; i++) {
            config.addPolicies(policy("p" + i));
        }
        assertThat(ConfigValidator.validate(config.build(), null, null))
                .containsExactly("policies: 100001 entries (expected: at most 10000)");
    }

    @Test
    void validate_hugeStrings_rejectedWithTheValueQuotedOnlyInPart() {
        String huge = "x".repeat(1 << 20);
        WorkerConfig config = valid().setSite(huge)
                .addPeers(Peer.newBuilder().setWorkerId(huge).setSite("c").setDataEndpoint("10.0.0.9:1")).build();
        assertThat(ConfigValidator.validate(config, null, null))
                .anySatisfy(e -> assertThat(e).startsWith("site: 'xxx").endsWith(" chars)"))
                .anySatisfy(e -> assertThat(e).startsWith("peers[1].worker_id: 'xxx"))
                .allSatisfy(e -> assertThat(e.length()).isLessThan(ConfigValidator.MAX_ERROR_CHARS + 40));
    }

    @Test
    void validate_workerIdWithControlCharacters_namesWorkerId() {
        WorkerConfig config = valid().clearPeers()
                .addPeers(Peer.newBuilder().setWorkerId("w\nb").setSite("b").setDataEndpoint("10.0.0.2:7000")).build();
        assertThat(ConfigValidator.validate(config, null, null)).singleElement().asString()
                .startsWith("peers[0].worker_id: ");
    }

    @Test
    void requireValid_invalid_throwsWithEveryError() {
        WorkerConfig config = valid().setSite("").setRole(Role.ROLE_UNSPECIFIED).build();
        assertThatThrownBy(() -> ConfigValidator.requireValid(config, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("role: ROLE_UNSPECIFIED").hasMessageContaining("site: ''");
    }

    @Test
    void digest_ignoresGeneration_butNotContent() {
        WorkerConfig a = valid().setGeneration(1).build();
        WorkerConfig b = valid().setGeneration(2).build();
        WorkerConfig c = valid().setSite("b").build();
        assertThat(ConfigDigest.of(a)).isEqualTo(ConfigDigest.of(b)).hasSize(64);
        assertThat(ConfigDigest.of(a)).isNotEqualTo(ConfigDigest.of(c));
    }
}
