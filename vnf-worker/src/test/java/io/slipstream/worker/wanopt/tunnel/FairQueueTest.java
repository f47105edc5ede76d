package io.slipstream.worker.wanopt.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FairQueueTest {

    /** An item: its stream, its place in the stream, its size. */
    record Item(int stream, int seq, int size) {}

    private final FairQueue<Item> queue = new FairQueue<>(16_384, Item::size);

    @Test
    void poll_bulkStreamsOfDifferentFrameSizes_shareBytesEqually() {
        int[] frameSizes = {1_000, 16_384, 65_536};
        for (int s = 0; s < frameSizes.length; s++) {
            for (int i = 0; i < 4_000_000 / frameSizes[s]; i++) { // more than each can send below
                queue.add(s, new Item(s, i, frameSizes[s]));
            }
        }
        Map<Integer, Long> sent = new HashMap<>();
        long total = 0;
        while (total < 3_000_000) {
            Item item = queue.poll();
            sent.merge(item.stream(), (long) item.size(), Long::sum);
            total += item.size();
        }
        for (int s = 0; s < frameSizes.length; s++) {
            // Within one quantum and one largest frame of an equal share.
            assertThat(sent.get(s)).as("stream %d", s).isBetween(1_000_000L - 16_384 - 65_536, 1_000_000L + 16_384 + 65_536);
        }
    }

    @Test
    void poll_smallMessageOnAnIdleStream_goesBeforeTheBulkStreamsNextFrames() {
        for (int s = 0; s < 16; s++) {
            for (int i = 0; i < 50; i++) {
                queue.add(s, new Item(s, i, 65_536));
            }
        }
        for (int i = 0; i < 37; i++) {
            queue.poll();
        }
        queue.add(99, new Item(99, 0, 64));
        assertThat(queue.poll()).isEqualTo(new Item(99, 0, 64));
    }

    @Test
    void poll_interactiveStreamsNextMessages_goBeforeTheBulkStreamsNextFramesToo() {
        // An echo beside 16 bulk streams of 64 KiB frames: each of its messages, not only the first.
        for (int s = 0; s < 16; s++) {
            for (int i = 0; i < 50; i++) {
                queue.add(s, new Item(s, i, 65_536));
            }
        }
        for (int i = 0; i < 37; i++) {
            queue.poll(); // the bulk streams are under way
        }
        for (int message = 0; message < 100; message++) {
            queue.add(99, new Item(99, message, 80));
            assertThat(queue.poll()).as("message %d", message).isEqualTo(new Item(99, message, 80));
            queue.poll(); // a bulk frame goes while the answer travels
        }
    }

    @Test
    void poll_idleStreamBackWithABigItem_takesItsTurnInTheRound() {
        for (int s = 1; s <= 2; s++) {
            for (int i = 0; i < 10; i++) {
                queue.add(s, new Item(s, i, 8_192));
            }
        }
        for (int i = 0; i < 4; i++) {
            queue.poll(); // both bulk streams are under way, in the round
        }
        queue.add(5, new Item(5, 0, 65_536)); // bulk between two reads of its socket: not a message
        assertThat(queue.poll().stream()).as("a stream with its share of the round left goes before it")
                .isEqualTo(1);
        queue.add(6, new Item(6, 0, 100)); // a message
        assertThat(queue.poll().stream()).isEqualTo(6);
    }

    @Test
    void poll_streamThatKeepsComingBackAsNew_cannotStarveTheOthers() {
        queue.add(1, new Item(1, 0, 65_536));
        queue.add(1, new Item(1, 1, 65_536));
        int bulkServed = 0;
        for (int round = 0; round < 1_000; round++) {
            queue.add(2, new Item(2, round, 16_384)); // a quantum each time, right before every poll
            if (queue.poll().stream() == 1) {
                bulkServed++;
            }
            queue.poll();
        }
        assertThat(bulkServed).as("the bulk stream still gets its turns")
                .isGreaterThan(0);
        assertThat(queue.bytes(1)).isZero();
    }

    @Test
    void poll_randomInterleavings_keepsEachStreamsOrderAndLosesNothing() {
        Random random = new Random(42);
        Map<Integer, Integer> nextIn = new HashMap<>();
        Map<Integer, Integer> nextOut = new HashMap<>();
        long queued = 0;
        int polled = 0;
        int added = 0;
        for (int step = 0; step < 100_000; step++) {
            if (random.nextInt(3) > 0) {
                int s = random.nextInt(20);
                int size = 1 + random.nextInt(random.nextBoolean() ? 200 : 70_000);
                queue.add(s, new Item(s, nextIn.merge(s, 1, Integer::sum) - 1, size));
                queued += size;
                added++;
            } else {
                Item item = queue.poll();
                if (item != null) {
                    assertThat(item.seq()).isEqualTo(nextOut.merge(item.stream(), 1, Integer::sum) - 1);
                    queued -= item.size();
                    polled++;
                }
            }
            assertThat(queue.bytes()).isEqualTo(queued);
        }
        Item item;
        while ((item = queue.poll()) != null) {
            assertThat(item.seq()).isEqualTo(nextOut.merge(item.stream(), 1, Integer::sum) - 1);
            polled++;
        }
        assertThat(polled).isEqualTo(added);
        assertThat(queue.isEmpty()).isTrue();
        assertThat(queue.bytes()).isZero();
    }

    @Test
    void remove_resetStream_returnsItsItemsAndLeavesTheOthers() {
        queue.add(1, new Item(1, 0, 100));
        queue.add(2, new Item(2, 0, 200));
        queue.add(1, new Item(1, 1, 300));
        List<Item> dropped = queue.remove(1);
        assertThat(dropped).extracting(Item::seq).containsExactly(0, 1);
        assertThat(queue.bytes()).isEqualTo(200);
        assertThat(queue.bytes(1)).isZero();
        List<Item> rest = new ArrayList<>();
        Item item;
        while ((item = queue.poll()) != null) {
            rest.add(item);
        }
        assertThat(rest).containsExactly(new Item(2, 0, 200));
        assertThat(queue.remove(7)).isEmpty();
    }

    @Test
    void constructor_quantumNotPositive_rejectedWithWhatIsExpected() {
        assertThatThrownBy(() -> new FairQueue<Item>(0, Item::size))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: > 0");
    }
}
