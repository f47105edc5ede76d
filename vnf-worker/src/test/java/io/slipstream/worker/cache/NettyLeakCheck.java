package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.lang.reflect.Field;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty's leak detector (paranoid in tests) reports a ByteBuf that was collected
 * without being released. Best effort, never a false alarm: after the class it runs the GC a few times and
 * allocates, which makes the detector report what the GC found.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback {

    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (!installed) {
            Field f = io.netty.buffer.AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            ((ResourceLeakDetector<?>) f.get(null)).setLeakListener((type, records) -> LEAKS.add(type + ": " + records));
            installed = true;
        }
        // Leaks of classes that ran before (and are not checked) are reported now, not blamed on this class.
        collect();
        if (!LEAKS.isEmpty()) {
            System.err.println("NettyLeakCheck: " + LEAKS.size() + " ByteBuf(s) leaked before "
                    + context.getDisplayName() + " (by a class that ran earlier): " + LEAKS);
        }
        LEAKS.clear();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        collect();
        assertThat(LEAKS).as("ByteBufs collected without release").isEmpty();
    }

    /** Runs the GC a few times and allocates, which makes the detector report what the GC found. */
    private static void collect() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            System.runFinalization();
            for (int i = 0; i < 200; i++) {
                ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
    }
}
