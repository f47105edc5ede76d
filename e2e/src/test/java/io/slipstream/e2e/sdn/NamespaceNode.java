package io.slipstream.e2e.sdn;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A process of OvsSteeringIT started inside a network namespace with {@code ip netns exec}. It
 * reports on stdout, one line per event, and exits when its stdin closes (so it never outlives the
 * test).
 * <ul>
 *   <li>{@code echo BIND_IP PORT}: a TCP echo server; prints {@code ACCEPT <local> <remote>} per connection.</li>
 *   <li>{@code client HOST PORT}: reads commands on stdin; {@code flow BYTES} opens one new connection,
 *       sends BYTES random bytes, half-closes, reads the echo and prints
 *       {@code FLOW ok|fail <startMillis> <endMillis> <local> <sent> <echoed> <detail>}.</li>
 * </ul>
 */
public final class NamespaceNode {

    private NamespaceNode() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "echo" -> echo(args[1], Integer.parseInt(args[2]));
            case "client" -> client(args[1], Integer.parseInt(args[2]));
            default -> throw new IllegalArgumentException("mode: " + args[0] + " (expected: echo or client)");
        }
    }

    private static void say(String line) {
        synchronized (System.out) {
            System.out.println(line);
            System.out.flush();
        }
    }

    private static void echo(String bind, int port) throws Exception {
        ServerSocket server = new ServerSocket(port, 100, InetAddress.getByName(bind));
        Thread acceptor = new Thread(() -> {
            while (true) {
                try {
                    Socket s = server.accept();
                    say("ACCEPT " + s.getLocalSocketAddress() + " " + s.getRemoteSocketAddress());
                    Thread t = new Thread(() -> echoOne(s), "echo");
                    t.setDaemon(true);
                    t.start();
                } catch (Exception e) {
                    return;
                }
            }
        }, "acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
        say("READY echo " + server.getLocalSocketAddress());
        InputStream in = System.in;
        while (in.read() >= 0) {
            // until the test closes stdin
        }
        server.close();
        System.exit(0);
    }

    private static void echoOne(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
            }
            s.shutdownOutput();
        } catch (Exception ignored) {
            // the client went away
        }
    }

    private static void client(String host, int port) throws Exception {
        say("READY client");
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = commands.readLine()) != null) {
            String[] c = line.trim().split("\\s+");
            if (c[0].equals("flow")) {
                say(flow(host, port, Integer.parseInt(c[1])));
            } else {
                say("ERROR unknown command '" + line + "' (expected: flow BYTES)");
            }
        }
        System.exit(0);
    }

    private static String flow(String host, int port, int size) {
        byte[] data = new byte[size];
        ThreadLocalRandom.current().nextBytes(data);
        long start = System.currentTimeMillis();
        String local = "-";
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            s.setSoTimeout(10_000);
            local = String.valueOf(s.getLocalSocketAddress());
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    s.getOutputStream().write(data);
                    s.shutdownOutput();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] back = s.getInputStream().readAllBytes();
            writer.get(10, TimeUnit.SECONDS);
            boolean same = Arrays.equals(data, back);
            return "FLOW " + (same ? "ok" : "fail") + " " + start + " " + System.currentTimeMillis() + " " + local
                    + " " + size + " " + back.length + " " + (same ? "echo-exact" : "echo-differs");
        } catch (Exception e) {
            return "FLOW fail " + start + " " + System.currentTimeMillis() + " " + local + " " + size + " 0 "
                    + e.toString().replace(' ', '_');
        }
    }
}
