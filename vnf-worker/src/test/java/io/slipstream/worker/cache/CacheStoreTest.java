package io.slipstream.worker.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.slipstream.worker.cache.policy.CacheKey;
import io.slipstream.worker.cache.policy.RequestHead;
import io.slipstream.worker.cache.policy.ResponseHead;
import io.slipstream.worker.cache.policy.StoredResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Buffer ownership of the store: every entry is released exactly once, whatever removes it. */
@org.junit.jupiter.api.extension.ExtendWith(NettyLeakCheck.class)
class CacheStoreTest {

    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    private static CachedResponse entry(String uri, int bodyBytes, Map<String, String> secondary, String... tags) {
        StoredResponse stored = StoredResponse.of(RequestHead.get(uri),
                ResponseHead.of(200, "Cache-Control", "max-age=60", "Age", "3"), T, T);
        ByteBuf body = PooledByteBufAllocator.DEFAULT.directBuffer(bodyBytes).writeZero(bodyBytes);
        return CachedResponse.encode(PooledByteBufAllocator.DEFAULT, stored, secondary, Set.of(tags), body);
    }

    @Test
    void encode_head_hasStatusHeadersAndLengthButNoAgeNorBlankLine() {
        CachedResponse e = entry("http://h/a", 5, Map.of());
        String head = e.head().toString(StandardCharsets.ISO_8859_1);
        assertThat(head).startsWith("HTTP/1.1 200 OK\r\n").contains("Cache-Control: max-age=60\r\n")
                .contains("Content-Length: 5\r\n").doesNotContain("Age:").endsWith("\r\n").doesNotEndWith("\r\n\r\n");
        e.release();
        assertThat(e.head().refCnt()).isZero();
        assertThat(e.body().refCnt()).isZero();
    }

