package io.slipstream.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RendezvousHashTest {

    static final class M {
        final String id;
        final int weight;

        M(String id, int weight) {
            this.id = id;
            this.weight = weight;
        }

        String id() {
            return id;
        }

        int weight() {
            return weight;
        }
    }

    private static M owner(String key, List<M> members) {
        return RendezvousHash.owner(key, members, M::id, M::weight);
    }

    /** Computed by an independent implementation; changing it moves every key in a running fleet. */
    @Test
    void hash_isPinned_soEveryProcessAndVersionAgrees() {
        assertThat(Long.toHexString(RendezvousHash.hash("a", "b"))).isEqualTo("ab78f5eca36d0e2b");
        assertThat(RendezvousHash.hash("cache-a1", "http://example.com/"))
                .isEqualTo(RendezvousHash.hash("cache-a1", "http://example.com/"))
                .isNotEqualTo(RendezvousHash.hash("cache-a2", "http://example.com/"));
    }

    @Test
    void owner_memberOrder_doesNotMatter() {
        List<M> members = new ArrayList<>(List.of(new M("w1", 1), new M("w2", 1), new M("w3", 2), new M("w4", 1)));
        Map<String, String> before = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            before.put("k" + i, owner("k" + i, members).id());
        }
        Collections.shuffle(members, new Random(7));
        for (int i = 0; i < 1000; i++) {
            assertThat(owner("k" + i, members).id()).isEqualTo(before.get("k" + i));
        }
    }

    @Test
    void owner_memberRemoved_onlyItsKeysMove() {
        List<M> four = List.of(new M("w1", 1), new M("w2", 1), new M("w3", 1), new M("w4", 1));
        List<M> three = List.of(new M("w1", 1), new M("w2", 1), new M("w4", 1));
        int moved = 0;
        for (int i = 0; i < 4000; i++) {
            String before = owner("k" + i, four).id();
            String after = owner("k" + i, three).id();
            if (!before.equals("w3")) {
                assertThat(after).isEqualTo(before);
            } else {
                moved++;
            }
        }
        assertThat(moved).isBetween(850, 1150);
    }

    @Test
    void owner_weights_giveProportionalShares() {
        List<M> members = List.of(new M("small", 1), new M("big", 3));
        int big = 0;
        for (int i = 0; i < 20_000; i++) {
            if (owner("http://h/" + i, members).id().equals("big")) {
                big++;
            }
        }
        assertThat(big / 20_000.0).isBetween(0.72, 0.78);
    }

    @Test
    void owner_zeroWeight_countsAsOne() {
        assertThat(RendezvousHash.score("w", "k", 0)).isEqualTo(RendezvousHash.score("w", "k", 1));
    }

    @Test
    void owner_noMembers_throwsNamingWhatIsExpected() {
        assertThatThrownBy(() -> owner("k", List.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one member");
    }
}
