package io.slipstream.controller.fleet;

import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.LoadReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fleet events derived from consecutive load reports of one worker's compression providers:
 * <ul>
 *   <li>{@code compression_unavailable} when a hardware provider goes from available to unavailable
 *       (with the worker's reason), {@code compression_available} when it comes back;</li>
 *   <li>{@code compression_fallback} when a hardware provider's fallback count grows: at once for
 *       the first growth, then at most once per quiet period (a lost card makes every block fall back,
 *       one report a second, and the history must not fill with them), saying how many blocks fell
 *       back since the last event.</li>
 * </ul>
 * Pure and single-threaded like {@link FleetDirectory}, which calls it; time is passed in.
 */
public final class CompressionEvents {

    /** An event to record: kind and detail. */
    public static final class Derived {
        public final String kind;
        public final String detail;

        Derived(String kind, String detail) {
            this.kind = kind;
            this.detail = detail;
        }

        @Override
        public String toString() {
            return kind + " (" + detail + ")";
        }
    }

    private static final class Reported {
        long fallbacks;
        Instant at;
    }

    private final Duration quietPeriod;
    private final Map<String, Reported> reported = new HashMap<>();

    public CompressionEvents(Duration quietPeriod) {
        if (quietPeriod.isNegative()) {
            throw new IllegalArgumentException("quietPeriod: " + quietPeriod + " (expected: >= 0)");
        }
        this.quietPeriod = quietPeriod;
    }

    /** The events between {@code previous} and {@code current} reports of worker {@code id}, at {@code now}. */
    public List<Derived> derive(String id, LoadReport previous, LoadReport current, Instant now) {
        List<Derived> out = new ArrayList<>();
        Map<String, CompressionProviderState> before = new HashMap<>();
        for (CompressionProviderState p : previous.getCompressionList()) {
            before.put(p.getName(), p);
        }
        for (CompressionProviderState p : current.getCompressionList()) {
            if (!p.getHardware()) {
                continue;
            }
            CompressionProviderState was = before.get(p.getName());
            boolean wasAvailable = was == null || was.getAvailable();
            if (wasAvailable && !p.getAvailable()) {
                out.add(new Derived("compression_unavailable", "hardware provider " + p.getName() + " unavailable"
                        + (p.getReason().isEmpty() ? "" : ": " + p.getReason())));
            } else if (!wasAvailable && p.getAvailable()) {
                out.add(new Derived("compression_available", "hardware provider " + p.getName() + " available again"));
            }
            Reported r = reported.computeIfAbsent(id + '/' + p.getName(), k -> new Reported());
            if (p.getFallbacks() < r.fallbacks) {
                // The worker restarted: its counts start again from zero.
                r.fallbacks = 0;
                r.at = null;
            }
            long grown = p.getFallbacks() - r.fallbacks;
            if (grown > 0 && (r.at == null || !now.isBefore(r.at.plus(quietPeriod)))) {
                out.add(new Derived("compression_fallback", grown + " block" + (grown == 1 ? "" : "s") + " moved from "
                        + p.getName() + " to software" + (r.at == null ? "" : " since the last event") + " ("
                        + p.getFallbacks() + " since start)"));
                r.fallbacks = p.getFallbacks();
                r.at = now;
            }
        }
        return out;
    }

    /** Forgets a worker that left the fleet. */
    public void forget(String id) {
        reported.keySet().removeIf(k -> k.startsWith(id + '/'));
    }
}
