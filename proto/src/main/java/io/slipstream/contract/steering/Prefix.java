package io.slipstream.contract.steering;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/** An IPv4 or IPv6 CIDR prefix. Immutable. */
public final class Prefix {

    private final byte[] network;
    private final int length;
    private final String text;

    private Prefix(byte[] network, int length, String text) {
        this.network = network;
        this.length = length;
        this.text = text;
    }

    /**
     * Parses {@code 10.1.0.0/16} or {@code 2001:db8::/32}; host bits are cleared.
     *
     * @throws IllegalArgumentException naming what was expected
     */
    public static Prefix parse(String cidr) {
        String expected = "'" + cidr + "' (expected: a CIDR prefix such as 10.1.0.0/16 or 2001:db8::/32)";
        int slash = cidr == null ? -1 : cidr.indexOf('/');
        if (slash <= 0 || slash == cidr.length() - 1) {
            throw new IllegalArgumentException(expected);
        }
        String address = cidr.substring(0, slash);
        if (!address.matches("[0-9A-Fa-f:.]+")) {
            throw new IllegalArgumentException(expected);
        }
        byte[] bytes;
        try {
            // Only digits, hex, ':' and '.': a literal, never a name lookup.
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(expected, e);
        }
        int length;
        try {
            length = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(expected, e);
        }
        if (length < 0 || length > bytes.length * 8) {
            throw new IllegalArgumentException("'" + cidr + "' (expected: a prefix length 0.." + bytes.length * 8 + ")");
        }
        for (int bit = length; bit < bytes.length * 8; bit++) {
            bytes[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return new Prefix(bytes, length, cidr);
    }

    /** Whether {@code address} (4 or 16 bytes) lies in this prefix; an IPv4 address never matches an IPv6 prefix. */
    public boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        int full = length / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = length % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (address[full] & mask) == (network[full] & 0xff);
    }

    public boolean contains(InetAddress address) {
        return contains(address.getAddress());
    }

    public int length() {
        return length;
    }

    /** The network address, host bits cleared. */
    public byte[] network() {
        return network.clone();
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prefix && ((Prefix) o).length == length && Arrays.equals(((Prefix) o).network, network);
    }

    @Override
    public int hashCode() {
        return Objects.hash(length, Arrays.hashCode(network));
    }

    @Override
    public String toString() {
        return text;
    }
}
