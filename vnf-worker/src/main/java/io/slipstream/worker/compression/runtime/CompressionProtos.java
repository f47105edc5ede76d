package io.slipstream.worker.compression.runtime;

import io.slipstream.proto.v1.CompressionProviderState;
import io.slipstream.proto.v1.CompressionSettings;
import io.slipstream.worker.compression.Codec;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Mapping between the SPI's own types and the gRPC contract. Kept out of the SPI types so that a
 * third-party provider jar does not need protobuf.
 */
public final class CompressionProtos {

    private CompressionProtos() {
    }

    public static io.slipstream.proto.v1.Codec toProto(Codec codec) {
        switch (codec) {
            case ZSTD:
                return io.slipstream.proto.v1.Codec.CODEC_ZSTD;
            case LZ4:
                return io.slipstream.proto.v1.Codec.CODEC_LZ4;
            case DEFLATE:
                return io.slipstream.proto.v1.Codec.CODEC_DEFLATE;
            default:
                return io.slipstream.proto.v1.Codec.CODEC_GZIP;
        }
    }

    /** CODEC_UNSPECIFIED means zstd, as the contract says. */
    public static Codec fromProto(io.slipstream.proto.v1.Codec codec) {
        switch (codec) {
            case CODEC_UNSPECIFIED:
            case CODEC_ZSTD:
                return Codec.ZSTD;
            case CODEC_LZ4:
                return Codec.LZ4;
            case CODEC_DEFLATE:
                return Codec.DEFLATE;
            case CODEC_GZIP:
                return Codec.GZIP;
            default:
                throw new IllegalArgumentException("codec: " + codec + " (expected: CODEC_ZSTD, CODEC_LZ4, CODEC_DEFLATE or CODEC_GZIP)");
        }
    }

    /** The config for {@code settings}; fields at 0 keep their defaults. */
    public static CompressionConfig fromProto(CompressionSettings settings) {
        CompressionConfig.Builder b = CompressionConfig.builder()
                .codec(fromProto(settings.getCodec()))
                .level(settings.getLevel())
                .forceProvider(settings.getForceProvider())
                .disableHardware(settings.getDisableHardware());
        if (settings.getMinHardwareBlockBytes() > 0) {
            b.minHardwareBlockBytes(settings.getMinHardwareBlockBytes());
        }
        return b.build();
    }

    public static CompressionProviderState toProto(ProviderState s) {
        return CompressionProviderState.newBuilder()
                .setName(s.name())
                .setHardware(s.hardware())
                .setAvailable(s.available())
                .setReason(s.reason())
                .setFallbacks(s.fallbacks())
                .setQueueDepth(s.queueDepth())
                .build();
    }

    public static List<CompressionProviderState> toProto(List<ProviderState> states) {
        return states.stream().map(CompressionProtos::toProto).collect(Collectors.toList());
    }
}
