package io.slipstream.e2e.sdn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.onlab.packet.MacAddress;

/**
 * An Open vSwitch bridge on the userspace datapath ({@code datapath_type=netdev}), with its own
 * {@code ovsdb-server} and {@code ovs-vswitchd} in a private run directory (nothing touches a
 * system OVS), OpenFlow 1.3 only and {@code fail-mode=secure} (no flows, no forwarding until the
 * test installs some). Hosts are network namespaces joined to it by veth pairs, each on a fixed
 * OpenFlow port; addresses come from 198.18.0.0/15, with no default route. {@link #close()} removes
 * the namespaces (and what still runs in them), the bridge, the daemons and the run directory.
 */
public final class OvsSwitch implements AutoCloseable {

    /** A namespace on the bridge. */
    public record Host(String name, String namespace, String ip, MacAddress mac, int port, String hostIf) {
    }

    private final String id;
    private final Path run;
    private final Map<String, String> env;
    private final String bridge;
    private final long datapathId;
    private final List<Process> daemons = new ArrayList<>();
    private final Map<String, Host> hosts = new LinkedHashMap<>();

    private OvsSwitch(Path run, long datapathId) {
        this.id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
        this.run = run;
        this.env = Map.of("OVS_RUNDIR", run.toString(), "OVS_DBDIR", run.toString(), "OVS_LOGDIR", run.toString());
        this.bridge = "ssbr" + id;
        this.datapathId = datapathId;
    }

    /** Why this machine cannot run the bridge (not root, a tool missing), or empty if it can. */
    public static Optional<String> unavailable() {
        if (!Commands.root()) {
            return Optional.of("needs root (network namespaces, Open vSwitch)");
        }
        for (String tool : List.of("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovsdb-tool", "ip",
                "ethtool", "iptables")) {
            if (Commands.which(tool) == null) {
                return Optional.of("needs '" + tool + "' (Debian packages openvswitch-switch, iproute2, ethtool, "
                        + "iptables: see bin/test-packages)");
            }
        }
        if (!Files.exists(Path.of("/usr/share/openvswitch/vswitch.ovsschema"))) {
            return Optional.of("needs /usr/share/openvswitch/vswitch.ovsschema (openvswitch-common)");
        }
        return Optional.empty();
    }

    /** Starts the daemons and the bridge; the address {@code hostCidr} goes on the bridge's local port (this host). */
    public static OvsSwitch start(Path run, long datapathId, String hostCidr) throws IOException {
        Files.createDirectories(run);
        OvsSwitch s = new OvsSwitch(run, datapathId);
        try {
            s.startDaemons();
            s.vsctl("add-br", s.bridge, "--", "set", "bridge", s.bridge, "datapath_type=netdev",
                    "protocols=OpenFlow13", "fail-mode=secure",
                    "other-config:datapath-id=" + String.format("%016x", datapathId));
            Commands.run("ip", "addr", "add", hostCidr, "dev", s.bridge);
            Commands.run("ip", "link", "set", s.bridge, "up");
            Commands.run("ethtool", "-K", s.bridge, "tx", "off");
            return s;
        } catch (RuntimeException | Error e) {
            s.close();
            throw e;
        }
    }

