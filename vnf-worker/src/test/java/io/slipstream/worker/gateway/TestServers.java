package io.slipstream.worker.gateway;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.MessageDigest;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Blocking loopback servers for gateway tests: an echo, and an echo that first reads a PROXY v2 header. */
final class TestServers {

    private TestServers() {
    }

    /** The original addresses a {@link ProxyEcho} read from a header. */
    record Header(String source, int sourcePort, String destination, int destinationPort) {
    }

    /** Echoes every connection until the client half-closes; with {@code proxy}, reads a PROXY v2 header first. */
    static class Echo implements AutoCloseable {
        final String name;
        final ServerSocket server;
        final ExecutorService threads = Executors.newCachedThreadPool();
        final List<Header> headers = new CopyOnWriteArrayList<>();
        final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
        final boolean proxy;

        Echo(String name, boolean proxy) throws IOException {
            this.name = name;
            this.proxy = proxy;
            this.server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            threads.execute(this::acceptLoop);
        }

        int port() {
            return server.getLocalPort();
        }

        String endpoint() {
            return "127.0.0.1:" + port();
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    threads.execute(() -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                s.setSoTimeout(60_000);
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                if (proxy) {
                    Header h = readHeader(new DataInputStream(in));
                    if (h == null) {
                        return; // a pre-opened connection closed unused, or not a header: drop it
                    }
                    headers.add(h);
                }
                clientPorts.add(s.getPort());
                byte[] buf = new byte[64 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                }
                s.shutdownOutput();
            } catch (IOException e) {
                // client gone
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }

    static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    /** Reads a PROXY v2 TCP4 header (written by hand here, to check the gateway against the spec, not Netty). */
    static Header readHeader(DataInputStream in) throws IOException {
        byte[] sig = new byte[12];
        try {
            in.readFully(sig);
        } catch (IOException e) {
            return null;
        }
        if (!java.util.Arrays.equals(sig, V2_SIGNATURE)) {
            return null;
        }
        int verCmd = in.readUnsignedByte();
        int famProto = in.readUnsignedByte();
        int len = in.readUnsignedShort();
        byte[] body = new byte[len];
        in.readFully(body);
        if (verCmd != 0x21 || famProto != 0x11 || len < 12) {
            throw new IOException("unexpected PROXY v2 header: ver/cmd " + verCmd + " fam/proto " + famProto);
        }
        String src = InetAddress.getByAddress(java.util.Arrays.copyOfRange(body, 0, 4)).getHostAddress();
        String dst = InetAddress.getByAddress(java.util.Arrays.copyOfRange(body, 4, 8)).getHostAddress();
        int srcPort = ((body[8] & 0xff) << 8) | (body[9] & 0xff);
        int dstPort = ((body[10] & 0xff) << 8) | (body[11] & 0xff);
        return new Header(src, srcPort, dst, dstPort);
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Text-like data with some noise: what deduplication and compression have something to do on. */
    static byte[] redundant(int size, long seed) {
        byte[] words = "the quick brown fox jumps over the lazy dog; backup block 0042 of volume C: "
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] b = new byte[size];
        Random random = new Random(seed);
        for (int i = 0; i < size; i++) {
            b[i] = random.nextInt(50) == 0 ? (byte) random.nextInt(256) : words[i % words.length];
        }
        return b;
    }

    static byte[] sha256(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    /** Writes {@code data} in a second thread, half-closes, and returns everything read back. */
    static byte[] roundTrip(Socket s, byte[] data) throws Exception {
        s.setSoTimeout(30_000);
        Thread writer = new Thread(() -> {
            try {
                s.getOutputStream().write(data);
                s.shutdownOutput();
            } catch (IOException e) {
                // the read side reports the failure
            }
        });
        writer.start();
        byte[] back = s.getInputStream().readAllBytes();
        writer.join(30_000);
        return back;
    }

    /** Whether the peer reset or closed the connection (reads end) within the socket's timeout. */
    static boolean closedByPeer(Socket s) throws IOException {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // connection reset
        }
    }
}
