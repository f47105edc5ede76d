package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChunkStoreBudgetTest {

    private static final long MIB = 1L << 20;

    @Test
    void perStore_defaultInASmallWorkerHeap_isCutToAnEighthOfTheHeap() {
        // The local launcher's -Xmx192m with the 256 MiB default: two stores per peer used to exceed the heap.
        assertThat(ChunkStoreBudget.perStore(256 * MIB, 192 * MIB)).isEqualTo(24 * MIB);
    }

    @Test
    void perStore_fitsTheHeap_isKept() {
        assertThat(ChunkStoreBudget.perStore(256 * MIB, 4096 * MIB)).isEqualTo(256 * MIB);
        assertThat(ChunkStoreBudget.perStore(16 * MIB, 192 * MIB)).isEqualTo(16 * MIB);
    }

    @Test
    void perStore_unboundedHeap_keepsTheRequest() {
        assertThat(ChunkStoreBudget.perStore(256 * MIB, Long.MAX_VALUE)).isEqualTo(256 * MIB);
    }

    @Test
    void perStore_tinyHeap_neverBelowTheMinimum() {
        assertThat(ChunkStoreBudget.perStore(256 * MIB, 4 * MIB)).isEqualTo(MIB);
    }

    @Test
    void perStore_badInput_saysWhatWasExpected() {
        assertThatThrownBy(() -> ChunkStoreBudget.perStore(1000, 192 * MIB)).hasMessageContaining("expected: >= 1 MiB");
        assertThatThrownBy(() -> ChunkStoreBudget.perStore(MIB, 0)).hasMessageContaining("expected: > 0");
    }
}
