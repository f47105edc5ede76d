package io.slipstream.contract.steering;

/**
 * Slipstream's own PROXY protocol v2 TLV (a type from the custom range 0xE0-0xEF the protocol leaves to
 * applications): the name of the flow policy a connection belongs to, UTF-8, at most 255 bytes. A cache worker
 * sends it on a {@code cache+wanopt} miss, whose source is the cache and not a client, so the wanopt worker does
 * not have to classify the flow by a source the policy does not name.
 */
public final class ProxyTlv {

    /** The TLV type of the policy name. */
    public static final byte POLICY = (byte) 0xE0;
    /** Longest policy name carried (the OPEN frame's limit too). */
    public static final int MAX_POLICY_BYTES = 255;

    private ProxyTlv() {}
}
