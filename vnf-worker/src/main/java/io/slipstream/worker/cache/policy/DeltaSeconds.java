package io.slipstream.worker.cache.policy;

/** The {@code delta-seconds} rule of RFC 9111 §1.2.2. */
public final class DeltaSeconds {

    /** The value any larger delta-seconds is replaced with: 2^31 (RFC 9111 §1.2.2). */
    public static final long MAX = 2_147_483_648L;

    /** What {@link #parse(String)} returns for anything that is not {@code 1*DIGIT}. */
    public static final long INVALID = -1;

    private DeltaSeconds() {
    }

    /**
     * Parses {@code 1*DIGIT}. No sign, no spaces, no fraction: {@code "-1"}, {@code " 5"}, {@code "1.5"} and
     * {@code ""} are {@link #INVALID}. A value larger than 2^31, however many digits, is {@link #MAX}.
     */
    public static long parse(String value) {
        if (value == null || value.isEmpty()) {
            return INVALID;
        }
        long n = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return INVALID;
            }
            if (n < MAX) {
                n = n * 10 + (c - '0');
            }
        }
        return Math.min(n, MAX);
    }
}
