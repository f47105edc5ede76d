package io.slipstream.worker.cache;

import io.slipstream.worker.cache.policy.CacheKey;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;

/**
 * A {@code PURGE}: who may send one ({@link #authorize}, the admin token compared in constant time), what
 * it asks ({@link #of}: soft or hard, by URL or by the {@code Surrogate-Key} tags) and its effect on the
 * store ({@link #apply}). Everything but {@code apply} is pure.
 *
 * @param soft marks entries stale (they are revalidated before reuse) instead of removing them
 * @param tags the surrogate keys to purge, or null to purge the request's URL
 */
record PurgeRequest(boolean soft, List<String> tags) {

    static final String SOFT_PURGE_HEADER = "X-Slipstream-Soft-Purge";

    /**
     * Whether a PURGE presenting {@code given} (the {@link CacheProxySettings#ADMIN_TOKEN_HEADER} value, or
     * null) may run where the admin token is {@code configured} (null: purge disabled): null when it may,
     * else the answer (403 disabled, 401 no token, 403 wrong token), keeping the connection open.
     */
    static Refusal authorize(String configured, String given) {
        if (configured == null) {
            return new Refusal(403, "purge is disabled: no admin token configured", false);
        }
        if (given == null) {
            return new Refusal(401, "purge needs " + CacheProxySettings.ADMIN_TOKEN_HEADER, false);
        }
        if (!MessageDigest.isEqual(configured.getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8))) {
            return new Refusal(403, "wrong admin token", false);
        }
        return null;
    }

    /**
     * What a PURGE asks, from its {@link #SOFT_PURGE_HEADER} value ({@code 1} or {@code true}, any case,
     * mean soft; null or anything else hard) and its {@code Surrogate-Key} line (whitespace-separated tags;
     * null purges the URL).
     */
    static PurgeRequest of(String softValue, String surrogateKeys) {
        String s = (softValue == null ? "0" : softValue).strip().toLowerCase(Locale.ROOT);
        boolean soft = s.equals("1") || s.equals("true");
        if (surrogateKeys == null) {
            return new PurgeRequest(soft, null);
        }
        List<String> tags = new java.util.ArrayList<>();
        for (String tag : surrogateKeys.strip().split("\\s+")) {
            if (!tag.isEmpty()) {
                tags.add(tag);
            }
        }
        return new PurgeRequest(soft, List.copyOf(tags));
    }

    /** Purges from {@code store} what this asks ({@code key}: the request's URL); the number of entries purged. */
    int apply(CacheStore store, CacheKey key) {
        int n = 0;
        if (tags != null) {
            for (String tag : tags) {
                n += store.purgeTag(tag, soft);
            }
        } else if (soft) {
            n = store.softPurge(key);
        } else {
            n = store.variants(key).size();
            store.remove(key);
        }
        return n;
    }

    /** The JSON body of the answer: {@code {"purged":n,"soft":b}}. */
    String answer(int purged) {
        return "{\"purged\":" + purged + ",\"soft\":" + soft + "}\n";
    }
}
