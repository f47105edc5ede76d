package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.proto.v1.FlowPolicy;
import io.slipstream.proto.v1.Peer;
import io.slipstream.proto.v1.PeerUnavailable;
import io.slipstream.proto.v1.ServiceChain;
import io.slipstream.proto.v1.Site;
import io.slipstream.proto.v1.SteeringEntry;
import io.slipstream.proto.v1.SteeringTable;
import io.slipstream.proto.v1.WorkerConfig;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cache+wanopt chain's second hop against stand-ins for the wanopt workers of the cache's site: what a cache
 * worker does when the wanopt worker its misses go through dies.
 */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheChainDeadHopIT {

    private static final Duration WAIT = Duration.ofSeconds(10);

    /**
     * A wanopt worker's steered listener, as far as the cache sees it: reads the PROXY v2 header, connects to its
     * destination and relays. {@link #kill()} makes it a killed process whose reset the cache has not read yet:
     * new connections are refused, and a connection the cache sends anything more on is reset.
     */
    private static final class Hop implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final ExecutorService threads = Executors.newCachedThreadPool();
        final AtomicInteger accepted = new AtomicInteger();
        final List<Socket> sockets = new java.util.concurrent.CopyOnWriteArrayList<>();
        volatile boolean dead;

        Hop() throws IOException {
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        accepted.incrementAndGet();
                        sockets.add(s);
                        threads.execute(() -> relay(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        String endpoint() {
            return "127.0.0.1:" + server.getLocalPort();
        }

        private void relay(Socket client) {
            try (client) {
                DataInputStream in = new DataInputStream(client.getInputStream());
                byte[] fixed = new byte[16];
                in.readFully(fixed);
                byte[] rest = new byte[((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff)];
                in.readFully(rest);
                if (fixed[13] != 0x11 || rest.length < 12) {
                    return; // TCP4 only
                }
                InetAddress dst = InetAddress.getByAddress(Arrays.copyOfRange(rest, 4, 8));
                int dstPort = ((rest[10] & 0xff) << 8) | (rest[11] & 0xff);
                try (Socket origin = new Socket(dst, dstPort)) {
                    sockets.add(origin);
                    threads.execute(() -> {
                        try {
                            origin.getInputStream().transferTo(client.getOutputStream());
                        } catch (IOException e) {
                            // either side gone
                        }
                    });
                    OutputStream toOrigin = origin.getOutputStream();
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        if (dead) {
                            client.setSoLinger(true, 0); // reset, as the kernel does for a killed process
                            return;
                        }
                        toOrigin.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                // the cache or the origin went away
            }
        }

        void kill() throws IOException {
            dead = true;
            server.close();
        }

        /** kill -9 as the cache sees it at once: new connections refused, every connection reset. */
        void killNow() throws IOException {
            kill();
            for (Socket s : sockets) {
                try {
                    s.setSoLinger(true, 0);
                } catch (IOException alreadyClosed) {
                    // nothing to reset
                }
                s.close();
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
            threads.shutdownNow();
        }
    }

    /**
     * An origin whose first response stops half-way through its body (until its connection goes); the others are
     * whole. Keep-alive, Content-Length, fresh for five minutes.
     */
    private static final class StallingOrigin implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final ExecutorService threads = Executors.newCachedThreadPool();
        final AtomicInteger requests = new AtomicInteger();
        final CountDownLatch halfSent = new CountDownLatch(1);
        final byte[] body = new byte[64 * 1024];

        StallingOrigin() throws IOException {
            new java.util.Random(7).nextBytes(body);
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        threads.execute(() -> serve(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (readHead(in)) {
                    byte[] head = ("HTTP/1.1 200 OK\r\nContent-Length: " + body.length
                            + "\r\nCache-Control: max-age=300\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
                    out.write(head);
                    if (requests.incrementAndGet() == 1) {
                        out.write(body, 0, body.length / 2);
                        out.flush();
                        halfSent.countDown();
                        in.transferTo(OutputStream.nullOutputStream()); // until the connection goes
                        return;
                    }
                    out.write(body);
                    out.flush();
                }
            } catch (IOException e) {
                // the hop went away
            }
        }

        /** Reads one request head; false at the end of the input. */
        private static boolean readHead(InputStream in) throws IOException {
            int matched = 0;
            int c;
            while ((c = in.read()) >= 0) {
                matched = c == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : c == '\r' ? 1 : 0;
                if (matched == 4) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void close() throws IOException {
            server.close();
            threads.shutdownNow();
        }
    }

    private TestOrigin origin;
    private StallingOrigin stalling;
    private CacheServer proxy;
    private final List<Hop> hops = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        for (Hop h : hops) {
            h.close();
        }
        if (origin != null) {
            origin.close();
        }
        if (stalling != null) {
            stalling.close();
        }
    }

    /** The configuration of a cache worker at site a: origins on loopback are at site b, reached via {@code hops}. */
    private static WorkerConfig chainConfig(PeerUnavailable peerUnavailable, Hop... hops) {
        SteeringEntry.Builder entry = SteeringEntry.newBuilder().setPolicy("web").setSite("a")
                .setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT);
        for (int i = 0; i < hops.length; i++) {
            entry.addMembers(Peer.newBuilder().setWorkerId("wan-a" + (i + 1)).setSite("a")
                    .setDataEndpoint(hops[i].endpoint()));
        }
        for (int b = 0; b < 4; b++) {
            entry.addOwners(0); // every origin's misses go through the first hop
        }
        return WorkerConfig.newBuilder().setSite("a")
                .addSites(Site.newBuilder().setName("a").addPrefixes("198.18.1.0/24"))
                .addSites(Site.newBuilder().setName("b").addPrefixes("127.0.0.0/8"))
                .addPolicies(FlowPolicy.newBuilder().setName("web").setIngressSite("a")
                        .setChain(ServiceChain.SERVICE_CHAIN_CACHE_WANOPT).addDstPrefixes("127.0.0.1/32")
                        .setPeerUnavailable(peerUnavailable))
                .setChain(SteeringTable.newBuilder().setBucketCount(4).addEntries(entry))
                .build();
    }

    private HttpRequest get(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.address().getPort() + path))
                .timeout(WAIT).build();
    }

    @Test
    void hopKilledWithIdleConnectionsPooled_aMissIsRetriedThroughTheNextHop_notOnTheDeadHopsConnections()
            throws Exception {
        origin = new TestOrigin();
        CountDownLatch together = new CountDownLatch(3);
        for (int n = 1; n <= 4; n++) {
            String body = "object " + n;
            origin.route("/o" + n, ex -> {
                together.countDown();
                together.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                return TestOrigin.Reply.ok(body, "Cache-Control", "max-age=300");
            });
        }
        Hop first = new Hop();
        Hop next = new Hop();
        hops.add(first);
        hops.add(next);
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(origin.url())).threads(1).preopen(0)
                .build()).start();
        proxy.chain(ChainRoutes.of(chainConfig(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, first, next)));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT)
                .build();

        // Three misses at once: three connections through the first hop, pooled idle afterwards.
        List<CompletableFuture<HttpResponse<String>>> misses = new ArrayList<>();
        for (int n = 1; n <= 3; n++) {
            misses.add(client.sendAsync(get("/o" + n), HttpResponse.BodyHandlers.ofString()));
        }
        for (int n = 1; n <= 3; n++) {
            HttpResponse<String> r = misses.get(n - 1).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("object " + n);
        }
        assertThat(first.accepted.get()).as("connections through the first hop").isEqualTo(3);
        assertThat(proxy.chainFetches()).isEqualTo(3);

        // The first hop dies; its pooled connections look open until the cache writes on one.
        first.kill();
        HttpResponse<String> r = client.send(get("/o4"), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).as("miss after the hop died: %s", r.body()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("object 4");
        assertThat(next.accepted.get()).as("connections through the next hop").isEqualTo(1);
        assertThat(origin.count("/o4")).isEqualTo(1);
    }

    @Test
    void hopKilledMidBody_beforeTheClientHadAnything_theMissIsFetchedAgainThroughTheNextHop() throws Exception {
        stalling = new StallingOrigin();
        Hop first = new Hop();
        Hop next = new Hop();
        hops.add(first);
        hops.add(next);
        proxy = new CacheServer(CacheProxySettings.builder().origin(URI.create(stalling.url())).threads(1).preopen(0)
                .build()).start();
        proxy.chain(ChainRoutes.of(chainConfig(PeerUnavailable.PEER_UNAVAILABLE_FAIL_FAST, first, next)));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(WAIT)
                .build();

        CompletableFuture<HttpResponse<byte[]>> miss = client.sendAsync(get("/big"),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(stalling.halfSent.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        // The head and half the body are in the cache (accumulating: a storable object goes to the client whole).
        org.awaitility.Awaitility.await().atMost(WAIT).until(() -> proxy.chainOriginBytes() > 0);
        first.killNow();
        HttpResponse<byte[]> r = miss.get(WAIT.toSeconds(), TimeUnit.SECONDS);

        assertThat(r.statusCode()).as("miss whose hop died mid-body: %s", new String(r.body())).isEqualTo(200);
        assertThat(r.body()).isEqualTo(stalling.body);
        assertThat(next.accepted.get()).as("connections through the next hop").isEqualTo(1);
        assertThat(stalling.requests.get()).as("requests at the origin").isEqualTo(2);
    }
}
