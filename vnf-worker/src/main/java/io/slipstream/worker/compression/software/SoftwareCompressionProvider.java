package io.slipstream.worker.compression.software;

import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CompressionProvider;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * The CPU provider: zstd (zstd-jni), LZ4 (lz4-java) and DEFLATE/GZIP (the JDK). Always available for
 * DEFLATE and GZIP; zstd and LZ4 when their libraries load (probed once, the cause kept, as Netty's
 * {@code Zstd} does).
 */
public final class SoftwareCompressionProvider implements CompressionProvider {

    public static final String NAME = "software";

    private static final Throwable ZSTD_UNAVAILABLE = probe("com.github.luben.zstd.util.Native", true);
    private static final Throwable LZ4_UNAVAILABLE = probe("net.jpountz.lz4.LZ4Factory", false);

    private static Throwable probe(String className, boolean zstd) {
        try {
            Class.forName(className);
            if (zstd) {
                com.github.luben.zstd.util.Native.load();
            } else {
                net.jpountz.lz4.LZ4Factory.fastestInstance();
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    private final Set<Codec> codecs;

    public SoftwareCompressionProvider() {
        EnumSet<Codec> set = EnumSet.of(Codec.DEFLATE, Codec.GZIP);
        if (ZSTD_UNAVAILABLE == null) {
            set.add(Codec.ZSTD);
        }
        if (LZ4_UNAVAILABLE == null) {
            set.add(Codec.LZ4);
        }
        this.codecs = Collections.unmodifiableSet(set);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean hardware() {
        return false;
    }

    @Override
    public int priority() {
        return SOFTWARE_PRIORITY;
    }

    @Override
    public Set<Codec> codecs() {
        return codecs;
    }

    @Override
    public Availability availability() {
        return Availability.available();
    }

    /** Why a codec is missing from {@link #codecs()}, or empty. */
    public String missingReason(Codec codec) {
        Throwable t = codec == Codec.ZSTD ? ZSTD_UNAVAILABLE : codec == Codec.LZ4 ? LZ4_UNAVAILABLE : null;
        if (t == null) {
            return "";
        }
        String lib = codec == Codec.ZSTD ? "com.github.luben:zstd-jni" : "org.lz4:lz4-java";
        return lib + " failed to load: " + t;
    }

    @Override
    public CompressionEngine engine(Codec codec, int level) {
        if (!codecs.contains(codec)) {
            throw new CompressionException("software provider cannot do " + codec + ": " + missingReason(codec));
        }
        switch (codec) {
            case ZSTD:
                return new ZstdEngine(level);
            case LZ4:
                return new Lz4FrameEngine(level);
            default:
                return new ZlibEngine(codec, level);
        }
    }

    @Override
    public String toString() {
        return "SoftwareCompressionProvider" + codecs;
    }
}
