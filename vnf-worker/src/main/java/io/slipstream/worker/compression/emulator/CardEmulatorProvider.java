package io.slipstream.worker.compression.emulator;

import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.SoftwareCompressionProvider;
import java.util.Set;

/**
 * A hardware provider backed by a {@link CardEmulator}. Not listed for ServiceLoader: it is added by
 * {@code CompressionProviderRegistry.builder().emulator(card)} or the system property
 * {@code slipstream.compression.emulator=true}, so production never picks it by accident.
 */
public final class CardEmulatorProvider implements CompressionProvider {

    public static final String NAME = "emulator";
    /** Above software, below real cards. */
    public static final int PRIORITY = HARDWARE_PRIORITY / 2;

    private final CardEmulator card;
    private final SoftwareCompressionProvider codecs = new SoftwareCompressionProvider();

    public CardEmulatorProvider(CardEmulator card) {
        this.card = card;
    }

    public CardEmulator card() {
        return card;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean hardware() {
        return true;
    }

    @Override
    public int priority() {
        return PRIORITY;
    }

    @Override
    public Set<Codec> codecs() {
        return codecs.codecs();
    }

    @Override
    public Availability availability() {
        return card.availability();
    }

    @Override
    public CompressionEngine engine(Codec codec, int level) {
        return new EmulatedEngine(card, codecs.engine(codec, level));
    }
}