    private void startDaemons() throws IOException {
        Path db = run.resolve("conf.db");
        Commands.run("ovsdb-tool", "create", db.toString(), "/usr/share/openvswitch/vswitch.ovsschema");
        daemons.add(daemon("ovsdb-server", db.toString(), "--remote=punix:" + run.resolve("db.sock"),
                "--unixctl=" + run.resolve("ovsdb-server.ctl"), "--log-file=" + run.resolve("ovsdb-server.log")));
        Awaitility.await("ovsdb-server socket").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> Files.exists(run.resolve("db.sock")));
        Commands.run(env, "ovs-vsctl", "--db=unix:" + run.resolve("db.sock"), "--no-wait", "init");
        daemons.add(daemon("ovs-vswitchd", "unix:" + run.resolve("db.sock"),
                "--unixctl=" + run.resolve("ovs-vswitchd.ctl"), "--log-file=" + run.resolve("ovs-vswitchd.log")));
        Awaitility.await("ovs-vswitchd").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> Files.exists(run.resolve("ovs-vswitchd.ctl")));
    }

    private Process daemon(String... command) throws IOException {
        ProcessBuilder b = Commands.builder(List.of(command)).redirectErrorStream(true)
                .redirectOutput(run.resolve(command[0] + ".out").toFile());
        b.environment().putAll(env);
        return b.start();
    }

    public String bridge() {
        return bridge;
    }

    public long datapathId() {
        return datapathId;
    }

    public Path runDirectory() {
        return run;
    }

    public Map<String, Host> hosts() {
        return hosts;
    }

    /**
     * A namespace {@code name} with one interface {@code eth0} at {@code cidr}, joined to the bridge on
     * OpenFlow port {@code port}; checksum offload off on both ends (or TCP does not pass over veth).
     */
    public Host addHost(String name, String cidr, int port) {
        String ns = "ss" + id + "-" + name;
        String hostIf = "s" + id + "-" + name;
        Commands.run("ip", "netns", "add", ns);
        Host partial = new Host(name, ns, cidr.replaceAll("/.*", ""), null, port, hostIf);
        hosts.put(name, partial);  // so that close() removes the namespace even if the rest fails
        Commands.run("ip", "-n", ns, "link", "set", "lo", "up");
        Commands.run("ip", "link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", ns);
        Commands.run("ip", "link", "set", hostIf, "up");
        Commands.run("ethtool", "-K", hostIf, "tx", "off");
        vsctl("add-port", bridge, hostIf, "--", "set", "interface", hostIf, "ofport_request=" + port);
        Commands.run("ip", "-n", ns, "addr", "add", cidr, "dev", "eth0");
        Commands.run("ip", "-n", ns, "link", "set", "eth0", "up");
        Commands.run("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off");
        String link = Commands.run("ip", "-n", ns, "-br", "link", "show", "eth0");
        MacAddress mac = MacAddress.valueOf(link.trim().split("\\s+")[2]);
        String actual = vsctl("get", "interface", hostIf, "ofport").trim();
        if (!actual.equals(Integer.toString(port))) {
            throw new IllegalStateException(hostIf + " got OpenFlow port " + actual + ", wanted " + port);
        }
        Host host = new Host(name, ns, partial.ip(), mac, port, hostIf);
        hosts.put(name, host);
        return host;
    }

    /** Runs a command inside a host's namespace. */
    public String inHost(Host host, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", host.namespace()));
        full.addAll(List.of(command));
        return Commands.run(full.toArray(String[]::new));
    }

    /**
     * TPROXY in a host's namespace (RECIPES.md): TCP to {@code dport} arriving on eth0, whatever its
     * destination address, is delivered to a transparent listener on 127.0.0.1:{@code listenPort}.
     */
    public void transparentProxy(Host host, int dport, int listenPort) {
        inHost(host, "iptables", "-t", "mangle", "-A", "PREROUTING", "-i", "eth0", "-p", "tcp", "--dport",
                Integer.toString(dport), "-j", "TPROXY", "--on-port", Integer.toString(listenPort), "--on-ip",
                "127.0.0.1", "--tproxy-mark", "0x1/0x1");
        Commands.run("ip", "-n", host.namespace(), "rule", "add", "fwmark", "0x1/0x1", "lookup", "100");
        Commands.run("ip", "-n", host.namespace(), "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "100");
    }

    /** {@code ovs-ofctl -O OpenFlow13 <command> <bridge> [args]}. */
    public String ofctl(String command, String... args) {
        List<String> full = new ArrayList<>(List.of("ovs-ofctl", "-O", "OpenFlow13", command,
                "unix:" + run.resolve(bridge + ".mgmt")));
        full.addAll(List.of(args));
        return Commands.run(env, full.toArray(String[]::new));
    }

    public String vsctl(String... args) {
        List<String> full = new ArrayList<>(List.of("ovs-vsctl", "--db=unix:" + run.resolve("db.sock"),
                "--timeout=10"));
        full.addAll(List.of(args));
        return Commands.run(env, full.toArray(String[]::new));
    }

    @Override
    public void close() {
        // Clean-up runs to the end even when the test was interrupted (a timeout): the flag comes back after.
        boolean interrupted = Thread.interrupted();
        try {
            removeEverything();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void removeEverything() {
        for (Host h : hosts.values()) {
            // Whatever the test started in the namespace and left behind, by PID.
            Commands.Result pids = Commands.exec(List.of("ip", "netns", "pids", h.namespace()), Map.of(),
                    Duration.ofSeconds(5));
            if (pids.code() == 0) {
                for (String pid : pids.output().split("\\s+")) {
                    if (!pid.isBlank()) {
                        ProcessHandle.of(Long.parseLong(pid.trim())).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            }
            Commands.quietly("ip", "netns", "del", h.namespace());
            if (Commands.exec(List.of("ip", "link", "show", h.hostIf()), Map.of(), Duration.ofSeconds(5)).code() == 0) {
                Commands.quietly("ip", "link", "del", h.hostIf());
            }
        }
        if (!daemons.isEmpty()) {
            Commands.quietly("ovs-vsctl", "--db=unix:" + run.resolve("db.sock"), "--timeout=5", "--if-exists",
                    "del-br", bridge);
        }
        for (int i = daemons.size() - 1; i >= 0; i--) {
            Process p = daemons.get(i);
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
