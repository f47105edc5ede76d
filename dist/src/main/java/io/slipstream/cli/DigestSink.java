package io.slipstream.cli;

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
 * SHA-256 of what it received, and closes. Lets the demo and the benchmarks prove that what
 * crossed the WAN is byte for byte what was sent.
 */
final class DigestSink implements AutoCloseable {

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "digest-sink");
        t.setDaemon(true);
        return t;
    });

    DigestSink() throws IOException {
        this(InetAddress.getLoopbackAddress());
    }

    /** A sink listening on {@code address} (e.g. 127.0.0.2, a "host at site B" on loopback). */
    DigestSink(InetAddress address) throws IOException {
        server = new ServerSocket(0, 100, address);
        threads.execute(this::acceptLoop);
    }

    int port() {
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

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends {@code bytes} to {@code port} on loopback and returns the digest the far end answered. */
    static String send(int port, byte[] bytes) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(120_000);
            s.getOutputStream().write(bytes);
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        }
    }

    static String digestOf(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
