package io.slipstream.worker.compression;

/**
 * Codecs of the SPI. Each block is a standard frame of its codec: a zstd frame (RFC 8878), an LZ4
 * frame, raw DEFLATE (RFC 1951) or one gzip member (RFC 1952). The id is the envelope's codec byte.
 */
public enum Codec {
    ZSTD(1, 3, 1, 22),
    LZ4(2, 1, 1, 17),
    DEFLATE(3, 6, 1, 9),
    GZIP(4, 6, 1, 9);

    private final int id;
    private final int defaultLevel;
    private final int minLevel;
    private final int maxLevel;

    Codec(int id, int defaultLevel, int minLevel, int maxLevel) {
        this.id = id;
        this.defaultLevel = defaultLevel;
        this.minLevel = minLevel;
        this.maxLevel = maxLevel;
    }

    /** The envelope's codec byte. */
    public int id() {
        return id;
    }

    public int defaultLevel() {
        return defaultLevel;
    }

    public int minLevel() {
        return minLevel;
    }

    public int maxLevel() {
        return maxLevel;
    }

    /** {@code level}, or the default when it is 0; rejects levels outside the codec's range. */
    public int checkLevel(int level) {
        if (level == 0) {
            return defaultLevel;
        }
        if (level < minLevel || level > maxLevel) {
            throw new IllegalArgumentException(
                    "level: " + level + " (expected: 0 for default or " + minLevel + ".." + maxLevel + " for " + this + ")");
        }
        return level;
    }

    /** The codec with envelope byte {@code id}, or null. */
    public static Codec byId(int id) {
        for (Codec c : values()) {
            if (c.id == id) {
                return c;
            }
        }
        return null;
    }
}
