package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DiskObjectsTest {

    private static final byte[] BODY = "hello, disk".getBytes(StandardCharsets.US_ASCII);

    private static DiskObjects.Header header() {
        StoredResponse stored = StoredResponse.of(RequestHead.get("http://o.example/a", "Accept-Encoding", "gzip"),
                ResponseHead.of(200, "Cache-Control", "max-age=60", "Vary", "Accept-Encoding", "ETag", "\"x\""),
                Instant.ofEpochSecond(1_700_000_000, 5), Instant.ofEpochSecond(1_700_000_001, 7));
        return new DiskObjects.Header("http://o.example/a", stored, Map.of("accept-encoding", "gzip"),
                Set.of("t1", "t2"), true, BODY.length, DiskObjects.crc(BODY, 0, BODY.length));
    }

    private static ByteBuffer file(byte[] encoded, byte[] body) {
        return ByteBuffer.allocate(encoded.length + body.length).put(encoded).put(body).flip();
    }

    @Test
    void decode_encodedHeader_roundTrips() throws IOException {
        byte[] encoded = DiskObjects.encode(header());
        DiskObjects.Header h = DiskObjects.decode(ByteBuffer.wrap(encoded), encoded.length + BODY.length);
        DiskObjects.Header want = header();
        assertThat(h.key()).isEqualTo(want.key());
        assertThat(h.stored().request()).isEqualTo(want.stored().request());
        assertThat(h.stored().response()).isEqualTo(want.stored().response());
        assertThat(h.stored().requestTime()).isEqualTo(want.stored().requestTime());
        assertThat(h.stored().responseTime()).isEqualTo(want.stored().responseTime());
        assertThat(h.secondaryKey()).isEqualTo(want.secondaryKey());
        assertThat(h.tags()).isEqualTo(want.tags());
        assertThat(h.softPurged()).isTrue();
        assertThat(h.bodyLength()).isEqualTo(BODY.length);
        assertThat(DiskObjects.bodyMatches(ByteBuffer.wrap(BODY), h.bodyCrc())).isTrue();
    }

    @Test
    void decode_flippedHeaderByte_rejectedAsChecksumMismatch() throws IOException {
        byte[] encoded = DiskObjects.encode(header());
        encoded[DiskObjects.PREAMBLE + 3] ^= 1;
        assertThatThrownBy(() -> DiskObjects.decode(ByteBuffer.wrap(encoded), encoded.length + BODY.length))
                .isInstanceOf(IOException.class).hasMessageContaining("header checksum mismatch");
    }

    @Test
    void decode_truncatedFile_rejectedNamingTheLength() throws IOException {
        byte[] encoded = DiskObjects.encode(header());
        assertThatThrownBy(() -> DiskObjects.decode(ByteBuffer.wrap(encoded), encoded.length + BODY.length - 1))
                .isInstanceOf(IOException.class).hasMessageContaining("expected: " + (encoded.length + BODY.length));
    }

    @Test
    void decode_badMagicOrHugeHeaderLength_rejected() throws IOException {
        byte[] encoded = DiskObjects.encode(header());
        byte[] badMagic = encoded.clone();
        badMagic[0] = 'X';
        assertThatThrownBy(() -> DiskObjects.decode(ByteBuffer.wrap(badMagic), badMagic.length + BODY.length))
                .hasMessageContaining("bad magic");
        byte[] huge = encoded.clone();
        ByteBuffer.wrap(huge).putInt(DiskObjects.MAGIC.length, Integer.MAX_VALUE);
        assertThatThrownBy(() -> DiskObjects.decode(ByteBuffer.wrap(huge), huge.length + BODY.length))
                .hasMessageContaining("header length");
        assertThatThrownBy(() -> DiskObjects.headerLength(ByteBuffer.wrap(new byte[5])))
                .hasMessageContaining("truncated preamble");
    }

    @Test
    void bodyMatches_changedBodyByte_false() throws IOException {
        byte[] body = BODY.clone();
        body[2] ^= 0x20;
        assertThat(DiskObjects.bodyMatches(ByteBuffer.wrap(body), header().bodyCrc())).isFalse();
    }

    @Test
    void patchBodyCrc_afterStreaming_headerStillValidWithNewCrc() throws IOException {
        DiskObjects.Header h = header();
        byte[] encoded = DiskObjects.encode(new DiskObjects.Header(h.key(), h.stored(), h.secondaryKey(), h.tags(),
                h.softPurged(), h.bodyLength(), 0));
        DiskObjects.patchBodyCrc(encoded, h.bodyCrc());
        ByteBuffer f = file(encoded, BODY);
        assertThat(DiskObjects.decode(f, f.remaining()).bodyCrc()).isEqualTo(h.bodyCrc());
    }
}