    @Test
    void put_thenRemove_releasesBuffersOnceBothHoldersAreDone() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse e = entry("http://h/a", 100, Map.of());
        CacheKey key = CacheKey.of(e.stored().request());
        store.put(key, e);
        assertThat(e.refCnt()).isEqualTo(2);
        e.release();
        assertThat(store.variants(key)).containsExactly(e);
        store.remove(key);
        assertThat(e.refCnt()).isZero();
        assertThat(e.body().refCnt()).isZero();
        assertThat(e.tryRetain()).isFalse();
    }

    @Test
    void put_sameSecondaryKey_replacesAndReleasesTheOldVariant() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse gzip = entry("http://h/v", 10, Map.of("accept-encoding", "gzip"));
        CachedResponse br = entry("http://h/v", 10, Map.of("accept-encoding", "br"));
        CachedResponse gzip2 = entry("http://h/v", 10, Map.of("accept-encoding", "gzip"));
        CacheKey key = CacheKey.of(gzip.stored().request());
        store.put(key, gzip);
        store.put(key, br);
        store.put(key, gzip2);
        gzip.release();
        br.release();
        gzip2.release();
        assertThat(store.variants(key)).containsExactlyInAnyOrder(br, gzip2);
        assertThat(gzip.refCnt()).isZero();
        assertThat(br.refCnt()).isEqualTo(1);
        store.close();
        assertThat(br.refCnt()).isZero();
        assertThat(gzip2.refCnt()).isZero();
    }

    @Test
    void put_overBudget_evictsAndReleases() {
        CacheStore store = new CacheStore(64 * 1024, 16 * 1024);
        CachedResponse[] all = new CachedResponse[40];
        for (int i = 0; i < all.length; i++) {
            all[i] = entry("http://h/" + i, 8 * 1024, Map.of());
            store.put(CacheKey.of(all[i].stored().request()), all[i]);
            all[i].release();
        }
        assertThat(store.weightedSize()).isLessThanOrEqualTo(64 * 1024);
        long live = java.util.Arrays.stream(all).filter(e -> e.refCnt() > 0).count();
        assertThat(live).isEqualTo(store.entryCount()).isLessThan(all.length);
        store.close();
        assertThat(all).allSatisfy(e -> assertThat(e.body().refCnt()).isZero());
    }

    @Test
    void hitInProgress_survivesEviction_untilItsReferenceIsReleased() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse e = entry("http://h/a", 100, Map.of());
        CacheKey key = CacheKey.of(e.stored().request());
        store.put(key, e);
        e.release();
        CachedResponse found = store.variants(key).get(0);
        assertThat(found.tryRetain()).isTrue();
        ByteBuf inFlight = found.body().retainedDuplicate();
        store.remove(key);
        assertThat(found.refCnt()).isEqualTo(1);
        found.release();
        assertThat(inFlight.refCnt()).isEqualTo(1);
        inFlight.release();
        assertThat(found.body().refCnt()).isZero();
    }

    @Test
    void freshen_sharesTheBody_andReplaceReleasesTheOldHead() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse old = entry("http://h/a", 100, Map.of());
        CacheKey key = CacheKey.of(old.stored().request());
        store.put(key, old);
        CachedResponse fresh = old.freshen(PooledByteBufAllocator.DEFAULT, StoredResponse.of(old.stored().request(),
                ResponseHead.of(200, "Cache-Control", "max-age=120"), T, T));
        store.replace(key, old, fresh);
        old.release();
        fresh.release();
        assertThat(old.refCnt()).isZero();
        assertThat(old.head().refCnt()).isZero();
        assertThat(store.variants(key)).containsExactly(fresh);
        assertThat(fresh.head().toString(StandardCharsets.ISO_8859_1)).contains("max-age=120");
        store.close();
        assertThat(fresh.body().refCnt()).isZero();
    }

    @Test
    void purgeTag_hard_removesOnlyTaggedVariants_soft_marksThem() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse a = entry("http://h/a", 10, Map.of(), "news");
        CachedResponse b = entry("http://h/b", 10, Map.of(), "sport");
        store.put(CacheKey.of(a.stored().request()), a);
        store.put(CacheKey.of(b.stored().request()), b);
        a.release();
        b.release();
        assertThat(store.purgeTag("sport", true)).isEqualTo(1);
        assertThat(b.softPurged()).isTrue();
        assertThat(store.purgeTag("news", false)).isEqualTo(1);
        assertThat(a.refCnt()).isZero();
        assertThat(store.purgeTag("news", false)).isZero();
        store.close();
    }

    @Test
    void purgePrefix_soft_marksOnlyKeysUnderIt_hard_removesAndReleasesThem() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        CachedResponse a = entry("http://h/img/a", 10, Map.of());
        CachedResponse b = entry("http://h/img/b", 10, Map.of());
        CachedResponse c = entry("http://h/index", 10, Map.of());
        for (CachedResponse e : List.of(a, b, c)) {
            store.put(CacheKey.of(e.stored().request()), e);
            e.release();
        }
        assertThat(store.purgePrefix("http://h/img/", true)).isEqualTo(2);
        assertThat(a.softPurged()).isTrue();
        assertThat(c.softPurged()).isFalse();
        assertThat(store.purgePrefix("http://h/img/", false)).isEqualTo(2);
        assertThat(a.refCnt()).isZero();
        assertThat(b.refCnt()).isZero();
        assertThat(store.variants(CacheKey.of(c.stored().request()))).containsExactly(c);
        assertThat(store.purgePrefix("http://other/", false)).isZero();
        store.close();
    }

    // ------------------------------------------------------------------------------------ partial objects

    private static final RequestHead PART_REQUEST = RequestHead.get("http://h/p");
    private static final CacheKey PART_KEY = CacheKey.of(PART_REQUEST);

    /** Adds bytes first..last of a {@code total}-byte object with ETag {@code etag}; the content is consumed. */
    private static CacheStore.PartOutcome addPart(CacheStore store, long first, long last, long total, String etag) {
        return addPart(store, first, last, total, etag, "");
    }

    /** As above, the part tagged {@code surrogateKey} (Surrogate-Key; empty: none). */
    private static CacheStore.PartOutcome addPart(CacheStore store, long first, long last, long total, String etag,
                                                  String surrogateKey) {
        ResponseHead head = ResponseHead.of(206, "ETag", etag, "Cache-Control", "max-age=60", "Content-Range",
                "bytes " + first + "-" + last + "/" + total, "Content-Length", String.valueOf(last - first + 1),
                "Surrogate-Key", surrogateKey);
        io.slipstream.worker.cache.policy.PartialContent.Part part =
                io.slipstream.worker.cache.policy.PartialContent.of206(head, last - first + 1);
        assertThat(part.ok()).isTrue();
        ByteBuf content = PooledByteBufAllocator.DEFAULT.directBuffer((int) (last - first + 1));
        for (long i = first; i <= last; i++) {
            content.writeByte((int) (i % 251));
        }
        return store.addPart(PART_KEY, part, head, PART_REQUEST, T, T, content);
    }

    @Test
    void addPart_weighedInTheBudget_andReleasedWhenEvicted() {
        CacheStore store = new CacheStore(64 * 1024, 32 * 1024);
        assertThat(addPart(store, 0, 9999, 100_000, "\"a\"")).isEqualTo(CacheStore.PartOutcome.STORED);
        assertThat(addPart(store, 5000, 19_999, 100_000, "\"a\"")).isEqualTo(CacheStore.PartOutcome.COMBINED);
        PartialObject p = store.partial(PART_KEY);
        assertThat(p.bytes()).as("the overlap is held once").isEqualTo(20_000);
        assertThat(store.weightedSize()).isEqualTo(20_000 + CacheStore.ENTRY_OVERHEAD);
        assertThat(store.variants(PART_KEY)).as("parts are not a complete variant").isEmpty();
        assertThat(addPart(store, 20_000, 39_999, 100_000, "\"a\"")).as("more than max_object_bytes held")
                .isEqualTo(CacheStore.PartOutcome.TOO_LARGE);
        assertThat(p.tryRetain()).isTrue();
        store.resize(16 * 1024, 16 * 1024);
        assertThat(store.weightedSize()).isZero();
        assertThat(store.partial(PART_KEY)).as("evicted like the rest").isNull();
        p.release();
        assertThat(p.tryRetain()).as("its segments are released").isFalse();
        store.close();
    }

    @Test
    void addPart_otherEtagReplaces_otherTotalDropsAll_completePromotes() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        addPart(store, 0, 99, 300, "\"a\"");
        assertThat(addPart(store, 100, 199, 300, "\"b\"")).isEqualTo(CacheStore.PartOutcome.STORED);
        assertThat(store.partial(PART_KEY).held().ranges())
                .containsExactly(new io.slipstream.worker.cache.policy.ByteRanges.Range(100, 199));
        assertThat(addPart(store, 0, 99, 999, "\"b\"")).isEqualTo(CacheStore.PartOutcome.DROPPED);
        assertThat(store.partial(PART_KEY)).isNull();

        addPart(store, 200, 299, 300, "\"b\"");
        addPart(store, 0, 149, 300, "\"b\"");
        assertThat(addPart(store, 100, 249, 300, "\"b\"")).isEqualTo(CacheStore.PartOutcome.PROMOTED);
        assertThat(store.partial(PART_KEY)).isNull();
        CachedResponse whole = store.variants(PART_KEY).get(0);
        assertThat(whole.stored().response().status()).isEqualTo(200);
        assertThat(whole.stored().response().headers().get("Content-Range")).isNull();
        for (int i = 0; i < 300; i++) {
            assertThat(whole.body().getByte(whole.body().readerIndex() + i)).isEqualTo((byte) (i % 251));
        }
        assertThat(addPart(store, 0, 9, 300, "\"b\"")).isEqualTo(CacheStore.PartOutcome.COMPLETE_HELD);
        store.close();
    }

    @Test
    void softPurge_partialObject_isRemoved() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        addPart(store, 0, 99, 300, "\"a\"");
        PartialObject p = store.partial(PART_KEY);
        assertThat(store.softPurge(PART_KEY)).isEqualTo(1);
        assertThat(store.partial(PART_KEY)).isNull();
        assertThat(p.tryRetain()).isFalse();
        store.close();
    }

    @Test
    void purgeTag_partialObjectWithOtherTags_staysAndItsOwnTagRemovesIt() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        addPart(store, 0, 99, 300, "\"a\"", "old");
        assertThat(addPart(store, 100, 199, 300, "\"b\"", "new")).isEqualTo(CacheStore.PartOutcome.STORED);
        assertThat(store.purgeTag("old", false)).as("the parts tagged old were replaced already").isZero();
        assertThat(store.partial(PART_KEY)).as("the parts of \"b\" are not tagged old").isNotNull();
        assertThat(store.purgeTag("new", false)).isEqualTo(1);
        assertThat(store.partial(PART_KEY)).isNull();
        store.close();
    }

    @Test
    void purgePrefix_partialObject_isRemovedAndCounted() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        addPart(store, 0, 99, 300, "\"a\"");
        assertThat(store.purgePrefix("http://h/", false)).isEqualTo(1);
        assertThat(store.partial(PART_KEY)).isNull();
        store.close();
    }

    @Test
    void dropPartialUnless_sameValidatorKeeps_otherOrNoneDrops() {
        CacheStore store = new CacheStore(1 << 20, 1 << 16);
        addPart(store, 0, 99, 300, "\"a\"");
        assertThat(store.dropPartialUnless(PART_KEY, "ETag \"a\"")).isZero();
        assertThat(store.partial(PART_KEY)).isNotNull();
        assertThat(store.dropPartialUnless(PART_KEY, "ETag \"b\"")).isEqualTo(1);
        assertThat(store.partial(PART_KEY)).isNull();
        addPart(store, 0, 99, 300, "\"a\"");
        assertThat(store.dropPartialUnless(PART_KEY, null)).as("no strong validator: nothing to match").isEqualTo(1);
        assertThat(store.partial(PART_KEY)).isNull();
        assertThat(store.dropPartialUnless(PART_KEY, null)).isZero();
        store.close();
    }
}
