package io.slipstream.worker.compression;

import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Adversarial, Jazzer-free: random mutations of valid envelopes (bit flips, byte overwrites, header
 * fields set to hostile values, truncation, extension, splicing) in a bounded number of iterations.
 * Every mutant is rejected with CorruptBlockException or decodes to exactly the original block; no
 * other outcome (garbage, another exception, an allocation past the configured maximum) is allowed.
 */
class EnvelopeDecoderAdversarialTest {

    private static final int ITERATIONS = 3_000;
    private static final int MAX_BLOCK = 256 * 1024;

    @ParameterizedTest
    @EnumSource(Codec.class)
    void decompress_mutatedEnvelopes_rejectedCleanlyNeverGarbage(Codec codec) {
        try (CompressionProviderRegistry registry = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new SoftwareCompressionProvider()).build()) {
            ResilientCompressor c = registry.compressor(CompressionConfig.builder().codec(codec)
                    .maxBlockBytes(MAX_BLOCK).build());
            byte[][] originals = {TestData.mixed(1, 40_000), TestData.text(3_000), TestData.random(2, 2_000),
                new byte[0], new byte[] {1}};
            byte[][] envelopes = new byte[originals.length][];
            for (int i = 0; i < originals.length; i++) {
                envelopes[i] = TestData.bytes(c.compress(ByteBuffer.wrap(originals[i])));
            }
            SplittableRandom r = new SplittableRandom(codec.ordinal() * 31L + 5);
            int rejected = 0;
            for (int it = 0; it < ITERATIONS; it++) {
                int pick = r.nextInt(originals.length);
                byte[] mutant = mutate(r, envelopes[pick], envelopes[r.nextInt(envelopes.length)]);
                try {
                    byte[] out = TestData.bytes(c.decompress(ByteBuffer.wrap(mutant)));
                    assertThat(out).as("iteration %d accepted a mutant", it).isEqualTo(originals[pick]);
                } catch (CorruptBlockException e) {
                    rejected++;
                    assertThat(e.getMessage()).isNotBlank();
                }
            }
            assertThat(rejected).isGreaterThan(ITERATIONS / 2);
        }
    }

    private static byte[] mutate(SplittableRandom r, byte[] valid, byte[] other) {
        byte[] m = valid.clone();
        switch (r.nextInt(7)) {
            case 0: // flip bits anywhere
                for (int i = 0, n = 1 + r.nextInt(3); i < n; i++) {
                    int at = r.nextInt(m.length);
                    m[at] ^= (byte) (1 << r.nextInt(8));
                }
                return m;
            case 1: // overwrite bytes in the payload
                for (int i = 0, n = 1 + r.nextInt(8); i < n && m.length > 18; i++) {
                    m[18 + r.nextInt(m.length - 18)] = (byte) r.nextInt(256);
                }
                return m;
            case 2: { // hostile header field: a length, the codec, the flags
                ByteBuffer b = ByteBuffer.wrap(m);
                int field = r.nextInt(4);
                if (field == 0) {
                    b.putInt(6, r.nextBoolean() ? r.nextInt() : r.nextInt(MAX_BLOCK * 2));
                } else if (field == 1) {
                    b.putInt(10, r.nextBoolean() ? r.nextInt() : r.nextInt(m.length * 2 + 1));
                } else if (field == 2) {
                    b.put(3, (byte) r.nextInt(6));
                } else {
                    b.put(4, (byte) r.nextInt(4));
                }
                return m;
            }
            case 3: // truncate
                return Arrays.copyOf(m, r.nextInt(m.length));
            case 4: { // random bytes appended inside the declared payload (length grown to match)
                int extra = 1 + r.nextInt(64);
                byte[] longer = Arrays.copyOf(m, m.length + extra);
                for (int i = m.length; i < longer.length; i++) {
                    longer[i] = (byte) r.nextInt(256);
                }
                ByteBuffer.wrap(longer).putInt(10, m.length + extra - 18);
                return longer;
            }
            case 5: { // header of one envelope, payload of another
                byte[] spliced = Arrays.copyOf(m, Math.max(18, other.length));
                System.arraycopy(other, Math.min(18, other.length), spliced, 18,
                        Math.max(0, Math.min(other.length, spliced.length) - 18));
                return spliced;
            }
            default: { // pure noise with a valid-looking header
                byte[] noise = new byte[18 + r.nextInt(4096)];
                r.nextBytes(noise);
                System.arraycopy(m, 0, noise, 0, 6);
                ByteBuffer.wrap(noise).putInt(6, r.nextInt(MAX_BLOCK)).putInt(10, noise.length - 18);
                return noise;
            }
        }
    }
}
