package io.slipstream.contract.steering;

import io.slipstream.contract.RendezvousHash;
import io.slipstream.proto.v1.Peer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Pairs a wanopt worker with peers at a far site: the far-site workers ranked by their weighted
 * rendezvous score for the near worker's id. Each near worker prefers one far worker (so one chunk
 * store pair stays warm), near workers spread over far workers in proportion to weight, and the
 * ranking gives the fallback order when the preferred peer is down.
 */
public final class PeerPairing {

    private PeerPairing() {
    }

    /** {@code candidates} at {@code site}, best first for {@code workerId}. */
    public static List<Peer> ranked(String workerId, String site, List<Peer> candidates) {
        List<Peer> atSite = new ArrayList<>();
        for (Peer p : candidates) {
            if (p.getSite().equals(site)) {
                atSite.add(p);
            }
        }
        atSite.sort(Comparator.<Peer>comparingDouble(
                        p -> -RendezvousHash.score(p.getWorkerId(), "pair/" + workerId, (int) Math.min(Integer.MAX_VALUE, p.getWeight())))
                .thenComparing(Peer::getWorkerId));
        return atSite;
    }
}
