package io.slipstream.tools.workload;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A destination for bulk transfers on loopback: reads each connection to its end, answers the
 * SHA-256 of what it received (and, when asked to, a space and how many bytes that was), and closes. Lets the demo and the benchmarks prove that what
 * crossed the WAN is byte for byte what was sent.
 */
public final class DigestSink implements AutoCloseable {

    private final ServerSocket server;
    private final boolean answerLength;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "digest-sink");
        t.setDaemon(true);
        return t;
    });

    public DigestSink() throws IOException {
        this(InetAddress.getLoopbackAddress(), false);
    }

    /**
     * A sink listening on {@code address} (e.g. 127.0.0.2, a "host at site B" on loopback).
     *
     * @param answerLength whether the answer also holds the length received ({@code "<hex> <length>"})
     */
    public DigestSink(InetAddress address, boolean answerLength) throws IOException {
        this.answerLength = answerLength;
        server = new ServerSocket(0, 100, address);
        threads.execute(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                threads.execute(() -> digest(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void digest(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            MessageDigest sha = sha256();
            byte[] buf = new byte[64 * 1024];
            int n;
            long length = 0;
            while ((n = in.read(buf)) >= 0) {
                sha.update(buf, 0, n);
                length += n;
            }
            out.write((HexFormat.of().formatHex(sha.digest()) + (answerLength ? " " + length : "") + "\n")
                    .getBytes(StandardCharsets.US_ASCII));
        } catch (IOException ignored) {
            // the sender went away; it sees no digest
        }
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code bytes} to {@code port} on loopback and returns the digest the far end answered. */
    public static String send(int port, byte[] bytes) throws IOException {
        return sendForReceipt(port, bytes).digest();
    }

    /**
     * What the far end said it received: its digest and length ({@code ""} when the connection ended
     * without an answer; length -1 when the sink does not answer lengths).
     */
    public record Receipt(String digest, long length) {
    }

    /** Sends {@code bytes} to {@code port} on loopback and returns what the far end answered. */
    public static Receipt sendForReceipt(int port, byte[] bytes) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(120_000);
            s.getOutputStream().write(bytes);
            s.shutdownOutput();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            int space = answer.indexOf(' ');
            if (space < 0) {
                return new Receipt(answer, -1);
            }
            return new Receipt(answer.substring(0, space), Long.parseLong(answer.substring(space + 1)));
        }
    }

    public static String digestOf(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
