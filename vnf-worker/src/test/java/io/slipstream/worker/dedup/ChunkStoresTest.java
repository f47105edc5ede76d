package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChunkStoresTest {

    @Test
    void store_samePeerPair_sameInstanceWithConfiguredBound() {
        ChunkStores stores = ChunkStores.withMaxBytesPerPeer(1 << 20);
        assertThat(stores.store("a|b")).isSameAs(stores.store("a|b")).isNotSameAs(stores.store("a|c"));
        assertThat(stores.sentIndex("a|b")).isSameAs(stores.sentIndex("a|b"));
        assertThat(stores.store("a|b").maxBytes()).isEqualTo(1 << 20);
        assertThat(stores.sentIndex("a|b").maxBytes()).isEqualTo(1 << 20);
        assertThat(stores.peerPairs()).containsExactlyInAnyOrder("a|b", "a|c");
    }

    @Test
    void remove_peerPair_dropsStoreAndIndex() {
        ChunkStores stores = ChunkStores.withMaxBytesPerPeer(1 << 20);
        ChunkStore store = stores.store("x");
        store.put(ChunkFingerprint.of(1, 1), new byte[100]);
        stores.sentIndex("x").recordSent(ChunkFingerprint.of(1, 1), 100);
        assertThat(stores.bytesHeld()).isEqualTo(100);
        stores.remove("x");
        assertThat(stores.peerPairs()).isEmpty();
        assertThat(stores.bytesHeld()).isZero();
        assertThat(stores.store("x")).isNotSameAs(store);
        assertThat(stores.sentIndex("x").peerHolds(ChunkFingerprint.of(1, 1))).isFalse();
    }

    @Test
    void invalidArguments_throwWithExpectation() {
        assertThatThrownBy(() -> ChunkStores.withMaxBytesPerPeer(0)).hasMessage("maxBytes: 0 (expected: > 0)");
        ChunkStores stores = ChunkStores.withMaxBytesPerPeer(1);
        assertThatThrownBy(() -> stores.store(" ")).hasMessage("peerPairId: ' ' (expected: non-blank)");
        assertThatThrownBy(() -> stores.sentIndex(null)).isInstanceOf(NullPointerException.class);
    }
}
