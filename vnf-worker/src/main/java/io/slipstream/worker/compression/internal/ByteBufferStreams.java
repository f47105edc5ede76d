package io.slipstream.worker.compression.internal;

import io.slipstream.worker.compression.CompressionException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/** Streams over ByteBuffers, for codec libraries that only speak streams. */
final class ByteBufferStreams {

    private ByteBufferStreams() {
    }

    /** Thrown when the destination is full; a CompressionException. */
    static final class Overflow extends CompressionException {
        private static final long serialVersionUID = 1L;

        Overflow(int capacity) {
            super("output does not fit in " + capacity + " bytes");
        }
    }

    static OutputStream output(ByteBuffer dst) {
        return new OutputStream() {
            @Override
            public void write(int b) {
                if (!dst.hasRemaining()) {
                    throw new Overflow(dst.capacity());
                }
                dst.put((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                if (dst.remaining() < len) {
                    throw new Overflow(dst.limit());
                }
                dst.put(b, off, len);
            }
        };
    }

    static InputStream input(ByteBuffer src) {
        return new InputStream() {
            @Override
            public int read() {
                return src.hasRemaining() ? src.get() & 0xFF : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                if (!src.hasRemaining()) {
                    return -1;
                }
                int n = Math.min(len, src.remaining());
                src.get(b, off, n);
                return n;
            }

            @Override
            public int available() {
                return src.remaining();
            }
        };
    }
}
