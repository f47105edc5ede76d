package io.slipstream.worker.compression.emulator;

import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A fault plan for the card emulator, written as comma-separated {@code key:value} items (the system
 * property {@value #PROPERTY}):
 * <ul>
 *   <li>{@code lose-device-at:N} — the device is lost when request N (1-based) starts and stays lost;</li>
 *   <li>{@code fail-probability:P} — each request fails with an engine error with probability P (0..1);</li>
 *   <li>{@code corrupt-probability:P} — each request returns a corrupted block with probability P (0..1);</li>
 *   <li>{@code seed:S} — seed of the probability draws (default 1).</li>
 * </ul>
 * Example: {@code lose-device-at:400,corrupt-probability:0.01,seed:7}. An empty spec means no faults.
 *
 * @param loseDeviceAt request at which the device is lost, 0 for never
 * @param failProbability probability that a request fails
 * @param corruptProbability probability that a request returns a corrupted block
 * @param seed seed of the probability draws
 */
public record CardEmulatorFaults(long loseDeviceAt, double failProbability, double corruptProbability, long seed) {

    /** System property holding the fault spec of the card that {@code slipstream.compression.emulator=true} adds. */
    public static final String PROPERTY = "slipstream.compression.emulator.faults";

    public static final CardEmulatorFaults NONE = new CardEmulatorFaults(0, 0, 0, 1);

    private static final String EXPECTED_KEYS = "lose-device-at:N, fail-probability:P, corrupt-probability:P, seed:S";

    /**
     * Parses a spec.
     *
     * @throws IllegalArgumentException naming the bad item and what was expected
     */
    public static CardEmulatorFaults parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return NONE;
        }
        long loseAt = 0;
        double fail = 0;
        double corrupt = 0;
        long seed = 1;
        Set<String> seen = new LinkedHashSet<>();
        for (String raw : spec.split(",", -1)) {
            String item = raw.strip();
            int colon = item.indexOf(':');
            if (colon <= 0 || colon == item.length() - 1) {
                throw bad(spec, item, "key:value with key one of " + EXPECTED_KEYS);
            }
            String key = item.substring(0, colon).strip().toLowerCase(Locale.ROOT);
            String value = item.substring(colon + 1).strip();
            if (!seen.add(key)) {
                throw bad(spec, item, "each key at most once");
            }
            switch (key) {
                case "lose-device-at" -> loseAt = positiveLong(spec, item, value);
                case "fail-probability" -> fail = probability(spec, item, value);
                case "corrupt-probability" -> corrupt = probability(spec, item, value);
                case "seed" -> {
                    try {
                        seed = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw bad(spec, item, "seed:S with S an integer");
                    }
                }
                default -> throw bad(spec, item, "a key among " + EXPECTED_KEYS);
            }
        }
        return new CardEmulatorFaults(loseAt, fail, corrupt, seed);
    }

    /** The spec of the {@value #PROPERTY} system property (no faults when it is unset). */
    public static CardEmulatorFaults fromSystemProperty() {
        try {
            return parse(System.getProperty(PROPERTY));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + ": " + e.getMessage(), e);
        }
    }

    /** Arms these faults on {@code card}. */
    public CardEmulator applyTo(CardEmulator card) {
        card.seed(seed).failProbability(failProbability).corruptProbability(corruptProbability);
        if (loseDeviceAt > 0) {
            card.loseDeviceAtRequest(loseDeviceAt);
        }
        return card;
    }

    public boolean isEmpty() {
        return loseDeviceAt == 0 && failProbability == 0 && corruptProbability == 0;
    }

    private static long positiveLong(String spec, String item, String value) {
        try {
            long n = Long.parseLong(value);
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(spec, item, "lose-device-at:N with N a request number >= 1");
    }

    private static double probability(String spec, String item, String value) {
        try {
            double p = Double.parseDouble(value);
            if (p >= 0 && p <= 1) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(spec, item, item.substring(0, item.indexOf(':')).strip() + ":P with 0 <= P <= 1");
    }

    private static IllegalArgumentException bad(String spec, String item, String expected) {
        return new IllegalArgumentException("card emulator faults '" + spec + "': bad item '" + item
                + "' (expected: " + expected + ")");
    }
}
