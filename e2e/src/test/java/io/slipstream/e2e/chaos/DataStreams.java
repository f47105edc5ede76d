package io.slipstream.e2e.chaos;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * Self-verifying byte streams for the chaos scenarios. A stream is a 16-byte header (seed, length; length -1
 * for "until the sender half-closes") and then pseudo-random bytes from {@link Payload}, which either end can
 * regenerate from the seed. The {@link Sink} compares every byte it accepts with the expected one as it
 * arrives (so even a stream cut short is checked up to where it stopped), and at the end answers
 * {@code OK <length> <sha256>}; the sender compares that with its own count and digest. A corrupted byte is
 * therefore caught at the sink even on a flow that is later reset, and a wrong answer at the sender.
 */
final class DataStreams {

    static final int HEADER_BYTES = 16;

    private DataStreams() {
    }

    /**
     * The payload of one stream: a deterministic function of the seed. A negative seed gives compressible bytes
     * (16 letters, about 2:1), any other seed incompressible ones.
     */
    static final class Payload {
        private final SplittableRandom random;
        private final boolean compressible;
        private final byte[] block = new byte[8192];
        private int position = block.length;

        Payload(long seed) {
            this.random = new SplittableRandom(seed);
            this.compressible = seed < 0;
        }

        /** Fills {@code out[off, off+len)} with the next payload bytes. */
        void next(byte[] out, int off, int len) {
            while (len > 0) {
                if (position == block.length) {
                    random.nextBytes(block);
                    if (compressible) {
                        for (int i = 0; i < block.length; i++) {
                            block[i] = (byte) ('a' + (block[i] & 15));
                        }
                    }
                    position = 0;
                }
                int n = Math.min(len, block.length - position);
                System.arraycopy(block, position, out, off, n);
                position += n;
                off += n;
                len -= n;
            }
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How one stream ended, seen by the sender. */
    enum Outcome {
        /** The sink answered the sender's exact length and digest. */
        INTACT,
        /** Reset or EOF without an answer: the flow failed cleanly. */
        RESET,
        /** The sink answered something else: bytes were lost or changed on the way. */
        WRONG
    }

    /**
     * Sends one stream to {@code port} on loopback. With {@code length >= 0} it sends that many bytes; with
     * {@code length < 0} it sends until {@code keepGoing} says stop. {@code beforeChunk} runs before each chunk
     * (pacing); {@code sent} counts payload bytes written.
     */
    static Outcome send(int port, long seed, long length, int chunkBytes, BooleanSupplier keepGoing,
                        Runnable beforeChunk, AtomicLong sent, int readTimeoutMillis) {
        Payload payload = new Payload(seed);
        MessageDigest sha = sha256();
        byte[] chunk = new byte[chunkBytes];
        long written = 0;
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(readTimeoutMillis);
            OutputStream out = s.getOutputStream();
            out.write(ByteBuffer.allocate(HEADER_BYTES).putLong(seed).putLong(length).array());
            while (length >= 0 ? written < length : keepGoing.getAsBoolean()) {
                beforeChunk.run();
                int n = (int) (length >= 0 ? Math.min(chunkBytes, length - written) : chunkBytes);
                payload.next(chunk, 0, n);
                out.write(chunk, 0, n);
                sha.update(chunk, 0, n);
                written += n;
                sent.addAndGet(n);
            }
            s.shutdownOutput();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (answer.isEmpty()) {
                return Outcome.RESET;
            }
            String expected = "OK " + written + " " + HexFormat.of().formatHex(sha.digest());
            if (!answer.equals(expected)) {
                System.out.println("CHAOS stream " + seed + ": sink answered '" + answer + "', expected '" + expected
                        + "'");
                return Outcome.WRONG;
            }
            return Outcome.INTACT;
        } catch (IOException e) {
            return Outcome.RESET;
        }
    }

    /** A fixed-length stream with no pacing. */
    static Outcome send(int port, long seed, int length) {
        return send(port, seed, length, 16 * 1024, () -> true, () -> { }, new AtomicLong(), 10_000);
    }

    /**
     * Accepts streams on loopback and checks each byte as it arrives against the sender's seed. Counts bytes
     * verified, streams complete, streams cut short (reset or EOF early) and streams with a wrong byte.
     */
    static final class Sink implements AutoCloseable {
        private final ServerSocket server;
        private final ExecutorService threads = Executors.newCachedThreadPool();
        final AtomicLong verifiedBytes = new AtomicLong();
        final AtomicLong complete = new AtomicLong();
        final AtomicLong cutShort = new AtomicLong();
        final AtomicLong corrupted = new AtomicLong();

        Sink() throws IOException {
            server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        threads.execute(() -> check(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private void check(Socket s) {
            try (s) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                long seed;
                long length;
                try {
                    seed = in.readLong();
                    length = in.readLong();
                } catch (EOFException e) {
                    cutShort.incrementAndGet();
                    return;
                }
                Payload payload = new Payload(seed);
                MessageDigest sha = sha256();
                byte[] buf = new byte[64 * 1024];
                byte[] expected = new byte[buf.length];
                long received = 0;
                int n;
                while ((n = read(in, buf, length < 0 ? buf.length : (int) Math.min(buf.length, length - received)))
                        > 0) {
                    payload.next(expected, 0, n);
                    if (!Arrays.equals(buf, 0, n, expected, 0, n)) {
                        corrupted.incrementAndGet();
                        System.out.println("CHAOS sink: stream " + seed + " has a wrong byte within [" + received
                                + ", " + (received + n) + ")");
                        return;
                    }
                    sha.update(buf, 0, n);
                    received += n;
                    verifiedBytes.addAndGet(n);
                }
                boolean ended = length < 0 || (received == length && in.read() < 0);
                if (!ended || (length >= 0 && received != length)) {
                    cutShort.incrementAndGet();
                    return;
                }
                complete.incrementAndGet();
                OutputStream out = s.getOutputStream();
                out.write(("OK " + received + " " + HexFormat.of().formatHex(sha.digest()) + "\n")
                        .getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                cutShort.incrementAndGet();
            }
        }

        /** One read of at most {@code max} bytes; -1 at the end (0 only when max is 0). */
        private static int read(InputStream in, byte[] buf, int max) throws IOException {
            return max == 0 ? 0 : in.read(buf, 0, max);
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }
}
