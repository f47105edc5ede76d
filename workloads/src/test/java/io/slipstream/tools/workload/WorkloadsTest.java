package io.slipstream.tools.workload;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkloadsTest {

    @Test
    void edited_insertsDeletesAndOverwrites_deterministically() {
        byte[] v1 = Workloads.fileLike(1 << 20, 1);
        byte[] v2 = Workloads.edited(v1, 0.01, 2);
        assertThat(Workloads.edited(v1, 0.01, 2)).isEqualTo(v2);
        int run = (int) (v1.length * 0.01 / Workloads.EDITS);
        // 22 overwrites, 21 insertions and 21 deletions of the same length: the length is kept, the bytes shift.
        assertThat(v2.length).isEqualTo(v1.length + (21 - 21) * run);
        int firstDifference = 0;
        while (v1[firstDifference] == v2[firstDifference]) {
            firstDifference++;
        }
        int lastDifference = 0;
        while (v1[v1.length - 1 - lastDifference] == v2[v2.length - 1 - lastDifference]) {
            lastDifference++;
        }
        assertThat(firstDifference).isLessThan(v1.length);
        // Shifts: bytes past the first insertion are not where they were.
        int shifted = 0;
        for (int i = firstDifference; i < v1.length - lastDifference; i++) {
            if (v1[i] != v2[i]) {
                shifted++;
            }
        }
        assertThat(shifted).isGreaterThan(v1.length / 10);
    }

    @Test
    void edited_oddLengths_keepTheRestOfTheFile() {
        byte[] v1 = Workloads.fileLike(10_000, 3);
        byte[] v2 = Workloads.edited(v1, 0.5, 4);
        assertThat(v2).isNotEqualTo(v1);
        assertThat(v2.length).isBetween(v1.length - 64 * 78, v1.length + 64 * 78);
    }
}
