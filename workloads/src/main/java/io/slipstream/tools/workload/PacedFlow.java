package io.slipstream.tools.workload;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A long-lived TCP flow on loopback: sends a 4 KiB chunk of pseudo-random bytes every 50 ms until
 * {@link #finish()}, then half-closes and compares the SHA-256 the {@link DigestSink} at the far end
 * answered with what it sent. Generated load an autoscaler sees as an active flow, checked end to end.
 */
public final class PacedFlow {

    public static final int CHUNK_BYTES = 4096;
    public static final long INTERVAL_MILLIS = 50;

    private final Socket socket;
    private final MessageDigest sent = DigestSink.sha256();
    private final Random random;
    private final ScheduledFuture<?> writer;
    private long bytes;
    private IOException failure;

    private PacedFlow(int port, long seed, ScheduledExecutorService scheduler) throws IOException {
        this.socket = new Socket(InetAddress.getLoopbackAddress(), port);
        this.socket.setSoTimeout(60_000);
        this.random = new Random(seed);
        this.writer = scheduler.scheduleWithFixedDelay(this::writeChunk, 0, INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
    }

    public static PacedFlow open(int port, long seed, ScheduledExecutorService scheduler) throws IOException {
        return new PacedFlow(port, seed, scheduler);
    }

    private synchronized void writeChunk() {
        if (failure != null) {
            return;
        }
        byte[] chunk = new byte[CHUNK_BYTES];
        random.nextBytes(chunk);
        try {
            socket.getOutputStream().write(chunk);
            sent.update(chunk);
            bytes += chunk.length;
        } catch (IOException e) {
            failure = e;
        }
    }

    /** Stops sending, half-closes; true when the far end received exactly what was sent. */
    public boolean finish() throws IOException {
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

    public synchronized long bytes() {
        return bytes;
    }

    /** Stops sending and closes without checking (cleanup after a failure). */
    public void abort() {
        writer.cancel(false);
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
