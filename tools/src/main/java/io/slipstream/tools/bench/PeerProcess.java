package io.slipstream.tools.bench;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A benchmark peer (varnishd, haproxy) run as a child process that logs to a file. */
public final class PeerProcess implements AutoCloseable {

    private final Process process;

    private PeerProcess(Process process) {
        this.process = process;
    }

    /**
     * Starts {@code command} with its output in {@code log} and returns once it listens on 127.0.0.1:{@code port}.
     *
     * @throws IllegalStateException with the log when it exits, or when it does not listen within 15 s
     */
    static PeerProcess start(String name, List<String> command, Path log, int port) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PeerProcess peer = new PeerProcess(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            if (!p.isAlive()) {
                throw new IllegalStateException(name + " exited (" + p.exitValue() + "):\n" + Files.readString(log));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return peer;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    peer.close();
                    throw new IllegalStateException(name + " did not listen on " + port + " within 15 s");
                }
                new CountDownLatch(1).await(100, TimeUnit.MILLISECONDS);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
