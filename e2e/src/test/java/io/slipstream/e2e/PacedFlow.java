package io.slipstream.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A long-lived TCP flow on loopback that sends a chunk of pseudo-random bytes at a fixed interval
 * until {@link #finish()}, then half-closes and reads the SHA-256 the {@link Sink} at the far end
 * answered: a flow an autoscaler sees as active, whose bytes are checked end to end.
 */
final class PacedFlow {

    private final Socket socket;
    private final MessageDigest sent = sha256();
    private final Random random;
    private final ScheduledFuture<?> writer;
    private long bytes;
    private IOException failure;

    private PacedFlow(int port, long seed, ScheduledExecutorService scheduler) throws IOException {
        this.socket = new Socket(InetAddress.getLoopbackAddress(), port);
        this.socket.setSoTimeout(60_000);
        this.random = new Random(seed);
        this.writer = scheduler.scheduleWithFixedDelay(this::writeChunk, 0, 50, TimeUnit.MILLISECONDS);
    }

    static PacedFlow open(int port, long seed, ScheduledExecutorService scheduler) throws IOException {
        return new PacedFlow(port, seed, scheduler);
    }

    private synchronized void writeChunk() {
        if (failure != null) {
            return;
        }
        byte[] chunk = new byte[4096];
        random.nextBytes(chunk);
        try {
            socket.getOutputStream().write(chunk);
            sent.update(chunk);
            bytes += chunk.length;
        } catch (IOException e) {
            failure = e;
        }
    }

    /** Stops sending, half-closes and returns true when the far end received exactly what was sent. */
    boolean finish() throws IOException {
        writer.cancel(false);
        synchronized (this) {
            if (failure != null) {
                throw failure;
            }
            socket.shutdownOutput();
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            socket.close();
            return answer.equals(HexFormat.of().formatHex(sent.digest()));
        }
    }

    synchronized long bytes() {
        return bytes;
    }

    void abort() {
        writer.cancel(false);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads each connection to its end and answers the SHA-256 of what it received. */
    static final class Sink implements AutoCloseable {
        private final ServerSocket server;
        private final ExecutorService threads = Executors.newCachedThreadPool();

        Sink() throws IOException {
            server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        threads.execute(() -> digest(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private static void digest(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                MessageDigest sha = sha256();
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    sha.update(buf, 0, n);
                }
                out.write((HexFormat.of().formatHex(sha.digest()) + "\n").getBytes(StandardCharsets.US_ASCII));
            } catch (IOException ignored) {
                // the sender went away; it sees no digest
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }
}
