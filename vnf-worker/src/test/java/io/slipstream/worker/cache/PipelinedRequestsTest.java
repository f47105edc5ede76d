package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The pipelining queue: order, the read back-pressure thresholds, and ownership of what it holds. */
class PipelinedRequestsTest {

    @Test
    void poll_givesRequestsInTheOrderAdded() {
        PipelinedRequests q = new PipelinedRequests();
        q.add("a");
        q.add("b");
        assertThat(q.poll()).isEqualTo("a");
        q.add("c");
        assertThat(q.poll()).isEqualTo("b");
        assertThat(q.poll()).isEqualTo("c");
        assertThat(q.poll()).isNull();
        assertThat(q.isEmpty()).isTrue();
    }

    @Test
    void add_aboveTheLimit_saysStopReading() {
        PipelinedRequests q = new PipelinedRequests();
        for (int i = 0; i < PipelinedRequests.MAX_QUEUED; i++) {
            assertThat(q.add(i)).as("request %d", i + 1).isFalse();
        }
        assertThat(q.add("17th")).isTrue();
        assertThat(q.add("18th")).isTrue();
        assertThat(q.size()).isEqualTo(18);
    }

    @Test
    void readable_atHalfTheLimitOrFewer() {
        PipelinedRequests q = new PipelinedRequests();
        for (int i = 0; i < PipelinedRequests.MAX_QUEUED + 1; i++) {
            q.add(i);
        }
        while (q.size() > PipelinedRequests.MAX_QUEUED / 2) {
            assertThat(q.readable()).as("%d queued", q.size()).isFalse();
            q.poll();
        }
        assertThat(q.readable()).isTrue();
    }

    @Test
    void releaseAll_releasesEveryQueuedBufferAndEmpties() {
        PipelinedRequests q = new PipelinedRequests();
        List<ByteBuf> bufs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ByteBuf b = Unpooled.buffer(4);
            bufs.add(b);
            q.add(b);
        }
        q.add(RequestAggregator.TOO_LARGE);
        ByteBuf taken = (ByteBuf) q.poll();
        q.releaseAll();
        assertThat(q.isEmpty()).isTrue();
        assertThat(taken.refCnt()).as("polled: the caller's").isEqualTo(1);
        assertThat(bufs.subList(1, 3)).allSatisfy(b -> assertThat(b.refCnt()).isZero());
        taken.release();
    }
}
