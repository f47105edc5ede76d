package io.slipstream.worker.wanopt;

import io.netty.channel.EventLoop;
import io.slipstream.common.HostPort;
import io.slipstream.contract.steering.PeerPairing;
import io.slipstream.proto.v1.Peer;
import io.slipstream.worker.wanopt.tunnel.TunnelConnection;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The links to this worker's peers ({@link PeerLink}, one per peer), replaced as the configuration changes, and
 * the choice of a ready tunnel connection to a site for a new flow.
 */
final class PeerLinks implements Closeable {

    private final String workerId;
    private final Function<Peer, PeerLink> open;
    private final Consumer<String> onPeerGone;
    private final Map<String, PeerLink> links = new ConcurrentHashMap<>();
    private volatile List<Peer> peers = List.of();

    /**
     * @param workerId this worker (the peer ranking pairs it with far workers)
     * @param open makes and starts the link to a peer
     * @param onPeerGone told the worker id of a peer that left the configuration
     */
    PeerLinks(String workerId, Function<Peer, PeerLink> open, Consumer<String> onPeerGone) {
        this.workerId = workerId;
        this.open = open;
        this.onPeerGone = onPeerGone;
    }

    /** Replaces the set of peers (from the controller's configuration); keeps links that stay. */
    synchronized void replace(List<Peer> peers) {
        this.peers = List.copyOf(peers);
        Map<String, Peer> wanted = new HashMap<>();
        for (Peer p : peers) {
            wanted.put(p.getWorkerId(), p);
        }
        for (String id : new ArrayList<>(links.keySet())) {
            Peer p = wanted.get(id);
            if (p == null || !HostPort.parse(p.getDataEndpoint()).equals(links.get(id).endpoint())) {
                links.remove(id).close();
                if (p == null) {
                    onPeerGone.accept(id);
                }
            }
        }
        for (Peer p : peers) {
            links.computeIfAbsent(p.getWorkerId(), id -> open.apply(p));
        }
    }

    /**
     * A ready connection to the preferred peer at {@code site} ({@link PeerPairing#ranked}: one far worker per
     * near worker, so their chunk stores stay warm), else to the next in that ranking; preferably on {@code loop}.
     * {@code null} when no peer at {@code site} has a ready connection.
     */
    TunnelConnection connectionTo(String site, EventLoop loop) {
        for (Peer peer : PeerPairing.ranked(workerId, site, peers)) {
            PeerLink link = links.get(peer.getWorkerId());
            TunnelConnection c = link == null ? null : link.connectionFor(loop);
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    /** Ready tunnel connections to {@code peerId}. */
    int readyConnections(String peerId) {
        PeerLink link = links.get(peerId);
        return link == null ? 0 : link.readyConnections();
    }

    @Override
    public void close() {
        for (PeerLink link : links.values()) {
            link.close();
        }
        links.clear();
    }
}
