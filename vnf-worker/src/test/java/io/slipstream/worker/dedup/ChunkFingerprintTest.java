package io.slipstream.worker.dedup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChunkFingerprintTest {

    private static final ChunkFingerprint FP = ChunkFingerprint.of(0x0123456789abcdefL, 0xfedcba9876543210L);

    @Test
    void toBytes_anyFingerprint_sixteenBytesBigEndian() {
        assertThat(FP.toBytes()).hasSize(ChunkFingerprint.BYTES).startsWith(0x01, 0x23).endsWith(0x32, 0x10);
        assertThat(ChunkFingerprint.fromBytes(FP.toBytes())).isEqualTo(FP);
    }

    @Test
    void writeTo_thenRead_roundTripsWhateverBufferOrder() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            ByteBuffer buf = ByteBuffer.allocateDirect(40).order(order).position(3);
            FP.writeTo(buf);
            assertThat(buf.position()).isEqualTo(19);
            byte[] wire = new byte[16];
            buf.get(3, wire);
            assertThat(wire).isEqualTo(FP.toBytes());
            assertThat(ChunkFingerprint.read(buf.position(3))).isEqualTo(FP);
            assertThat(buf.position()).isEqualTo(19);
        }
    }

    @Test
    void fromHex_toString_roundTrips() {
        assertThat(FP.toString()).isEqualTo("0123456789abcdeffedcba9876543210");
        assertThat(ChunkFingerprint.fromHex(FP.toString())).isEqualTo(FP);
    }

    @Test
    void equalFingerprints_usableAsMapKeys() {
        Map<ChunkFingerprint, String> map = new HashMap<>();
        map.put(FP, "a");
        ChunkFingerprint same = ChunkFingerprint.of(FP.msb(), FP.lsb());
        assertThat(same).isEqualTo(FP).hasSameHashCodeAs(FP);
        assertThat(map).containsEntry(same, "a");
        assertThat(ChunkFingerprint.of(FP.msb(), FP.lsb() ^ 1)).isNotEqualTo(FP);
        assertThat(ChunkFingerprint.of(FP.msb() ^ 1, FP.lsb())).isNotEqualTo(FP);
    }

    @Test
    void read_tooFewBytes_throwsWithExpectation() {
        assertThatThrownBy(() -> ChunkFingerprint.read(ByteBuffer.allocate(15)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("fingerprint: 15 bytes remaining (expected: >= 16)");
        assertThatThrownBy(() -> ChunkFingerprint.fromBytes(new byte[17]))
                .hasMessage("fingerprint: 17 bytes (expected: 16)");
        assertThatThrownBy(() -> ChunkFingerprint.fromHex("abc"))
                .hasMessage("fingerprint: 'abc' (expected: 32 hex digits)");
    }
}
