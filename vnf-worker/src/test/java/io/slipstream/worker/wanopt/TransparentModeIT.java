package io.slipstream.worker.wanopt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Transparent mode end to end, in three network namespaces:
 * <pre>
 * client 198.18.0.2 --veth-- 198.18.0.1 [worker ns: wanopt A, TPROXY] 198.18.1.1 --veth-- 198.18.1.2 server ns
 *                                                                                     (wanopt B + echo servers)
 * </pre>
 * The client connects to 198.18.1.2:5001 and :5002 as if there were no optimizer. In the worker
 * namespace (which routes, {@code ip_forward=1}) TPROXY steers those SYNs to A's transparent listener
 * on 127.0.0.1:9000; A opens a tunnel stream to B with the original destination; B connects to it.
 * The echo servers therefore see the connection come from B (198.18.1.2), not from the client
 * (198.18.0.2, what plain routing would show), and the destination ports appear in no configuration.
 * A, B and the client are separate JVMs started with {@code ip netns exec}.
 */
class TransparentModeIT {

    private static final String CLIENT_IP = "198.18.0.2";
    private static final String SERVER_IP = "198.18.1.2";
    private static final int TUNNEL_PORT = 7000;
    private static final int LISTEN_PORT = 9000;
    private static final int[] SERVER_PORTS = {5001, 5002};
    private static final int BYTES = 4 << 20;

