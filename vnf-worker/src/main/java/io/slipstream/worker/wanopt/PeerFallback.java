package io.slipstream.worker.wanopt;

import io.slipstream.contract.steering.FlowKey;
import io.slipstream.contract.steering.PolicyClassifier;
import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.ServiceChain;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What wanopt does with a new flow when no tunnel to a peer at the far site is up (the peer is down, unreachable,
 * or none is configured): the flow's policy ({@code FlowPolicy.peer_unavailable}, first match wins) decides.
 * Unspecified, no matching policy, or a flow that cannot be classified (a port forward to a host name): fail fast,
 * because a bypassed flow crosses the WAN outside the tunnel and its TLS. Pure and immutable.
 */
final class PeerFallback {

    /** The choice for one flow. */
    enum Action {
        /** Straight to the destination, unoptimised. */
        BYPASS,
        /** Reset the client at once. */
        FAIL_FAST;

        /** Metric tag value. */
        String tag() {
            return this == BYPASS ? "bypass" : "fail_fast";
        }
    }

    /** Before the first configuration: no policies, every flow fails fast. */
    static final PeerFallback NONE = new PeerFallback(PolicyClassifier.of(List.of()), Map.of());

    private final PolicyClassifier classifier;
    /** The cache+wanopt policies by name: a cache worker's miss names its policy in the PROXY header. */
    private final Map<String, FlowPolicy> chained;

    private PeerFallback(PolicyClassifier classifier, Map<String, FlowPolicy> chained) {
        this.classifier = classifier;
        this.chained = chained;
    }

    /**
     * @param policies the pushed flow policies, already validated
     * @throws IllegalArgumentException naming the policy and field that does not compile
     */
    static PeerFallback of(List<FlowPolicy> policies) {
        Map<String, FlowPolicy> chained = new HashMap<>();
        for (FlowPolicy p : policies) {
            if (p.getChain() == ServiceChain.SERVICE_CHAIN_CACHE_WANOPT) {
                chained.putIfAbsent(p.getName(), p);
            }
        }
        return new PeerFallback(PolicyClassifier.of(policies), Map.copyOf(chained));
    }

    /**
     * The policy of a flow: the cache+wanopt policy {@code named} in its PROXY header when there is one by that
     * name (a cache worker's miss, whose source is the cache, not a client), else the first policy it matches.
     */
    private Optional<FlowPolicy> policy(FlowKey flow, String named) {
        FlowPolicy byName = named == null || named.isEmpty() ? null : chained.get(named);
        if (byName != null) {
            return Optional.of(byName);
        }
        return flow == null ? Optional.empty() : classifier.classify(flow);
    }

    /** {@link #decide(FlowKey)}, the named cache+wanopt policy first. */
    Action decide(FlowKey flow, String named) {
        return policy(flow, named).map(p -> action(p.getPeerUnavailable())).orElse(Action.FAIL_FAST);
    }

    /** {@link #policyOf(FlowKey)}, the named cache+wanopt policy first. */
    String policyOf(FlowKey flow, String named) {
        String name = policy(flow, named).map(FlowPolicy::getName).orElse("");
        return name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255 ? "" : name;
    }

    /** The action for {@code flow}; {@code null} (not classifiable) fails fast. */
    Action decide(FlowKey flow) {
        return decide(flow, "");
    }

    /**
     * The name of the policy {@code flow} falls under, for counters; empty when none matches or the flow
     * cannot be classified ({@code null}), or when the name does not fit an OPEN frame (255 bytes).
     */
    String policyOf(FlowKey flow) {
        return policyOf(flow, "");
    }

    /** {@code PEER_UNAVAILABLE_UNSPECIFIED} (the default) means fail fast, the behaviour before the choice existed. */
    static Action action(PeerUnavailable choice) {
        return choice == PeerUnavailable.PEER_UNAVAILABLE_BYPASS ? Action.BYPASS : Action.FAIL_FAST;
    }
}
