package io.slipstream.worker.cache;

import io.slipstream.contract.RendezvousHash;
import io.slipstream.proto.v1.Peer;
import java.util.List;

/**
 * Which cache worker owns a cache key: weighted rendezvous hashing of the key over the shard members
 * (id = worker id, weight = the member's weight). One code path for the cache workers (which fetch from
 * the owner) and the gateway (which routes a request to the owner in the first place).
 */
public final class CacheShards {

    private CacheShards() {
    }

    /**
     * The owner of {@code cacheKey} (a {@link io.slipstream.worker.cache.policy.CacheKey#value()}).
     *
     * @throws IllegalArgumentException if {@code members} is empty
     */
    public static Peer owner(String cacheKey, List<Peer> members) {
        return RendezvousHash.owner(cacheKey, members, Peer::getWorkerId, Peer::getWeight);
    }
}
