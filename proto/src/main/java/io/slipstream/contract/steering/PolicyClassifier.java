package io.slipstream.contract.steering;

import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PortRange;
import io.slipstream.proto.v1.Protocol;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * Matches flows against an ordered list of flow policies; the first match wins. Built once per policy
 * list (prefixes parsed up front), then safe to share between threads.
 */
public final class PolicyClassifier {

    private final List<Compiled> compiled;

    private PolicyClassifier(List<Compiled> compiled) {
        this.compiled = compiled;
    }

    /**
     * Compiles {@code policies}, which must already be valid (see {@code ConfigValidator}).
     *
     * @throws IllegalArgumentException naming the policy and field that is not
     */
    public static PolicyClassifier of(List<FlowPolicy> policies) {
        List<Compiled> list = new ArrayList<>(policies.size());
        for (int i = 0; i < policies.size(); i++) {
            list.add(new Compiled(i, policies.get(i)));
        }
        return new PolicyClassifier(Collections.unmodifiableList(list));
    }

    /** The first policy {@code flow} matches. */
    public Optional<FlowPolicy> classify(FlowKey flow) {
        int i = indexOf(flow);
        return i < 0 ? Optional.empty() : Optional.of(compiled.get(i).policy);
    }

    /** Index of the first policy {@code flow} matches, or -1. */
    public int indexOf(FlowKey flow) {
        byte[] src = flow.src().getAddress();
        byte[] dst = flow.dst().getAddress();
        for (Compiled c : compiled) {
            if (c.matches(flow, src, dst)) {
                return c.index;
            }
        }
        return -1;
    }

    public int size() {
        return compiled.size();
    }

    private static final class Compiled {
        final int index;
        final FlowPolicy policy;
        final List<Prefix> src = new ArrayList<>();
        final List<Prefix> dst = new ArrayList<>();
        final int protocol;

        Compiled(int index, FlowPolicy policy) {
            this.index = index;
            this.policy = policy;
            for (int j = 0; j < policy.getSrcPrefixesCount(); j++) {
                src.add(parse(index, "src_prefixes", j, policy.getSrcPrefixes(j)));
            }
            for (int j = 0; j < policy.getDstPrefixesCount(); j++) {
                dst.add(parse(index, "dst_prefixes", j, policy.getDstPrefixes(j)));
            }
            protocol = policy.getProtocol() == Protocol.UNRECOGNIZED ? -1 : policy.getProtocolValue();
        }

        private static Prefix parse(int index, String field, int j, String text) {
            try {
                return Prefix.parse(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("policies[" + index + "]." + field + "[" + j + "]: " + e.getMessage(), e);
            }
        }

        boolean matches(FlowKey flow, byte[] srcAddress, byte[] dstAddress) {
            if (protocol != 0 && protocol != flow.protocol()) {
                return false;
            }
            if (!policy.getIngressSite().isEmpty() && !policy.getIngressSite().equals(flow.ingressSite())) {
                return false;
            }
            if (policy.getDstPortsCount() > 0) {
                boolean any = false;
                for (PortRange r : policy.getDstPortsList()) {
                    if (flow.dstPort() >= r.getFirst() && flow.dstPort() <= r.getLast()) {
                        any = true;
                        break;
                    }
                }
                if (!any) {
                    return false;
                }
            }
            return inAny(src, srcAddress) && inAny(dst, dstAddress);
        }

        private static boolean inAny(List<Prefix> prefixes, byte[] address) {
            if (prefixes.isEmpty()) {
                return true;
            }
            for (Prefix p : prefixes) {
                if (p.contains(address)) {
                    return true;
                }
            }
            return false;
        }
    }
}
