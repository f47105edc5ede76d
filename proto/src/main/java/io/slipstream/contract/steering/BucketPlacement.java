package io.slipstream.contract.steering;

import io.slipstream.contract.RendezvousHash;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Assigns flow buckets to workers by weighted rendezvous hashing with bounded load.
 *
 * <p>Each bucket ranks the members by their weighted rendezvous score for that bucket and goes to the
 * best-ranked member that is still under its bound, {@code ceil(loadFactor * buckets * weight / total)}.
 * Buckets are placed in a fixed order, so the result depends only on the members and their weights:
 * <ul>
 *   <li>deterministic: every process computes the same table;</li>
 *   <li>minimal movement: a member joining takes (about) its share and a member leaving gives up only
 *       its buckets, because every other bucket keeps its best-ranked member; the bound only redirects
 *       the few buckets whose favourite is full;</li>
 *   <li>bounded load: no member holds more than its bound.</li>
 * </ul>
 */
public final class BucketPlacement {

    /** How far above its fair share a member may be loaded. */
    public static final double DEFAULT_LOAD_FACTOR = 1.25;

    private BucketPlacement() {
    }

    /** A worker that can own buckets, with its relative capacity. */
    public static final class Member {
        private final String id;
        private final int weight;

        public Member(String id, int weight) {
            this.id = Objects.requireNonNull(id, "id");
            if (weight < 0) {
                throw new IllegalArgumentException("weight: " + weight + " (expected: >= 0, 0 counts as 1)");
            }
            this.weight = Math.max(1, weight);
        }

        public String id() { return id; }
        public int weight() { return weight; }

        @Override
        public String toString() {
            return id + "(" + weight + ")";
        }
    }

    /**
     * Owner of each bucket, as an index into {@code members}; an empty array when there are no members.
     *
     * @param loadFactor at least 1; how far above its fair share a member may be loaded
     */
    public static int[] assign(int bucketCount, List<Member> members, double loadFactor) {
        FlowHash.checkBucketCount(bucketCount);
        if (!(loadFactor >= 1.0) || Double.isInfinite(loadFactor)) {
            throw new IllegalArgumentException("loadFactor: " + loadFactor + " (expected: >= 1)");
        }
        if (members.isEmpty()) {
            return new int[0];
        }
        long total = 0;
        for (Member m : members) {
            total += m.weight();
        }
        int[] bound = new int[members.size()];
        for (int i = 0; i < bound.length; i++) {
            bound[i] = (int) Math.max(1, Math.ceil(loadFactor * bucketCount * members.get(i).weight() / (double) total));
        }
        int[] load = new int[members.size()];
        int[] owners = new int[bucketCount];
        Integer[] order = new Integer[members.size()];
        double[] scores = new double[members.size()];
        for (int b = 0; b < bucketCount; b++) {
            String key = key(b);
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
                scores[i] = RendezvousHash.score(members.get(i).id(), key, members.get(i).weight());
            }
            Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -scores[i])
                    .thenComparing(i -> members.get(i).id()));
            int chosen = -1;
            for (Integer i : order) {
                if (load[i] < bound[i]) {
                    chosen = i;
                    break;
                }
            }
            // The bounds add up to at least bucketCount, so someone always has room.
            load[chosen]++;
            owners[b] = chosen;
        }
        return owners;
    }

    /** {@link #assign(int, List, double)} with {@link #DEFAULT_LOAD_FACTOR}. */
    public static int[] assign(int bucketCount, List<Member> members) {
        return assign(bucketCount, members, DEFAULT_LOAD_FACTOR);
    }

    /** Buckets per member index. */
    public static int[] loads(int[] owners, int memberCount) {
        int[] load = new int[memberCount];
        for (int owner : owners) {
            load[owner]++;
        }
        return load;
    }

    /** The rendezvous key of bucket {@code b}. */
    static String key(int bucket) {
        return "bucket/" + bucket;
    }

    /** Members sorted by id: the canonical order the controller sends them in. */
    public static List<Member> sorted(List<Member> members) {
        List<Member> copy = new ArrayList<>(members);
        copy.sort(Comparator.comparing(Member::id));
        return Collections.unmodifiableList(copy);
    }
}
