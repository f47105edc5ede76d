package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Who may purge, what a PURGE asks, and what it does to the store. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class PurgeRequestTest {

    private static final Refusal WRONG = new Refusal(403, "wrong admin token", false);

    @Test
    void authorize_noTokenConfigured_isDisabledWhateverIsGiven() {
        Refusal disabled = new Refusal(403, "purge is disabled: no admin token configured", false);
        assertThat(PurgeRequest.authorize(null, null)).isEqualTo(disabled);
        assertThat(PurgeRequest.authorize(null, "anything")).isEqualTo(disabled);
    }

    @Test
    void authorize_noTokenGiven_is401NamingTheHeader() {
        assertThat(PurgeRequest.authorize("secret", null))
                .isEqualTo(new Refusal(401, "purge needs X-Slipstream-Admin-Token", false));
    }

    @Test
    void authorize_wrongToken_is403WhateverItsLength() {
        assertThat(PurgeRequest.authorize("secret", "secreT")).isEqualTo(WRONG);
        assertThat(PurgeRequest.authorize("secret", "secret2")).isEqualTo(WRONG);
        assertThat(PurgeRequest.authorize("secret", "secre")).isEqualTo(WRONG);
        assertThat(PurgeRequest.authorize("secret", "")).isEqualTo(WRONG);
        assertThat(PurgeRequest.authorize("secret", " secret")).isEqualTo(WRONG);
        assertThat(PurgeRequest.authorize("s\u00e9cret", "s\u00e8cret")).isEqualTo(WRONG);
    }

    @Test
    void authorize_rightToken_passes() {
        assertThat(PurgeRequest.authorize("secret", "secret")).isNull();
        assertThat(PurgeRequest.authorize("s\u00e9cret", "s\u00e9cret")).isNull();
    }

    @Test
    void of_softHeader_oneOrTrueInAnyCaseIsSoft() {
        for (String v : List.of("1", "true", "TRUE", " True ")) {
            assertThat(PurgeRequest.of(v, null).soft()).as(v).isTrue();
        }
        for (String v : List.of("0", "false", "yes", "", "11")) {
            assertThat(PurgeRequest.of(v, null).soft()).as(v).isFalse();
        }
        assertThat(PurgeRequest.of(null, null)).isEqualTo(new PurgeRequest(false, null));
    }

    @Test
    void of_surrogateKeys_whitespaceSeparatedTagsOrNoneWhenBlank() {
        assertThat(PurgeRequest.of(null, " a  b\tc ").tags()).containsExactly("a", "b", "c");
        assertThat(PurgeRequest.of(null, "   ").tags()).isEmpty();
        assertThat(PurgeRequest.of(null, null).tags()).isNull();
    }

    @Test
    void answer_isTheJsonCountAndMode() {
        assertThat(PurgeRequest.of("1", null).answer(3)).isEqualTo("{\"purged\":3,\"soft\":true}\n");
        assertThat(PurgeRequest.of(null, null).answer(0)).isEqualTo("{\"purged\":0,\"soft\":false}\n");
    }

    private static CachedResponse entry(String uri, String... tags) {
        StoredResponse stored = StoredResponse.of(RequestHead.get(uri),
                ResponseHead.of(200, "Cache-Control", "max-age=60"), Instant.EPOCH, Instant.EPOCH);
        ByteBuf body = PooledByteBufAllocator.DEFAULT.directBuffer(4).writeZero(4);
        return CachedResponse.encode(PooledByteBufAllocator.DEFAULT, stored, Map.of(), Set.of(tags), body);
    }

    @Test
    void apply_byUrlHardSoftAndByTags_purgesWhatItAsks() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse a = entry("http://h/a", "news");
        CachedResponse b = entry("http://h/b", "news", "sport");
        CacheKey ka = CacheKey.of(a.stored().request());
        CacheKey kb = CacheKey.of(b.stored().request());
        store.put(ka, a);
        store.put(kb, b);
        a.release();
        b.release();

        assertThat(PurgeRequest.of("1", null).apply(store, ka)).isEqualTo(1);
        assertThat(a.softPurged()).isTrue();
        assertThat(PurgeRequest.of(null, "sport nothing").apply(store, ka)).isEqualTo(1);
        assertThat(store.variants(kb)).isEmpty();
        assertThat(PurgeRequest.of(null, "  ").apply(store, ka)).isZero();
        assertThat(store.variants(ka)).hasSize(1);
        assertThat(PurgeRequest.of(null, null).apply(store, ka)).isEqualTo(1);
        assertThat(store.variants(ka)).isEmpty();
        assertThat(PurgeRequest.of(null, null).apply(store, ka)).isZero();
    }
}
