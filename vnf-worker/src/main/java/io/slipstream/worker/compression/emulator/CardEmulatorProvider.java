package io.slipstream.worker.compression.emulator;

import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionProvider;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;
import java.util.Objects;
import java.util.Set;

/**
 * A hardware provider backed by a {@link CardEmulator}. Listed for ServiceLoader like any provider, but
 * {@link #enabled()} only with {@code -D}{@value #PROPERTY}{@code =true}, so production never picks it by
 * accident; tests add one driving their own card with {@code addProvider(new CardEmulatorProvider(card))}.
 */
public final class CardEmulatorProvider implements CompressionProvider {

    public static final String NAME = "emulator";
    /** Above software, below real cards. */
    public static final int PRIORITY = HARDWARE_PRIORITY / 2;

    /** System property that switches the emulator on (tests, demo): {@code -Dslipstream.compression.emulator=true}. */
    public static final String PROPERTY = "slipstream.compression.emulator";

    private final CardEmulator card;
    private final boolean enabled;
    private final SoftwareCompressionProvider codecs = new SoftwareCompressionProvider();

    /**
     * For ServiceLoader: a default card with the faults of {@code -D}{@value CardEmulatorFaults#PROPERTY},
     * enabled by {@code -D}{@value #PROPERTY}{@code =true}.
     *
     * @throws IllegalArgumentException when the fault spec is bad, or set while the emulator is off
     */
    public CardEmulatorProvider() {
        CardEmulatorFaults faults = CardEmulatorFaults.fromSystemProperty();
        this.enabled = Boolean.getBoolean(PROPERTY);
        if (!faults.isEmpty() && !enabled) {
            throw new IllegalArgumentException("-D" + CardEmulatorFaults.PROPERTY + " is set but the card emulator"
                    + " is off (expected: -D" + PROPERTY + "=true as well)");
        }
        this.card = faults.applyTo(CardEmulator.builder().build());
    }

    /** An enabled provider driving {@code card}. */
    public CardEmulatorProvider(CardEmulator card) {
        this.card = Objects.requireNonNull(card, "card");
        this.enabled = true;
    }

    public CardEmulator card() {
        return card;
    }

    @Override
    public boolean enabled() {
        return enabled;
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
