package io.slipstream.worker.wanopt.tunnel;

import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Which stream's item goes out next on a shared connection: deficit round robin over the streams
 * with something queued (each gets {@code quantum} bytes a round, so bulk streams share the link
 * equally whatever their frame sizes), and streams that were idle and come with a message (an item
 * of at most a quarter of the quantum) go first, as FQ-CoDel's "new flows" (RFC 8290, section 4.2):
 * a small message on an interactive stream does not wait for a round of the bulk ones.
 *
 * <p>A stream that used up its quantum joins the others' round; one that empties while new rejoins
 * at the end of the round (if there is one), so coming back as "new" cannot be used to starve the
 * rest. Two rules beyond FQ-CoDel's, because a stream's items here are up to 64 KiB, not packets:
 * <ul>
 *   <li>a stream that was idle and comes back with a big item is bulk between two reads of its
 *       socket (its queue here is short and empties all the time), so it joins the round instead of
 *       going first;</li>
 *   <li>a stream waiting at the end of the round with nothing queued and some of its quantum left
 *       goes back among the new ones when its next message comes. Without it an interactive
 *       stream's every message after the first waited for a round of the bulk streams' 64 KiB
 *       frames: 16 of them made a 64-byte echo wait 0.4-1.5 s on a 20 Mbit/s link. It has not used
 *       up its share, so it takes nothing from them.</li>
 * </ul>
 *
 * <p>Pure and not thread-safe (one per connection, on its event loop).
 *
 * @param <T> what is queued (a frame); its size in bytes by {@code size}
 */
public final class FairQueue<T> {

    private final int quantum;
    private final ToIntFunction<T> size;
    private final IntObjectMap<Flow<T>> flows = new IntObjectHashMap<>();
    private final ArrayDeque<Flow<T>> newFlows = new ArrayDeque<>();
    private final ArrayDeque<Flow<T>> oldFlows = new ArrayDeque<>();
    private long bytes;

    private static final class Flow<T> {
        final int id;
        final ArrayDeque<T> items = new ArrayDeque<>();
        long bytes;
        int deficit;
        /** On one of the two lists. */
        boolean listed;
        /** On the new list (when listed). */
        boolean isNew;

        Flow(int id) {
            this.id = id;
        }
    }

    /**
     * @param quantum bytes a stream may send per round (at least one item goes per turn whatever its size)
     * @param size an item's size in bytes
     */
    public FairQueue(int quantum, ToIntFunction<T> size) {
        if (quantum < 1) {
            throw new IllegalArgumentException("quantum: " + quantum + " (expected: > 0)");
        }
        this.quantum = quantum;
        this.size = size;
    }

    /** Queues {@code item} behind the earlier items of stream {@code id}. */
    public void add(int id, T item) {
        Flow<T> flow = flows.get(id);
        if (flow == null) {
            flow = new Flow<>(id);
            flows.put(id, flow);
        }
        int n = size.applyAsInt(item);
        boolean wasEmpty = flow.items.isEmpty();
        flow.items.add(item);
        flow.bytes += n;
        bytes += n;
        if (!flow.listed) {
            flow.listed = true;
            flow.deficit = quantum;
            // A stream that comes back with a big item is bulk between two reads, not a message: it takes its
            // turn in the round (a bulk stream empties its short queue all the time while its next read comes).
            flow.isNew = n <= quantum / 4;
            (flow.isNew ? newFlows : oldFlows).add(flow);
        } else if (wasEmpty && !flow.isNew && flow.deficit > 0 && n <= quantum / 4) {
            // Idle at the end of the round with quantum to spare: back among the new (the list is short: streams).
            oldFlows.remove(flow);
            flow.isNew = true;
            newFlows.add(flow);
        }
    }

    /** The next item to send, or {@code null} when nothing is queued. */
    public T poll() {
        while (true) {
            ArrayDeque<Flow<T>> list = !newFlows.isEmpty() ? newFlows : oldFlows;
            Flow<T> flow = list.peek();
            if (flow == null) {
                return null;
            }
            if (flow.deficit <= 0) {
                flow.deficit += quantum;
                list.poll();
                flow.isNew = false;
                oldFlows.add(flow);
                continue;
            }
            T item = flow.items.poll();
            if (item == null) {
                list.poll();
                if (list == newFlows && !oldFlows.isEmpty()) {
                    flow.isNew = false;
                    oldFlows.add(flow);
                } else {
                    flow.listed = false;
                    flows.remove(flow.id);
                }
                continue;
            }
            int n = size.applyAsInt(item);
            flow.deficit -= n;
            flow.bytes -= n;
            bytes -= n;
            return item;
        }
    }

    /** Bytes queued for stream {@code id}. */
    public long bytes(int id) {
        Flow<T> flow = flows.get(id);
        return flow == null ? 0 : flow.bytes;
    }

    /** Bytes queued for all streams. */
    public long bytes() {
        return bytes;
    }

    public boolean isEmpty() {
        return newFlows.isEmpty() && oldFlows.isEmpty();
    }

    /** Takes every item queued for stream {@code id} out (the stream was reset); the caller releases them. */
    public List<T> remove(int id) {
        Flow<T> flow = flows.remove(id);
        if (flow == null) {
            return List.of();
        }
        newFlows.remove(flow);
        oldFlows.remove(flow);
        flow.listed = false;
        bytes -= flow.bytes;
        List<T> items = new ArrayList<>(flow.items);
        flow.items.clear();
        return items;
    }

    /** Takes everything out (the connection is gone); the caller releases the items. */
    public List<T> clear() {
        List<T> items = new ArrayList<>();
        for (Flow<T> flow : flows.values()) {
            items.addAll(flow.items);
        }
        flows.clear();
        newFlows.clear();
        oldFlows.clear();
        bytes = 0;
        return items;
    }
}
