package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FingerprintTableTest {

    @Test
    void randomPutsAndRemoves_agreeWithHashMap() {
        FingerprintTable table = new FingerprintTable();
        Map<ChunkFingerprint, Long> model = new HashMap<>();
        Random random = new Random(7);
        int mismatches = 0;
        for (int op = 0; op < 100_000; op++) {
            // Few distinct high halves and clustered low halves: long probe runs, wrap-around, backward shifts.
            ChunkFingerprint fp = ChunkFingerprint.of(random.nextInt(4), random.nextInt(5000));
            if (random.nextInt(3) == 0) {
                mismatches += table.remove(fp) == model.getOrDefault(fp, 0L) ? 0 : 1;
                model.remove(fp);
            } else {
                long v = 1 + random.nextInt(1000);
                mismatches += table.put(fp, v) == model.getOrDefault(fp, 0L) ? 0 : 1;
                model.put(fp, v);
            }
            mismatches += table.get(fp) == model.getOrDefault(fp, 0L) ? 0 : 1;
        }
        assertThat(mismatches).isZero();
        assertThat(table.size()).isEqualTo(model.size());
        for (Map.Entry<ChunkFingerprint, Long> e : model.entrySet()) {
            assertThat(table.get(e.getKey())).isEqualTo(e.getValue());
        }
    }

    @Test
    void replaceAll_removingHalf_keepsTheOtherHalfFindable() {
        FingerprintTable table = new FingerprintTable();
        for (int i = 0; i < 10_000; i++) {
            table.put(ChunkFingerprint.of(i, i * 31L), i + 1);
        }
        table.replaceAll((m, l, v) -> v % 2 == 0 ? 0 : v);
        assertThat(table.size()).isEqualTo(5_000);
        for (int i = 0; i < 10_000; i++) {
            assertThat(table.get(ChunkFingerprint.of(i, i * 31L))).isEqualTo(i % 2 == 0 ? i + 1 : 0);
        }
    }
}
