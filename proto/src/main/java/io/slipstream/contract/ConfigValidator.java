package io.slipstream.contract;

import io.slipstream.proto.v1.CacheSettings;
import io.slipstream.proto.v1.Codec;
import io.slipstream.proto.v1.CompressionSettings;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Protocol;
import io.slipstream.proto.v1.Role;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.WorkerConfig;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks a {@link WorkerConfig} before anyone acts on it. Pure: no I/O, no name resolution.
 * Every violation names the field by its path in the message ({@code policies[2].dst_ports[0].last})
 * and says what was expected, so the controller and the worker report the same errors.
 */
public final class ConfigValidator {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}");
    private static final long MAX_BLOCK_THRESHOLD = 16L << 20;
    /** Most entries of any repeated field (policies, peers, sites, steering entries, shard members). */
    public static final int MAX_ENTRIES = 10_000;
    /** Longest worker id, peer site or endpoint (a DNS name's maximum). */
    public static final int MAX_ID_CHARS = 253;
    /** Largest cache a configuration may ask for (1 TiB): beyond any heap, and far from a negative long. */
    public static final long MAX_CACHE_BYTES = 1L << 40;
    /** Longest single violation message: a hostile value is quoted only in part. */
    static final int MAX_ERROR_CHARS = 300;

    private ConfigValidator() {}

    /**
     * All violations of {@code config}; empty when it is valid.
     *
     * @param expectedRole the role of the worker that will run it, or {@code null} to skip that check
     * @param expectedSite the site of that worker, or {@code null} to skip that check
     */
    public static List<String> validate(WorkerConfig config, Role expectedRole, String expectedSite) {
        List<String> errors = new ArrayList<>();
        if (config == null) {
            errors.add("config: missing (expected: a WorkerConfig)");
            return errors;
        }
        validateInto(errors, config, expectedRole, expectedSite);
        for (int i = 0; i < errors.size(); i++) {
            errors.set(i, shorten(errors.get(i)));
        }
        return errors;
    }

    private static String shorten(String error) {
        return error.length() <= MAX_ERROR_CHARS ? error
                : error.substring(0, MAX_ERROR_CHARS) + "... (" + error.length() + " chars)";
    }

    /** False (and a violation naming {@code path}) when {@code count} is above {@link #MAX_ENTRIES}. */
    private static boolean withinLimit(List<String> errors, String path, int count) {
        if (count > MAX_ENTRIES) {
            errors.add(path + ": " + count + " entries (expected: at most " + MAX_ENTRIES + ")");
            return false;
        }
        return true;
    }

    private static void validateInto(List<String> errors, WorkerConfig config, Role expectedRole, String expectedSite) {
        Role role = config.getRole();
        if (role == Role.ROLE_UNSPECIFIED || role == Role.UNRECOGNIZED) {
            errors.add("role: " + role + " (expected: ROLE_WANOPT, ROLE_CACHE or ROLE_GATEWAY)");
        } else if (expectedRole != null && role != expectedRole) {
            errors.add("role: " + role + " (expected: " + expectedRole + ", the role this worker runs)");
        }
        if (config.getSite().isBlank()) {
            errors.add("site: '' (expected: non-empty)");
        } else if (!NAME.matcher(config.getSite()).matches()) {
            errors.add("site: '" + config.getSite() + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        } else if (expectedSite != null && !config.getSite().equals(expectedSite)) {
            errors.add("site: '" + config.getSite() + "' (expected: '" + expectedSite + "', the site of this worker)");
        }
        int peerCount = withinLimit(errors, "peers", config.getPeersCount()) ? config.getPeersCount() : 0;
        for (int i = 0; i < peerCount; i++) {
            Peer peer = config.getPeers(i);
            checkPeer(errors, "peers[" + i + "]", peer);
            if (!peer.getSite().isEmpty() && peer.getSite().equals(config.getSite())) {
                errors.add("peers[" + i + "].site: '" + peer.getSite()
                        + "' (expected: a site other than this worker's own)");
            }
        }
        Set<String> names = new HashSet<>();
        int policyCount = withinLimit(errors, "policies", config.getPoliciesCount()) ? config.getPoliciesCount() : 0;
        for (int i = 0; i < policyCount; i++) {
            checkPolicy(errors, "policies[" + i + "]", config.getPolicies(i), names);
        }
        if (config.hasCompression()) {
            checkCompression(errors, "compression", config.getCompression());
        }
        if (config.hasCache()) {
            checkCache(errors, "cache", config.getCache(), config.getSite());
        }
        checkSites(errors, "sites", config.getSitesList());
        if (config.hasSteering()) {
            checkSteering(errors, "steering", config.getSteering(), names);
        }
        if (config.hasChain()) {
            checkSteering(errors, "chain", config.getChain(), names);
        }
    }

    /** Checks site names (unique) and their prefixes. */
    public static void checkSites(List<String> errors, String path, List<io.slipstream.proto.v1.Site> sites) {
        Set<String> seen = new HashSet<>();
        if (!withinLimit(errors, path, sites.size())) {
            return;
        }
        for (int i = 0; i < sites.size(); i++) {
            io.slipstream.proto.v1.Site site = sites.get(i);
            String p = path + "[" + i + "]";
            if (!NAME.matcher(site.getName()).matches()) {
                errors.add(p + ".name: '" + site.getName() + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
            } else if (!seen.add(site.getName())) {
                errors.add(p + ".name: '" + site.getName() + "' (expected: unique, it is used twice)");
            }
            for (int j = 0; j < site.getPrefixesCount(); j++) {
                checkPrefix(errors, p + ".prefixes[" + j + "]", site.getPrefixes(j));
            }
        }
    }

    /** Checks a bucket count: 0 (the default) or a power of two up to 65536. */
    public static void checkBucketCount(List<String> errors, String path, int count) {
        if (count != 0 && (count < 0 || count > 65536 || Integer.bitCount(count) != 1)) {
            errors.add(path + ": " + Integer.toUnsignedString(count) + " (expected: 0 for the default, or a power of two 1..65536)");
        }
    }

    private static void checkSteering(List<String> errors, String path, io.slipstream.proto.v1.SteeringTable table,
            Set<String> policyNames) {
        int buckets = table.getBucketCount();
        if (buckets < 1 || buckets > 65536 || Integer.bitCount(buckets) != 1) {
            errors.add(path + ".bucket_count: " + Integer.toUnsignedString(buckets) + " (expected: a power of two 1..65536)");
            return;
        }
        Set<String> keys = new HashSet<>();
        if (!withinLimit(errors, path + ".entries", table.getEntriesCount())) {
            return;
        }
        for (int i = 0; i < table.getEntriesCount(); i++) {
            io.slipstream.proto.v1.SteeringEntry e = table.getEntries(i);
            String p = path + ".entries[" + i + "]";
            if (!policyNames.contains(e.getPolicy())) {
                errors.add(p + ".policy: '" + e.getPolicy() + "' (expected: the name of one of the policies)");
            }
            if (!NAME.matcher(e.getSite()).matches()) {
                errors.add(p + ".site: '" + e.getSite() + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
            }
            if (!keys.add(e.getPolicy() + "@" + e.getSite())) {
                errors.add(p + ": policy '" + e.getPolicy() + "' at site '" + e.getSite() + "' (expected: one entry each)");
            }
            for (int j = 0; j < e.getMembersCount(); j++) {
                checkPeer(errors, p + ".members[" + j + "]", e.getMembers(j));
            }
            if (e.getOwnersCount() != 0 && e.getOwnersCount() != buckets) {
                errors.add(p + ".owners: " + e.getOwnersCount() + " entries (expected: 0 or bucket_count, " + buckets + ")");
            }
            for (int j = 0; j < e.getOwnersCount(); j++) {
                if (Integer.toUnsignedLong(e.getOwners(j)) >= e.getMembersCount()) { // uint32: above 2^31 reads negative
                    errors.add(p + ".owners[" + j + "]: " + Integer.toUnsignedString(e.getOwners(j))
                            + " (expected: an index into members, 0.." + (e.getMembersCount() - 1) + ")");
                    break;
                }
            }
        }
    }

    /** Throws {@link IllegalArgumentException} listing every violation, if there is any. */
    public static void requireValid(WorkerConfig config, Role expectedRole, String expectedSite) {
        List<String> errors = validate(config, expectedRole, expectedSite);
        if (!errors.isEmpty()) {
            throw new IllegalArgumentException("invalid worker configuration: " + String.join("; ", errors));
        }
    }

    private static void checkPeer(List<String> errors, String path, Peer peer) {
        if (peer.getWorkerId().isBlank()) {
            errors.add(path + ".worker_id: '' (expected: non-empty)");
        } else if (peer.getWorkerId().length() > MAX_ID_CHARS || !peer.getWorkerId().chars().allMatch(c -> c > ' ' && c < 127)) {
            errors.add(path + ".worker_id: '" + peer.getWorkerId() + "' (expected: 1-" + MAX_ID_CHARS
                    + " visible ASCII characters)");
        }
        if (peer.getSite().isBlank()) {
            errors.add(path + ".site: '' (expected: non-empty)");
        }
        String endpointError = endpointError(peer.getDataEndpoint());
        if (endpointError != null) {
            errors.add(path + ".data_endpoint: '" + peer.getDataEndpoint() + "' (expected: " + endpointError + ")");
        }
    }

    private static void checkPolicy(List<String> errors, String path, FlowPolicy policy, Set<String> names) {
        if (!NAME.matcher(policy.getName()).matches()) {
            errors.add(path + ".name: '" + policy.getName()
                    + "' (expected: 1-64 letters, digits, '.', '_' or '-')");
        } else if (!names.add(policy.getName())) {
            errors.add(path + ".name: '" + policy.getName() + "' (expected: unique, it is used twice)");
        }
        for (int j = 0; j < policy.getSrcPrefixesCount(); j++) {
            checkPrefix(errors, path + ".src_prefixes[" + j + "]", policy.getSrcPrefixes(j));
        }
        for (int j = 0; j < policy.getDstPrefixesCount(); j++) {
            checkPrefix(errors, path + ".dst_prefixes[" + j + "]", policy.getDstPrefixes(j));
        }
        if (policy.getProtocol() == Protocol.UNRECOGNIZED) {
            errors.add(path + ".protocol: " + policy.getProtocolValue()
                    + " (expected: PROTOCOL_ANY, PROTOCOL_TCP or PROTOCOL_UDP)");
        }
        for (int j = 0; j < policy.getDstPortsCount(); j++) {
            PortRange range = policy.getDstPorts(j);
            String p = path + ".dst_ports[" + j + "]";
            if (range.getFirst() < 1 || range.getFirst() > 65535) {
                errors.add(p + ".first: " + range.getFirst() + " (expected: 1..65535)");
            }
            if (range.getLast() < 1 || range.getLast() > 65535) {
                errors.add(p + ".last: " + range.getLast() + " (expected: 1..65535)");
            } else if (range.getLast() < range.getFirst()) {
                errors.add(p + ".last: " + range.getLast() + " (expected: >= first, " + range.getFirst() + ")");
            }
        }
        if (!policy.getIngressSite().isEmpty() && !NAME.matcher(policy.getIngressSite()).matches()) {
            errors.add(path + ".ingress_site: '" + policy.getIngressSite()
                    + "' (expected: empty or 1-64 letters, digits, '.', '_' or '-')");
        }
        ServiceChain chain = policy.getChain();
        if (chain == ServiceChain.SERVICE_CHAIN_UNSPECIFIED || chain == ServiceChain.UNRECOGNIZED) {
            errors.add(path + ".chain: " + chain + " (expected: SERVICE_CHAIN_BYPASS, SERVICE_CHAIN_WANOPT,"
                    + " SERVICE_CHAIN_CACHE or SERVICE_CHAIN_CACHE_WANOPT)");
        }
        if (policy.getCompressionLevel() < 0 || policy.getCompressionLevel() > 22) {
            errors.add(path + ".compression_level: " + policy.getCompressionLevel() + " (expected: 0..22)");
        }
        if (policy.getPeerUnavailable() == io.slipstream.proto.v1.PeerUnavailable.UNRECOGNIZED) {
            errors.add(path + ".peer_unavailable: " + policy.getPeerUnavailableValue() + " (expected:"
                    + " PEER_UNAVAILABLE_UNSPECIFIED, PEER_UNAVAILABLE_BYPASS or PEER_UNAVAILABLE_FAIL_FAST)");
        }
    }

    private static void checkCompression(List<String> errors, String path, CompressionSettings c) {
        Codec codec = c.getCodec();
        int maxLevel;
        switch (codec) {
            case CODEC_UNSPECIFIED:
            case CODEC_ZSTD:
                maxLevel = 22;
                break;
            case CODEC_LZ4:
                maxLevel = 17;
                break;
            case CODEC_DEFLATE:
            case CODEC_GZIP:
                maxLevel = 9;
                break;
            default:
                errors.add(path + ".codec: " + c.getCodecValue()
                        + " (expected: CODEC_ZSTD, CODEC_LZ4, CODEC_DEFLATE or CODEC_GZIP)");
                return;
        }
        if (c.getLevel() < 0 || c.getLevel() > maxLevel) {
            errors.add(path + ".level: " + c.getLevel() + " (expected: 0..." + maxLevel + " for " + codec + ")");
        }
        if (Integer.toUnsignedLong(c.getMinHardwareBlockBytes()) > MAX_BLOCK_THRESHOLD) {
            errors.add(path + ".min_hardware_block_bytes: " + Integer.toUnsignedString(c.getMinHardwareBlockBytes())
                    + " (expected: <= " + MAX_BLOCK_THRESHOLD + ")");
        }
        if (!c.getForceProvider().isEmpty() && !NAME.matcher(c.getForceProvider()).matches()) {
            errors.add(path + ".force_provider: '" + c.getForceProvider()
                    + "' (expected: empty or a provider name)");
        }
    }

    private static void checkCache(List<String> errors, String path, CacheSettings c, String site) {
        // uint64 fields: compared and printed unsigned (a Java long above 2^63 reads negative).
        if (c.getMaxBytes() != 0 && Long.compareUnsigned(c.getMaxObjectBytes(), c.getMaxBytes()) > 0) {
            errors.add(path + ".max_object_bytes: " + Long.toUnsignedString(c.getMaxObjectBytes())
                    + " (expected: <= max_bytes, " + Long.toUnsignedString(c.getMaxBytes()) + ")");
        }
        if (Long.compareUnsigned(c.getMaxBytes(), MAX_CACHE_BYTES) > 0) {
            errors.add(path + ".max_bytes: " + Long.toUnsignedString(c.getMaxBytes())
                    + " (expected: 0 for the default, or at most " + MAX_CACHE_BYTES + ")");
        }
        if (Long.compareUnsigned(c.getMaxObjectBytes(), MAX_CACHE_BYTES) > 0) {
            errors.add(path + ".max_object_bytes: " + Long.toUnsignedString(c.getMaxObjectBytes())
                    + " (expected: 0 for the default, or at most " + MAX_CACHE_BYTES + ")");
        }
        Set<String> ids = new HashSet<>();
        if (!withinLimit(errors, path + ".shard_members", c.getShardMembersCount())) {
            return;
        }
        for (int i = 0; i < c.getShardMembersCount(); i++) {
            Peer member = c.getShardMembers(i);
            String p = path + ".shard_members[" + i + "]";
            checkPeer(errors, p, member);
            if (!member.getSite().isEmpty() && !member.getSite().equals(site)) {
                errors.add(p + ".site: '" + member.getSite() + "' (expected: '" + site + "', this worker's site)");
            }
            if (!member.getWorkerId().isEmpty() && !ids.add(member.getWorkerId())) {
                errors.add(p + ".worker_id: '" + member.getWorkerId() + "' (expected: unique)");
            }
        }
    }

    /** Null when {@code endpoint} is a valid {@code host:port}, else what was expected. */
    static String endpointError(String endpoint) {
        String expected = "host:port with port 1..65535";
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1) {
            return expected;
        }
        String host = endpoint.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            if (!isIpv6(host.substring(1, host.length() - 1))) {
                return expected;
            }
        } else if (!HOST.matcher(host).matches()) {
            return expected;
        }
        try {
            int port = Integer.parseInt(endpoint.substring(colon + 1));
            return port >= 1 && port <= 65535 ? null : expected;
        } catch (NumberFormatException e) {
            return expected;
        }
    }

    private static void checkPrefix(List<String> errors, String path, String prefix) {
        String error = prefixError(prefix);
        if (error != null) {
            errors.add(path + ": '" + prefix + "' (expected: " + error + ")");
        }
    }

    /** Null when {@code prefix} is a valid IPv4 or IPv6 CIDR prefix, else what was expected. */
    static String prefixError(String prefix) {
        String expected = "a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32";
        int slash = prefix.indexOf('/');
        if (slash <= 0 || slash == prefix.length() - 1) {
            return expected;
        }
        String address = prefix.substring(0, slash);
        int maxLength;
        if (IPV4.matcher(address).matches()) {
            for (String octet : address.split("\\.")) {
                if (Integer.parseInt(octet) > 255) {
                    return expected;
                }
            }
            maxLength = 32;
        } else if (isIpv6(address)) {
            maxLength = 128;
        } else {
            return expected;
        }
        try {
            int length = Integer.parseInt(prefix.substring(slash + 1));
            return length >= 0 && length <= maxLength ? null : "a prefix length 0.." + maxLength;
        } catch (NumberFormatException e) {
            return expected;
        }
    }

    private static boolean isIpv6(String address) {
        if (address.indexOf(':') < 0 || !address.matches("[0-9A-Fa-f:.]+")) {
            return false;
        }
        try {
            // A literal made only of hex digits, ':' and '.' is parsed, never looked up.
            return java.net.InetAddress.getByName(address) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }
}
