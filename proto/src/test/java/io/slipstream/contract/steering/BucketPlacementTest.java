package io.slipstream.contract.steering;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.proto.v1.Peer;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BucketPlacementTest {

    private static List<BucketPlacement.Member> members(int n, int weight) {
        List<BucketPlacement.Member> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new BucketPlacement.Member("wanopt-a" + i, weight));
        }
        return list;
    }

    private static String[] owners(int buckets, List<BucketPlacement.Member> members) {
        int[] idx = BucketPlacement.assign(buckets, members);
        String[] ids = new String[idx.length];
        for (int b = 0; b < idx.length; b++) {
            ids[b] = members.get(idx[b]).id();
        }
        return ids;
    }

    private static int moved(String[] before, String[] after) {
        int moved = 0;
        for (int b = 0; b < before.length; b++) {
            if (!before[b].equals(after[b])) {
                moved++;
            }
        }
        return moved;
    }

    @Test
    void assign_isDeterministicAndIndependentOfMemberOrder() {
        List<BucketPlacement.Member> m = members(5, 100);
        List<BucketPlacement.Member> reversed = new ArrayList<>(m);
        java.util.Collections.reverse(reversed);
        assertThat(owners(1024, m)).containsExactly(owners(1024, m));
        assertThat(owners(1024, reversed)).containsExactly(owners(1024, m));
    }

    @Test
    void assign_neverExceedsTheBound() {
        Random random = new Random(7);
        for (int round = 0; round < 50; round++) {
            int n = 1 + random.nextInt(12);
            List<BucketPlacement.Member> m = new ArrayList<>();
            long total = 0;
            for (int i = 0; i < n; i++) {
                int w = 1 + random.nextInt(1000);
                m.add(new BucketPlacement.Member("w" + round + "-" + i, w));
                total += w;
            }
            int buckets = 1 << (4 + random.nextInt(8));
            int[] load = BucketPlacement.loads(BucketPlacement.assign(buckets, m), n);
            for (int i = 0; i < n; i++) {
                double bound = Math.max(1, Math.ceil(1.25 * buckets * m.get(i).weight() / (double) total));
                assertThat(load[i]).as("member %s of %s, %s buckets", i, m, buckets).isLessThanOrEqualTo((int) bound);
            }
            assertThat(java.util.Arrays.stream(load).sum()).isEqualTo(buckets);
        }
    }

    @Test
    void assign_followsWeights() {
        List<BucketPlacement.Member> m = List.of(new BucketPlacement.Member("big", 300),
                new BucketPlacement.Member("small", 100));
        int[] load = BucketPlacement.loads(BucketPlacement.assign(4096, m), 2);
        assertThat(load[0]).isBetween(2900, 3200);
    }

    @Test
    void leave_movesOnlyTheLeaversBuckets() {
        List<BucketPlacement.Member> before = members(8, 100);
        String[] a = owners(1024, before);
        List<BucketPlacement.Member> after = new ArrayList<>(before);
        BucketPlacement.Member gone = after.remove(3);
        String[] b = owners(1024, after);
        int leaverShare = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals(gone.id())) {
                leaverShare++;
            } else {
                assertThat(b[i]).as("bucket %s", i).isEqualTo(a[i]);
            }
        }
        assertThat(moved(a, b)).isEqualTo(leaverShare);
    }

    @Test
    void join_movesAboutTheJoinersShare() {
        for (int n = 2; n <= 10; n++) {
            List<BucketPlacement.Member> before = members(n, 100);
            String[] a = owners(1024, before);
            List<BucketPlacement.Member> after = new ArrayList<>(before);
            after.add(new BucketPlacement.Member("joiner", 100));
            String[] b = owners(1024, after);
            int fair = 1024 / (n + 1);
            int moved = moved(a, b);
            int toJoiner = 0;
            for (String owner : b) {
                if (owner.equals("joiner")) {
                    toJoiner++;
                }
            }
            assertThat(toJoiner).as("joiner share with %s members", n).isBetween(fair * 3 / 4, fair * 5 / 4 + 1);
            assertThat(moved).as("buckets moved when joining %s members", n).isLessThanOrEqualTo(fair * 3 / 2);
        }
    }

    @Test
    void assign_badInput_isRejected() {
        assertThat(BucketPlacement.assign(64, List.of())).isEmpty();
        assertThatThrownBy(() -> BucketPlacement.assign(100, members(2, 1))).hasMessageContaining("power of two");
        assertThatThrownBy(() -> BucketPlacement.assign(64, members(2, 1), 0.5)).hasMessageContaining(">= 1");
        assertThatThrownBy(() -> new BucketPlacement.Member("x", -1)).hasMessageContaining("weight");
    }

    @Test
    void flowHash_spreadsFlowsEvenly() throws Exception {
        int[] counts = new int[16];
        InetAddress dst = InetAddress.getByName("198.18.1.2");
        for (int i = 0; i < 16000; i++) {
            InetAddress src = InetAddress.getByAddress(new byte[] {(byte) 198, 18, 0, (byte) (2 + i % 200)});
            counts[FlowHash.bucket(FlowKey.tcp(src, 30000 + i, dst, 80, "a"), 16)]++;
        }
        for (int c : counts) {
            assertThat(c).isBetween(850, 1150);
        }
        assertThat(FlowHash.bucket("http://a/x", 256)).isEqualTo(FlowHash.bucket("http://a/x", 256));
    }

    @Test
    void pairing_prefersOnePeerAndSpreadsNearWorkers() {
        List<Peer> far = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            far.add(Peer.newBuilder().setWorkerId("wanopt-b" + i).setSite("b").setWeight(100).build());
        }
        far.add(Peer.newBuilder().setWorkerId("wanopt-c0").setSite("c").build());
        int[] firstChoice = new int[4];
        for (int i = 0; i < 400; i++) {
            List<Peer> ranked = PeerPairing.ranked("wanopt-a" + i, "b", far);
            assertThat(ranked).hasSize(4);
            assertThat(PeerPairing.ranked("wanopt-a" + i, "b", far)).isEqualTo(ranked);
            firstChoice[Integer.parseInt(ranked.get(0).getWorkerId().substring(8))]++;
        }
        for (int c : firstChoice) {
            assertThat(c).isBetween(70, 130);
        }
    }
}
