package io.slipstream.worker.dedup;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Objects;

/**
 * The sender's index of delta bases: for chunks the peer holds, which chunk carries each
 * {@link ResemblanceSketch super-feature} (resemblance), and which chunk followed which in the streams
 * sent (locality: after a match, the next chunk of the new stream most likely resembles the chunk that
 * followed the match last time). Both maps are bounded by entry count and evict the least recently
 * used (Caffeine); they hold fingerprints only and can always be rebuilt from traffic, so losing entries
 * costs compression, never correctness: a base is used only after the caller checked that the peer holds
 * it and that its bytes are at hand. Thread-safe.
 */
public final class ResemblanceIndex {

    private final long maxChunks;
    private final Cache<Long, ChunkFingerprint> features;
    private final Cache<ChunkFingerprint, ChunkFingerprint> successors;

    private ResemblanceIndex(long maxChunks) {
        this.maxChunks = maxChunks;
        this.features = Caffeine.newBuilder().maximumSize(maxChunks * ResemblanceSketch.SUPER_FEATURES)
                .executor(Runnable::run).build();
        this.successors = Caffeine.newBuilder().maximumSize(maxChunks).executor(Runnable::run).build();
    }

    /** An index of at most {@code maxChunks} chunks (each takes a few hundred bytes of heap). */
    public static ResemblanceIndex withMaxChunks(long maxChunks) {
        if (maxChunks < 1) {
            throw new IllegalArgumentException("maxChunks: " + maxChunks + " (expected: > 0)");
        }
        return new ResemblanceIndex(maxChunks);
    }

    public long maxChunks() {
        return maxChunks;
    }

    /** Indexes the super-features of a chunk the peer now holds; a later chunk wins a shared feature. */
    public void add(ChunkFingerprint fingerprint, long[] sketch) {
        Objects.requireNonNull(fingerprint, "fingerprint");
        for (int i = 0; i < sketch.length; i++) {
            features.put(key(i, sketch[i]), fingerprint);
        }
    }

    /**
     * The indexed chunk sharing the most super-features with {@code sketch} (at least one; on a tie the
     * one matching the earliest super-feature), or {@code null}.
     */
    public ChunkFingerprint mostSimilar(long[] sketch) {
        ChunkFingerprint[] found = new ChunkFingerprint[sketch.length];
        for (int i = 0; i < sketch.length; i++) {
            found[i] = features.getIfPresent(key(i, sketch[i]));
        }
        ChunkFingerprint best = null;
        int bestVotes = 0;
        for (int i = 0; i < found.length; i++) {
            if (found[i] == null) {
                continue;
            }
            int votes = 0;
            for (ChunkFingerprint f : found) {
                if (found[i].equals(f)) {
                    votes++;
                }
            }
            if (votes > bestVotes) {
                best = found[i];
                bestVotes = votes;
            }
        }
        return best;
    }

    /**
     * Up to {@code max} distinct indexed chunks sharing super-features with {@code sketch}, most shared first
     * (on a tie, the one matching the earlier super-feature).
     */
    public java.util.List<ChunkFingerprint> similar(long[] sketch, int max) {
        java.util.LinkedHashMap<ChunkFingerprint, Integer> votes = new java.util.LinkedHashMap<>();
        for (int i = 0; i < sketch.length; i++) {
            ChunkFingerprint f = features.getIfPresent(key(i, sketch[i]));
            if (f != null) {
                votes.merge(f, 1, Integer::sum);
            }
        }
        java.util.List<ChunkFingerprint> ranked = new java.util.ArrayList<>(votes.keySet());
        ranked.sort((a, b) -> Integer.compare(votes.get(b), votes.get(a))); // stable: ties keep feature order
        return ranked.size() > max ? new java.util.ArrayList<>(ranked.subList(0, max)) : ranked;
    }

    /** Records that {@code next} followed {@code previous} in a stream sent to the peer. */
    public void follow(ChunkFingerprint previous, ChunkFingerprint next) {
        Objects.requireNonNull(previous, "previous");
        Objects.requireNonNull(next, "next");
        successors.put(previous, next);
    }

    /** The chunk that followed {@code previous} the last time it was sent, or {@code null}. */
    public ChunkFingerprint next(ChunkFingerprint previous) {
        return previous == null ? null : successors.getIfPresent(previous);
    }

    /** Forgets everything (the peer's store was lost). */
    public void clear() {
        features.invalidateAll();
        successors.invalidateAll();
        features.cleanUp();
        successors.cleanUp();
    }

    private static Long key(int slot, long feature) {
        return feature ^ (0x9e3779b97f4a7c15L * (slot + 1));
    }
}
