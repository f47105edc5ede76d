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
 * equally whatever their frame sizes), and streams that were idle go first, as FQ-CoDel's "new
 * flows" (RFC 8290, section 4.2): a small message on an interactive stream does not wait for a
 * round of the bulk ones. A stream that used up its quantum joins the others' round; one that
 * empties while new rejoins at the end of the round (if there is one), so coming back as "new"
 * cannot be used to starve the rest.
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
        flow.items.add(item);
        flow.bytes += n;
        bytes += n;
        if (!flow.listed) {
            flow.listed = true;
            flow.deficit = quantum;
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
                oldFlows.add(flow);
                continue;
            }
            T item = flow.items.poll();
            if (item == null) {
                list.poll();
                if (list == newFlows && !oldFlows.isEmpty()) {
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
