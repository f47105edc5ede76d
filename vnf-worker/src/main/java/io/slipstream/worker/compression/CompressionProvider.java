package io.slipstream.worker.compression;

import java.util.Set;

/**
 * A source of compression engines, discovered with {@link java.util.ServiceLoader} through
 * {@code META-INF/services/io.slipstream.worker.compression.CompressionProvider}. Needs a public
 * no-argument constructor. Modelled on grpc-java's {@code ServerProvider}.
 */
public interface CompressionProvider {

    /** Priority of software providers. */
    int SOFTWARE_PRIORITY = 0;
    /** Default priority of hardware providers: above every software provider. */
    int HARDWARE_PRIORITY = 100;

    /** A short, stable, lower-case name, e.g. {@code software}, {@code qat}; used in config and metrics. */
    String name();

    /** Whether the provider runs on an accelerator rather than the CPU. */
    boolean hardware();

    /** Higher wins among available providers of a codec; hardware providers are above {@link #SOFTWARE_PRIORITY}. */
    int priority();

    /** Codecs this provider can compress and decompress, when available. */
    Set<Codec> codecs();

    /**
     * Whether the provider takes part in this process at all (default true). A provider that must be switched
     * on (the card emulator, by a system property) returns false while off and is then left out of every
     * list; an installed provider that cannot run here stays listed through {@link #availability()}.
     */
    default boolean enabled() {
        return true;
    }

    /**
     * Whether the provider can be used here, and if not why (no native library, no device, no
     * permission). Never throws; cheap after the first call. May change over time (a device lost).
     */
    Availability availability();

    /**
     * An engine for {@code codec} at {@code level} (0 for the codec's default). Only called when
     * available and {@code codec} is in {@link #codecs()}.
     *
     * @throws CompressionException when the engine cannot be created
     */
    CompressionEngine engine(Codec codec, int level);
}