    private final List<Process> processes = new ArrayList<>();
    private final List<String> namespaces = new ArrayList<>();
    private final Deque<Path> logs = new ArrayDeque<>();

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void connectionSteeredByTproxy_travelsThroughTheTunnel_toItsOriginalDestination() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")) || uid() == 0,
                "TransparentModeIT needs root (network namespaces, iptables); skipped");
        for (String tool : List.of("ip", "iptables", "ethtool")) {
            assumeTrue(which(tool) != null, "TransparentModeIT needs '" + tool + "' (bin/test-packages); skipped");
        }
        assumeTrue(Epoll.isAvailable(), "TransparentModeIT needs the epoll transport: " + Epoll.unavailabilityCause());
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        String client = "tpc-" + suffix;
        String worker = "tpw-" + suffix;
        String server = "tps-" + suffix;
        try {
            setUpNetwork(suffix, client, worker, server);

            Node egress = start("egress", server, "egress", SERVER_IP, String.valueOf(TUNNEL_PORT),
                    String.valueOf(SERVER_PORTS[0]), String.valueOf(SERVER_PORTS[1]));
            Node ingress = start("ingress", worker, "ingress", String.valueOf(LISTEN_PORT), SERVER_IP,
                    String.valueOf(TUNNEL_PORT));
            egress.await(l -> l.startsWith("READY"), 30);
            assertThat(ingress.await(l -> l.startsWith("READY"), 30)).endsWith("tunnels=2");

            Node clientNode = start("client", client, "client", SERVER_IP,
                    SERVER_PORTS[0] + "," + SERVER_PORTS[1], String.valueOf(BYTES));
            assertThat(clientNode.process.waitFor(40, TimeUnit.SECONDS)).as("client finished").isTrue();

            Pattern result = Pattern.compile(
                    "CLIENT /(\\S+):\\d+ /(\\S+):(\\d+) sent=(\\d+) (\\w+) received=(\\d+) (\\w+)");
            List<String> results = clientNode.lines.stream().filter(l -> l.startsWith("CLIENT")).toList();
            assertThat(results).as(clientNode.describe()).hasSize(SERVER_PORTS.length);
            for (int i = 0; i < SERVER_PORTS.length; i++) {
                Matcher m = result.matcher(results.get(i));
                assertThat(m.matches()).as(results.get(i)).isTrue();
                assertThat(m.group(1)).isEqualTo(CLIENT_IP);
                assertThat(m.group(2) + ":" + m.group(3)).isEqualTo(SERVER_IP + ":" + SERVER_PORTS[i]);
                assertThat(Integer.parseInt(m.group(4))).isEqualTo(BYTES);
                assertThat(m.group(6) + " " + m.group(7)).as("echo is byte-exact")
                        .isEqualTo(m.group(4) + " " + m.group(5));
            }

            // The original destinations travelled: B connected to each port the client dialled,
            // from its own side (plain routing would show the client's address).
            for (int port : SERVER_PORTS) {
                String accept = egress.await(l -> l.startsWith("ACCEPT /" + SERVER_IP + ":" + port + " "), 5);
                assertThat(accept).startsWith("ACCEPT /" + SERVER_IP + ":" + port + " /" + SERVER_IP + ":")
                        .doesNotContain(CLIENT_IP);
            }
            assertThat(egress.lines.stream().filter(l -> l.startsWith("ACCEPT"))).hasSize(SERVER_PORTS.length);

            // The worker's ingress carried every byte (application bytes in, fewer on the WAN: the
            // redundant stream shrinks).
            String stats = ingress.await(l -> l.startsWith("STATS in=" + (long) BYTES * SERVER_PORTS.length + " "), 10);
            long wan = Long.parseLong(stats.substring(stats.indexOf("wan=") + 4));
            assertThat(wan).isPositive().isLessThan((long) BYTES * SERVER_PORTS.length);
            System.out.println("TransparentModeIT: " + results + " " + egress.lines + " " + stats);
        } finally {
            cleanUp();
        }
    }

    private void setUpNetwork(String suffix, String client, String worker, String server) throws Exception {
        String cw = "tc" + suffix;  // client side of client-worker
        String wc = "tw" + suffix;  // worker side of client-worker
        String ws = "tx" + suffix;  // worker side of worker-server
        String sw = "ts" + suffix;  // server side of worker-server
        for (String ns : List.of(client, worker, server)) {
            run("ip", "netns", "add", ns);
            namespaces.add(ns);
            run("ip", "-n", ns, "link", "set", "lo", "up");
        }
        // Both ends are created inside the namespaces: nothing appears in the host's namespace.
        run("ip", "-n", client, "link", "add", cw, "type", "veth", "peer", "name", wc, "netns", worker);
        run("ip", "-n", worker, "link", "add", ws, "type", "veth", "peer", "name", sw, "netns", server);
        address(client, cw, CLIENT_IP + "/24");
        address(worker, wc, "198.18.0.1/24");
        address(worker, ws, "198.18.1.1/24");
        address(server, sw, SERVER_IP + "/24");
        run("ip", "-n", client, "route", "add", "198.18.1.0/24", "via", "198.18.0.1");
        run("ip", "-n", server, "route", "add", "198.18.0.0/24", "via", "198.18.1.1");
        run("ip", "netns", "exec", worker, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        // TPROXY: SYNs for the server ports, arriving from the client side, go to A's listener.
        String ports = SERVER_PORTS[0] + ":" + SERVER_PORTS[SERVER_PORTS.length - 1];
        Result tproxy = exec(List.of("ip", "netns", "exec", worker, "iptables", "-t", "mangle", "-A", "PREROUTING",
                "-i", wc, "-p", "tcp", "--dport", ports, "-j", "TPROXY", "--on-port", String.valueOf(LISTEN_PORT),
                "--on-ip", "127.0.0.1", "--tproxy-mark", "0x1/0x1"));
        assumeTrue(tproxy.code == 0, "the kernel or iptables has no TPROXY target: " + tproxy.output);
        run("ip", "-n", worker, "rule", "add", "fwmark", "0x1/0x1", "lookup", "100");
        run("ip", "-n", worker, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100");
    }

    /** Address, link up, and checksum offload off (or TCP does not pass over veth here). */
    private void address(String ns, String dev, String cidr) throws Exception {
        run("ip", "-n", ns, "addr", "add", cidr, "dev", dev);
        run("ip", "-n", ns, "link", "set", dev, "up");
        run("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tx", "off");
    }

    private void cleanUp() {
        for (Process p : processes) {
            try {
                p.getOutputStream().close();  // the node exits when stdin closes
            } catch (IOException ignored) {
                // already gone
            }
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(3, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        for (String ns : namespaces) {
            try {
                exec(List.of("ip", "netns", "del", ns));
            } catch (Exception e) {
                System.err.println("TransparentModeIT: could not delete namespace " + ns + ": " + e);
            }
        }
        for (Path log : logs) {
            try {
                Files.deleteIfExists(log);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** A node JVM in a namespace: its stdout lines, its stderr (the log) in a file. */
    private final class Node {
        final String name;
        final Process process;
        final Path log;
        final List<String> lines = new CopyOnWriteArrayList<>();

        Node(String name, Process process, Path log) {
            this.name = name;
            this.process = process;
            this.log = log;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            }, "node-" + name);
            reader.setDaemon(true);
            reader.start();
        }

        String await(Predicate<String> condition, int seconds) {
            try {
                return org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(seconds))
                        .pollInterval(java.time.Duration.ofMillis(20))
                        .until(() -> lines.stream().filter(condition).findFirst().orElse(null),
                                java.util.Objects::nonNull);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                throw new AssertionError("timed out after " + seconds + " s waiting on " + describe(), e);
            }
        }

        String describe() {
            String err;
            try {
                List<String> all = Files.readAllLines(log);
                err = String.join("\n", all.subList(Math.max(0, all.size() - 30), all.size()));
            } catch (IOException e) {
                err = e.toString();
            }
            return name + " (alive " + process.isAlive() + "), stdout " + lines + ", log tail:\n" + err;
        }
    }

    private Node start(String name, String ns, String... args) throws IOException {
        Path log = Files.createTempFile("transparent-mode-" + name, ".log");
        logs.add(log);
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns,
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                TransparentModeNode.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
        withSbin(builder);
        Process process = builder.start();
        processes.add(process);
        return new Node(name, process, log);
    }

    private record Result(int code, String output) {
    }

    private static Result exec(List<String> command) throws Exception {
        Process p = withSbin(new ProcessBuilder(command).redirectErrorStream(true)).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private static void run(String... command) throws Exception {
        Result r = exec(List.of(command));
        if (r.code != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (" + r.code + "): " + r.output);
        }
    }

    /** ip, iptables, ethtool and sysctl live in /usr/sbin, which a non-login PATH may lack. */
    private static ProcessBuilder withSbin(ProcessBuilder builder) {
        builder.environment().merge("PATH", "/usr/sbin:/sbin", (path, sbin) -> path + File.pathSeparator + sbin);
        return builder;
    }

    private static long uid() {
        try {
            Result r = exec(List.of("id", "-u"));
            return Long.parseLong(r.output.trim());
        } catch (Exception e) {
            return -1;
        }
    }

    private static String which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            File f = new File(dir, tool);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }
}
