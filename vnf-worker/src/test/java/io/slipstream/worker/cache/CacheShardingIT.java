package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.contract.RendezvousHash;
import io.slipstream.proto.v1.CacheSettings;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.cache.policy.CacheKey;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Two cache workers sharing the key space: a key is fetched from its owner and stored only there. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheShardingIT {

    private TestOrigin origin;
    private CacheServer a;
    private CacheServer b;
    private List<Peer> members;

    @BeforeEach
    void start() throws Exception {
        origin = new TestOrigin();
        a = new CacheServer(CacheProxySettings.builder().workerId("cache-a").origin(URI.create(origin.url()))
                .threads(1).build()).start();
        b = new CacheServer(CacheProxySettings.builder().workerId("cache-b").origin(URI.create(origin.url()))
                .threads(1).build()).start();
        members = List.of(
                Peer.newBuilder().setWorkerId("cache-a").setSite("x").setDataEndpoint("127.0.0.1:" + a.address().getPort()).build(),
                Peer.newBuilder().setWorkerId("cache-b").setSite("x").setDataEndpoint("127.0.0.1:" + b.address().getPort()).build());
        CacheSettings config = CacheSettings.newBuilder().addAllShardMembers(members).build();
        a.apply(config);
        b.apply(config);
    }

    @AfterEach
    void stop() {
        a.close();
        b.close();
        origin.close();
    }

    /** GET with {@code Host: site} (a name, as a real client of the site would send) and the body read. */
    private String get(CacheServer via, String path) throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", via.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: site\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            String response = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            assertThat(response).startsWith("HTTP/1.1 200 ");
            return response.substring(response.indexOf("\r\n\r\n") + 4);
        }
    }

    /** A path whose key (as the proxy sees it: Host "site") is owned by {@code owner}. */
    private String pathOwnedBy(String owner) {
        for (int i = 0; ; i++) {
            String path = "/obj" + i;
            String key = CacheKey.of(URI.create("http://site" + path)).value();
            if (RendezvousHash.owner(key, members, Peer::getWorkerId, Peer::getWeight).getWorkerId().equals(owner)) {
                return path;
            }
        }
    }

    @Test
    void get_keyOwnedByOtherMember_isFetchedFromItAndStoredOnlyThere() throws Exception {
        String path = pathOwnedBy("cache-b");
        origin.route(path, ex -> TestOrigin.Reply.ok("owned by b", "Cache-Control", "max-age=60"));

        assertThat(get(a, path)).isEqualTo("owned by b");
        assertThat(get(a, path)).isEqualTo("owned by b");
        assertThat(get(b, path)).isEqualTo("owned by b");

        assertThat(origin.count(path)).isEqualTo(1);
        assertThat(a.peerFetches()).isEqualTo(2);
        assertThat(b.hits()).isEqualTo(2);
        // Fleet-wide each client request counts once, at the owner; asking the owner is not origin traffic.
        assertThat(a.hits() + a.misses()).isZero();
        assertThat(a.originRequests()).isZero();
        assertThat(a.originBytes()).isZero();
        assertThat(b.hits() + b.misses()).isEqualTo(3);
        assertThat(b.originRequests()).isEqualTo(1);
        assertThat(a.context().store.entryCount()).isZero();
        assertThat(b.context().store.entryCount()).isEqualTo(1);
    }

    @Test
    void get_keyOwnedHere_isStoredHere() throws Exception {
        String path = pathOwnedBy("cache-a");
        origin.route(path, ex -> TestOrigin.Reply.ok("owned by a", "Cache-Control", "max-age=60"));
        assertThat(get(a, path)).isEqualTo("owned by a");
        assertThat(get(a, path)).isEqualTo("owned by a");
        assertThat(a.peerFetches()).isZero();
        assertThat(origin.count(path)).isEqualTo(1);
        assertThat(a.context().store.entryCount()).isEqualTo(1);
    }

    @Test
    void get_ownerDown_fallsBackToTheOrigin() throws Exception {
        String path = pathOwnedBy("cache-b");
        origin.route(path, ex -> TestOrigin.Reply.ok("from origin", "Cache-Control", "max-age=60"));
        b.close();
        assertThat(get(a, path)).isEqualTo("from origin");
        assertThat(origin.count(path)).isEqualTo(1);
        assertThat(a.originRequests()).as("the fallback to the origin is origin traffic").isEqualTo(1);
        b = new CacheServer(CacheProxySettings.builder().workerId("cache-b").threads(1).build()).start();
    }
}
