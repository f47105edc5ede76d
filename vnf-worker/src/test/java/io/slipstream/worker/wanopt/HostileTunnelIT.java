package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.dedup.ChunkFingerprint;
import io.slipstream.worker.wanopt.tunnel.Frame;
import io.slipstream.worker.wanopt.tunnel.FrameCodec;
import io.slipstream.worker.wanopt.tunnel.FrameType;
import io.slipstream.worker.wanopt.tunnel.Frames;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A hostile peer on real TCP against a wanopt worker (site B) that is also carrying a healthy tunnel
 * from site A: malformed and truncated frames close only the hostile connection, with the reason logged,
 * while a transfer over the healthy tunnel stays byte-exact; a reference to a chunk never sent resets that
 * stream with a clear error (after the NEED goes unanswered, or is answered with the wrong bytes) and
 * the destination never receives a wrong byte.
 */
class HostileTunnelIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration NEED_TIMEOUT = Duration.ofSeconds(2);
    private final CompressionProviderRegistry registry = CompressionProviderRegistry.builder().build();
    private final ResilientCompressor compressor = registry.compressor(CompressionConfig.defaults());
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final ByteArrayOutputStream log = new ByteArrayOutputStream();
    private PrintStream originalErr;
    private EchoServer echo;
    private WanOptimizer siteA;
    private WanOptimizer siteB;

    @BeforeEach
    void start() throws Exception {
        // slf4j-simple writes to whatever System.err is at the time: tee it to read the logged reasons.
        originalErr = System.err;
        System.setErr(new PrintStream(new TeeStream(originalErr, log), true, StandardCharsets.UTF_8));
        echo = new EchoServer();
        siteB = new WanOptimizer(new WanOptimizer.Settings("wan-b", "b", "127.0.0.1", 0, List.of(),
                256 * 1024, 2).needTimeout(NEED_TIMEOUT), meters, new DataPlaneStats(), () -> compressor,
                compressor).start();
        siteA = new WanOptimizer(new WanOptimizer.Settings("wan-a", "a", "127.0.0.1", 0,
                List.of(new PortForward(0, "127.0.0.1", echo.port(), "b")), 256 * 1024, 2), meters,
                new DataPlaneStats(), () -> compressor, compressor).start();
        siteA.peers(List.of(Peer.newBuilder().setWorkerId("wan-b").setSite("b")
                .setDataEndpoint("127.0.0.1:" + siteB.tunnelAddress().getPort()).build()));
        await().atMost(WAIT).until(() -> siteA.readyConnections("wan-b") == 2);
    }

    @AfterEach
    void stop() throws Exception {
        System.setErr(originalErr);
        threads.shutdownNow();
        siteA.close();
        siteB.close();
        echo.close();
        registry.close();
    }

    // ------------------------------------------------------------------------------ malformed frames

    static Stream<Arguments> malformedFrames() {
        byte[] hello = frame(FrameType.HELLO, 0, helloPayload(Frames.VERSION));
        return Stream.of(
                Arguments.of("unknown type", header(42, 0, 0, 0), "frame type: 42 (expected: 1..10)"),
                Arguments.of("flags set", header(FrameType.PING.code(), 0x80, 0, 8), "frame flags: 128"),
                Arguments.of("length beyond the maximum", header(FrameType.HELLO.code(), 0, 0,
                        FrameCodec.DEFAULT_MAX_PAYLOAD + 1), "payload length: " + (FrameCodec.DEFAULT_MAX_PAYLOAD + 1)),
                Arguments.of("length negative as int (huge unsigned)", header(FrameType.DATA.code(), 0, 1, -1),
                        "payload length: 4294967295"),
                Arguments.of("stream id negative", header(FrameType.DATA.code(), 0, -5, 0), "stream id: 4294967291"),
                Arguments.of("DATA before HELLO", frame(FrameType.DATA, 1, new byte[] {1, 0, 0, 0, 0}),
                        "first frame: DATA (expected: HELLO)"),
                Arguments.of("HELLO of another protocol version", frame(FrameType.HELLO, 0, helloPayload(9)),
                        "protocol version: 9"),
                Arguments.of("HELLO twice", concat(hello, hello), "HELLO: sent twice"),
                Arguments.of("truncated HELLO payload", frame(FrameType.HELLO, 0, Arrays.copyOf(helloPayload(1), 6)),
                        "hello worker id: truncated"),
                Arguments.of("DATA on stream 0", concat(hello, frame(FrameType.DATA, 0, new byte[] {1})),
                        "DATA on stream 0"),
                Arguments.of("OPEN with window 0", concat(hello, frame(FrameType.OPEN, 1, openPayload(0, "127.0.0.1", 7))),
                        "open window: 0"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedFrames")
    void malformedFrame_closesOnlyThatConnection_withTheReasonLogged_whileAHealthyTunnelTransfers(String name,
            byte[] bytes, String reason) throws Exception {
        byte[] sent = WanOptimizerIT.data(4 << 20, true, name.hashCode());
        Future<byte[]> healthy = threads.submit(() -> roundTrip(sent));
        try (Socket attacker = attacker()) {
            attacker.getOutputStream().write(bytes);
            attacker.getOutputStream().flush();
            assertClosedByPeer(attacker);
        }
        await().atMost(WAIT).until(() -> logged().contains(reason));
        assertThat(logged()).containsPattern("tunnel /127\\.0\\.0\\.1:\\d+ closed: malformed frame: .*"
                + java.util.regex.Pattern.quote(reason));
        assertThat(healthy.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(sent);
        assertThat(siteA.readyConnections("wan-b")).isEqualTo(2);
    }

    @Test
    void truncatedMidFrame_thenClosed_dropsThatConnectionOnly_whileAHealthyTunnelTransfers() throws Exception {
        byte[] sent = WanOptimizerIT.data(4 << 20, true, 77);
        Future<byte[]> healthy = threads.submit(() -> roundTrip(sent));
        try (Socket attacker = attacker()) {
            OutputStream out = attacker.getOutputStream();
            out.write(frame(FrameType.HELLO, 0, helloPayload(Frames.VERSION)));
            byte[] open = frame(FrameType.OPEN, 1, openPayload(64 * 1024, "127.0.0.1", echo.port()));
            out.write(Arrays.copyOf(open, open.length - 3)); // the header promises 3 bytes more than come
            out.flush();
            attacker.shutdownOutput();
            assertClosedByPeer(attacker);
        }
        assertThat(healthy.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(sent);
        assertThat(siteA.readyConnections("wan-b")).isEqualTo(2);
        // Nothing was opened for the half frame.
        assertThat(echo.accepted.get()).isEqualTo(1);
    }

    @Test
    void manyHostileConnectionsAtOnce_healthyTunnelStaysByteExact() throws Exception {
        byte[] sent = WanOptimizerIT.data(8 << 20, true, 99);
        Future<byte[]> healthy = threads.submit(() -> roundTrip(sent));
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 50; i++) {
            byte[] garbage = new byte[1 + random.nextInt(4096)];
            random.nextBytes(garbage);
            garbage[0] = (byte) (11 + random.nextInt(200)); // an unknown type: rejected at once
            try (Socket attacker = attacker()) {
                attacker.getOutputStream().write(garbage);
                assertClosedByPeer(attacker);
            }
        }
        assertThat(healthy.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(sent);
        assertThat(siteA.readyConnections("wan-b")).isEqualTo(2);
    }

    // --------------------------------------------------------------------- chunks never sent

    @Test
    void referenceToAChunkNeverSent_unanswered_resetsTheStream_andNoWrongByteReachesTheDestination()
            throws Exception {
        try (Recorder destination = new Recorder(); Socket attacker = attacker()) {
            DataInputStream in = openHostileStream(attacker, destination);
            ChunkFingerprint unknown = ChunkFingerprint.of(0x1234_5678_9abc_def0L, 0x0fed_cba9_8765_4321L);
            attacker.getOutputStream().write(frame(FrameType.DATA, 1, concat(raw("hello "), ref(unknown, 1000),
                    raw("never delivered"))));
            attacker.getOutputStream().flush();

            // B asks for the chunk, nobody answers, and after its deadline B resets the stream.
            String rst = null;
            boolean needSeen = false;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (rst == null && System.nanoTime() < deadline) {
                Frame f = readFrame(in);
                try {
                    if (f.type() == FrameType.NEED && f.streamId() == 1) {
                        needSeen = true;
                        assertThat(ByteBufUtil.getBytes(f.payload())).isEqualTo(unknown.toBytes());
                    } else if (f.type() == FrameType.RST && f.streamId() == 1) {
                        rst = Frames.readRst(f.payload());
                    }
                } finally {
                    f.release();
                }
            }
            assertThat(needSeen).as("B asked for the chunk").isTrue();
            assertThat(rst).startsWith(Frames.RST_CORRUPT + ": chunk ").contains("referenced but not sent within 2000 ms");
            await().atMost(WAIT).until(destination::closed);
            assertThat(destination.received()).isEqualTo("hello ");
            assertThat(logged()).contains("corrupt data, resetting: chunk");
        }
    }

    @Test
    void referenceToAChunkNeverSent_answeredWithOtherBytes_resetsTheStream_andNoWrongByteReachesTheDestination()
            throws Exception {
        try (Recorder destination = new Recorder(); Socket attacker = attacker()) {
            DataInputStream in = openHostileStream(attacker, destination);
            ChunkFingerprint unknown = ChunkFingerprint.of(42, 43);
            attacker.getOutputStream().write(frame(FrameType.DATA, 1, concat(raw("hello "), ref(unknown, 11))));
            attacker.getOutputStream().flush();
            String rst = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (rst == null && System.nanoTime() < deadline) {
                Frame f = readFrame(in);
                try {
                    if (f.type() == FrameType.NEED && f.streamId() == 1) {
                        // Answer with bytes that are not the chunk the fingerprint names.
                        ByteBuffer envelope = compressor.compress(ByteBuffer.wrap("wrong bytes".getBytes(StandardCharsets.US_ASCII)));
                        byte[] chunk = new byte[16 + envelope.remaining()];
                        System.arraycopy(unknown.toBytes(), 0, chunk, 0, 16);
                        envelope.get(chunk, 16, envelope.remaining());
                        attacker.getOutputStream().write(frame(FrameType.CHUNK, 1, chunk));
                        attacker.getOutputStream().flush();
                    } else if (f.type() == FrameType.RST && f.streamId() == 1) {
                        rst = Frames.readRst(f.payload());
                    }
                } finally {
                    f.release();
                }
            }
            assertThat(rst).isEqualTo(Frames.RST_CORRUPT + ": literal chunk does not match its fingerprint");
            await().atMost(WAIT).until(destination::closed);
            assertThat(destination.received()).isEqualTo("hello ");
        }
    }

    /** HELLO as a peer "evil" at site "x", read B's HELLO, OPEN stream 1 to {@code destination}. */
    private DataInputStream openHostileStream(Socket attacker, Recorder destination) throws IOException {
        OutputStream out = attacker.getOutputStream();
        out.write(frame(FrameType.HELLO, 0, helloPayload(Frames.VERSION)));
        out.write(frame(FrameType.OPEN, 1, openPayload(256 * 1024, "127.0.0.1", destination.port())));
        out.flush();
        DataInputStream in = new DataInputStream(attacker.getInputStream());
        Frame hello = readFrame(in);
        try {
            assertThat(hello.type()).isEqualTo(FrameType.HELLO);
        } finally {
            hello.release();
        }
        await().atMost(WAIT).until(() -> destination.accepted() == 1);
        return in;
    }

    // ------------------------------------------------------------------------------------- helpers

    private Socket attacker() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), siteB.tunnelAddress().getPort());
        s.setSoTimeout((int) WAIT.toMillis());
        return s;
    }

    /** Reads (and discards) until the worker closes the connection. */
    private static void assertClosedByPeer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        try {
            while (in.read(buf) >= 0) {
                // B's HELLO and whatever else it sent before closing
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the worker did not close the hostile connection within " + WAIT, e);
        } catch (IOException reset) {
            // closed with a reset: also closed
        }
    }

    private byte[] roundTrip(byte[] bytes) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), siteA.forwardPort(0))) {
            s.setSoTimeout((int) WAIT.toMillis());
            Future<?> writer = threads.submit(() -> {
                s.getOutputStream().write(bytes);
                s.shutdownOutput();
                return null;
            });
            byte[] back = s.getInputStream().readAllBytes();
            writer.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            return back;
        }
    }

    private String logged() {
        synchronized (log) {
            return log.toString(StandardCharsets.UTF_8);
        }
    }

    private static Frame readFrame(DataInputStream in) throws IOException {
        int type = in.readUnsignedByte();
        in.readUnsignedByte();
        int stream = in.readInt();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        FrameType t = Stream.of(FrameType.values()).filter(v -> v.code() == type).findFirst().orElseThrow();
        return new Frame(t, stream, Unpooled.wrappedBuffer(payload));
    }

    static byte[] header(int type, int flags, int stream, int length) {
        return ByteBuffer.allocate(FrameCodec.HEADER_BYTES).put((byte) type).put((byte) flags).putInt(stream)
                .putInt(length).array();
    }

    static byte[] frame(FrameType type, int stream, byte[] payload) {
        return concat(header(type.code(), 0, stream, payload.length), payload);
    }

    static byte[] helloPayload(int version) {
        byte[] key = new byte[Frames.KEY_BYTES];
        Arrays.fill(key, (byte) 7);
        return bytesOf(Frames.hello(ByteBufAllocator.DEFAULT, new Frames.Hello(version, "evil", "x", 1, key)));
    }

    static byte[] openPayload(int window, String host, int port) {
        return bytesOf(Frames.open(ByteBufAllocator.DEFAULT, 1, new Frames.Open(window, host, port)));
    }

    private static byte[] bytesOf(Frame f) {
        try {
            return ByteBufUtil.getBytes(f.payload());
        } finally {
            f.release();
        }
    }

    private static byte[] raw(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(5 + b.length).put((byte) Records.RAW).putInt(b.length).put(b).array();
    }

    private static byte[] ref(ChunkFingerprint fp, int length) {
        return ByteBuffer.allocate(1 + 16 + 4).put((byte) Records.REF).put(fp.toBytes()).putInt(length).array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A destination that records every byte it receives and notes when the connection ends. */
    private final class Recorder implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile int accepted;
        private volatile boolean closed;

        Recorder() throws IOException {
            threads.execute(() -> {
                try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
                    accepted++;
                    byte[] buf = new byte[4096];
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        synchronized (bytes) {
                            bytes.write(buf, 0, n);
                        }
                    }
                } catch (IOException ended) {
                    // reset by the worker: the stream was aborted
                } finally {
                    closed = true;
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted;
        }

        boolean closed() {
            return closed;
        }

        String received() {
            synchronized (bytes) {
                return bytes.toString(StandardCharsets.US_ASCII);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** Writes to two streams; the capture is read under its own lock. */
    private static final class TeeStream extends OutputStream {
        private final OutputStream first;
        private final ByteArrayOutputStream second;

        TeeStream(OutputStream first, ByteArrayOutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(int b) throws IOException {
            first.write(b);
            synchronized (second) {
                second.write(b);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            first.write(b, off, len);
            synchronized (second) {
                second.write(b, off, len);
            }
        }
    }
}
