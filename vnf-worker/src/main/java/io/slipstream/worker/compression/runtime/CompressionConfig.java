package io.slipstream.worker.compression.runtime;

import io.slipstream.worker.compression.Codec;

import java.util.Objects;

/** How a {@link ResilientCompressor} compresses: codec, level, routing and resilience settings. Immutable. */
public final class CompressionConfig {

    /** Default size below which blocks go to software: 1 KiB. */
    public static final int DEFAULT_MIN_HARDWARE_BLOCK_BYTES = 1024;
    /** Default largest block, compressed or accepted for decompression: 16 MiB. */
    public static final int DEFAULT_MAX_BLOCK_BYTES = 16 * 1024 * 1024;

    private final Codec codec;
    private final int level;
    private final int minHardwareBlockBytes;
    private final String forceProvider;
    private final boolean disableHardware;
    private final int maxBlockBytes;
    private final boolean verifyHardwareOutput;
    private final boolean storeIncompressible;

    private CompressionConfig(Builder b) {
        this.codec = b.codec;
        this.level = b.codec.checkLevel(b.level);
        this.minHardwareBlockBytes = b.minHardwareBlockBytes;
        this.forceProvider = b.forceProvider;
        this.disableHardware = b.disableHardware;
        this.maxBlockBytes = b.maxBlockBytes;
        this.verifyHardwareOutput = b.verifyHardwareOutput;
        this.storeIncompressible = b.storeIncompressible;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** zstd at its default level, every other setting at its default. */
    public static CompressionConfig defaults() {
        return builder().build();
    }

    public Builder toBuilder() {
        return new Builder().codec(codec).level(level).minHardwareBlockBytes(minHardwareBlockBytes)
                .forceProvider(forceProvider).disableHardware(disableHardware).maxBlockBytes(maxBlockBytes)
                .verifyHardwareOutput(verifyHardwareOutput).storeIncompressible(storeIncompressible);
    }

    public Codec codec() {
        return codec;
    }

    /** The effective level (never 0). */
    public int level() {
        return level;
    }

    public int minHardwareBlockBytes() {
        return minHardwareBlockBytes;
    }

    /** The provider to use for every block that goes to a provider, or null for the best available. */
    public String forceProvider() {
        return forceProvider;
    }

    public boolean disableHardware() {
        return disableHardware;
    }

    public int maxBlockBytes() {
        return maxBlockBytes;
    }

    /** Whether hardware output is decoded in software and checked before it is sent. */
    public boolean verifyHardwareOutput() {
        return verifyHardwareOutput;
    }

    /** Whether blocks that do not shrink are sent raw (STORED) instead of as a larger frame. */
    public boolean storeIncompressible() {
        return storeIncompressible;
    }

    @Override
    public String toString() {
        return "CompressionConfig{codec=" + codec + ", level=" + level + ", minHardwareBlockBytes=" + minHardwareBlockBytes
                + ", forceProvider=" + forceProvider + ", disableHardware=" + disableHardware + ", maxBlockBytes="
                + maxBlockBytes + ", verifyHardwareOutput=" + verifyHardwareOutput + "}";
    }

    /** Builder with the defaults of {@link #defaults()}. */
    public static final class Builder {
        private Codec codec = Codec.ZSTD;
        private int level;
        private int minHardwareBlockBytes = DEFAULT_MIN_HARDWARE_BLOCK_BYTES;
        private String forceProvider;
        private boolean disableHardware;
        private int maxBlockBytes = DEFAULT_MAX_BLOCK_BYTES;
        private boolean verifyHardwareOutput = true;
        private boolean storeIncompressible = true;

        private Builder() {
        }

        public Builder codec(Codec codec) {
            this.codec = Objects.requireNonNull(codec, "codec");
            return this;
        }

        /** 0 for the codec's default; checked against the codec's range when built. */
        public Builder level(int level) {
            this.level = level;
            return this;
        }

        public Builder minHardwareBlockBytes(int bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("minHardwareBlockBytes: " + bytes + " (expected: >= 0)");
            }
            this.minHardwareBlockBytes = bytes;
            return this;
        }

        /** A provider name, or null/empty for the best available. */
        public Builder forceProvider(String name) {
            this.forceProvider = name == null || name.isBlank() ? null : name.trim();
            return this;
        }

        public Builder disableHardware(boolean disable) {
            this.disableHardware = disable;
            return this;
        }

        public Builder maxBlockBytes(int bytes) {
            if (bytes < 1 || bytes > 1 << 30) {
                throw new IllegalArgumentException("maxBlockBytes: " + bytes + " (expected: 1..1073741824)");
            }
            this.maxBlockBytes = bytes;
            return this;
        }

        public Builder verifyHardwareOutput(boolean verify) {
            this.verifyHardwareOutput = verify;
            return this;
        }

        public Builder storeIncompressible(boolean store) {
            this.storeIncompressible = store;
            return this;
        }

        public CompressionConfig build() {
            return new CompressionConfig(this);
        }
    }
}
