package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class PortMasksTest {

    private static BitSet covered(List<int[]> matches) {
        BitSet ports = new BitSet(65536);
        for (int[] m : matches) {
            assertThat(m[0] & ~m[1] & 0xffff).as("value aligned to its mask").isZero();
            for (int p = 0; p < 65536; p++) {
                if ((p & m[1]) == m[0]) {
                    assertThat(ports.get(p)).as("port %d matched twice", p).isFalse();
                    ports.set(p);
                }
            }
        }
        return ports;
    }

    @Test
    void cover_rangesOfManyShapes_matchExactlyTheRange() {
        int[][] ranges = {{445, 445}, {8000, 8003}, {1, 65535}, {0, 65535}, {1024, 2047}, {80, 90}, {65535, 65535}};
        for (int[] r : ranges) {
            BitSet expected = new BitSet(65536);
            expected.set(r[0], r[1] + 1);
            assertThat(covered(PortMasks.cover(r[0], r[1]))).as("%d..%d", r[0], r[1]).isEqualTo(expected);
        }
    }

    @Test
    void cover_alignedBlock_isOneMaskedMatch() {
        assertThat(PortMasks.cover(8000, 8003)).hasSize(1);
        assertThat(PortMasks.cover(8000, 8003).get(0)).containsExactly(8000, 0xfffc);
        assertThat(PortMasks.cover(445, 445).get(0)).containsExactly(445, 0xffff);
        assertThat(PortMasks.cover(1, 65535)).hasSize(16);
    }

    @Test
    void cover_reversedRange_isRejected() {
        assertThatThrownBy(() -> PortMasks.cover(90, 80)).hasMessageContaining("90..80");
    }
}
