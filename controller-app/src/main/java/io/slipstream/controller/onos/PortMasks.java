package io.slipstream.controller.onos;

import java.util.ArrayList;
import java.util.List;

/** Covers an inclusive port range with the fewest {value, mask} matches (OpenFlow masked TCP/UDP ports). */
final class PortMasks {

    private PortMasks() {
    }

    /**
     * @return {value, mask} pairs, value aligned to its mask, together matching exactly {@code first..last}
     * @throws IllegalArgumentException unless {@code 0 <= first <= last <= 65535}
     */
    static List<int[]> cover(int first, int last) {
        if (first < 0 || last > 0xffff || first > last) {
            throw new IllegalArgumentException("port range: " + first + ".." + last + " (expected: 0 <= first <= last <= 65535)");
        }
        List<int[]> out = new ArrayList<>();
        int start = first;
        while (start <= last) {
            int size = start == 0 ? 0x10000 : Integer.lowestOneBit(start);
            while (start + size - 1 > last) {
                size >>= 1;
            }
            out.add(new int[] {start, 0xffff & ~(size - 1)});
            start += size;
        }
        return out;
    }
}
