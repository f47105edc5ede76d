package io.slipstream.contract.steering;

import java.net.InetAddress;
import java.util.Objects;

/** What a flow is classified and hashed by: its 5-tuple and the site it enters at. Immutable. */
public final class FlowKey {

    /** IP protocol numbers. */
    public static final int TCP = 6;
    public static final int UDP = 17;

    private final InetAddress src;
    private final int srcPort;
    private final InetAddress dst;
    private final int dstPort;
    private final int protocol;
    private final String ingressSite;

    public FlowKey(InetAddress src, int srcPort, InetAddress dst, int dstPort, int protocol, String ingressSite) {
        this.src = Objects.requireNonNull(src, "src");
        this.dst = Objects.requireNonNull(dst, "dst");
        this.srcPort = checkPort(srcPort, "srcPort");
        this.dstPort = checkPort(dstPort, "dstPort");
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol: " + protocol + " (expected: 0..255)");
        }
        this.protocol = protocol;
        this.ingressSite = Objects.requireNonNull(ingressSite, "ingressSite");
    }

    /** A TCP flow. */
    public static FlowKey tcp(InetAddress src, int srcPort, InetAddress dst, int dstPort, String ingressSite) {
        return new FlowKey(src, srcPort, dst, dstPort, TCP, ingressSite);
    }

    private static int checkPort(int port, String name) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(name + ": " + port + " (expected: 0..65535)");
        }
        return port;
    }

    public InetAddress src() { return src; }
    public int srcPort() { return srcPort; }
    public InetAddress dst() { return dst; }
    public int dstPort() { return dstPort; }
    public int protocol() { return protocol; }
    public String ingressSite() { return ingressSite; }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FlowKey)) {
            return false;
        }
        FlowKey k = (FlowKey) o;
        return srcPort == k.srcPort && dstPort == k.dstPort && protocol == k.protocol && src.equals(k.src)
                && dst.equals(k.dst) && ingressSite.equals(k.ingressSite);
    }

    @Override
    public int hashCode() {
        return Objects.hash(src, srcPort, dst, dstPort, protocol, ingressSite);
    }

    @Override
    public String toString() {
        return src.getHostAddress() + ":" + srcPort + " -> " + dst.getHostAddress() + ":" + dstPort
                + " proto " + protocol + " @" + ingressSite;
    }
}
