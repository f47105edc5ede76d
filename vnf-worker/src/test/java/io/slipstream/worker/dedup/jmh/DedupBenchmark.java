package io.slipstream.worker.dedup.jmh;

import io.slipstream.worker.dedup.ChunkFingerprinter;
import io.slipstream.worker.dedup.GearChunker;
import io.slipstream.worker.dedup.IncrementalChunker;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Every benchmark processes the same {@link #BYTES} of random data per operation, so bytes per second is
 * the score (ops/s) times {@link #BYTES}; {@link DedupBenchmarkMain} prints it as GB/s per thread.
 * <ul>
 *   <li>{@code chunk*}: the cut-point search (whole heap array, direct buffer, incremental over 64 KiB reads);</li>
 *   <li>{@code fingerprint*}: the keyed fingerprint of 8 KiB chunks, SipHash-2-4-128 (ours) against the JDK's
 *       HMAC-SHA256 truncated to 128 bits (the alternative considered);</li>
 *   <li>{@code chunkAndFingerprint}: both, as the sender does per stream.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DedupBenchmark {

    /** Bytes processed per operation: 4 MiB. */
    public static final int BYTES = 4 * 1024 * 1024;
    private static final int READ_BYTES = 64 * 1024;
    private static final int FINGERPRINT_CHUNK = 8 * 1024;

    private final GearChunker chunker = GearChunker.defaults();
    private IncrementalChunker incremental;
    private ChunkFingerprinter fingerprinter;
    private Mac hmac;
    private byte[] data;
    private ByteBuffer direct;

    @Setup(Level.Trial)
    public void setUp() throws GeneralSecurityException {
        data = new byte[BYTES];
        new SplittableRandom(42).nextBytes(data);
        direct = ByteBuffer.allocateDirect(BYTES).put(data).flip();
        byte[] key = new byte[16];
        new SplittableRandom(7).nextBytes(key);
        fingerprinter = ChunkFingerprinter.withKey(key);
        hmac = Mac.getInstance("HmacSHA256");
        hmac.init(new SecretKeySpec(key, "HmacSHA256"));
        incremental = chunker.incremental();
    }

    @Benchmark
    public int[] chunkHeap() {
        return chunker.cutPoints(data);
    }

    @Benchmark
    public int[] chunkDirect() {
        return chunker.cutPoints(direct);
    }

    @Benchmark
    public void chunkIncremental64k(Blackhole bh) {
        for (int p = 0; p < BYTES; p += READ_BYTES) {
            incremental.update(data, p, READ_BYTES, bh::consume);
        }
        incremental.finish(bh::consume);
    }

    @Benchmark
    public void fingerprintSipHash(Blackhole bh) {
        for (int p = 0; p < BYTES; p += FINGERPRINT_CHUNK) {
            bh.consume(fingerprinter.fingerprint(data, p, FINGERPRINT_CHUNK));
        }
    }

    @Benchmark
    public void fingerprintHmacSha256(Blackhole bh) {
        byte[] out = new byte[32];
        for (int p = 0; p < BYTES; p += FINGERPRINT_CHUNK) {
            hmac.update(data, p, FINGERPRINT_CHUNK);
            try {
                hmac.doFinal(out, 0);
            } catch (javax.crypto.ShortBufferException e) {
                throw new IllegalStateException(e);
            }
            bh.consume(out[0]);
        }
    }

    @Benchmark
    public void chunkAndFingerprint(Blackhole bh) {
        int prev = 0;
        for (int cut : chunker.cutPoints(data)) {
            bh.consume(fingerprinter.fingerprint(data, prev, cut - prev));
            prev = cut;
        }
    }
}
