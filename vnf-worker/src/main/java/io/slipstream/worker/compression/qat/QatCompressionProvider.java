package io.slipstream.worker.compression.qat;

import io.slipstream.worker.compression.Availability;
import io.slipstream.worker.compression.Codec;
import io.slipstream.worker.compression.CompressionEngine;
import io.slipstream.worker.compression.CompressionException;
import io.slipstream.worker.compression.CompressionProvider;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Intel QuickAssist through Intel's qat-java ({@code com.intel.qat:qat-java}), in hardware-only mode
 * so that a card failure is seen (and handled by the switch) rather than silently done in software.
 *
 * <p>qat-java loads its JNI library from its jar, which needs QATzip ({@code libqatzip.so.3}); on a
 * machine without it, class initialisation throws {@link UnsatisfiedLinkError}. The probe runs once,
 * catches every {@link Throwable} and keeps it as the reason, so nothing crashes where there is no card.
 */
public final class QatCompressionProvider implements CompressionProvider {

    public static final String NAME = "qat";

    /** System property: requests a QAT engine may hold in flight (default 64). */
    public static final String QUEUE_DEPTH_PROPERTY = "slipstream.compression.qat.queueDepth";
    /** System property: QAT sessions working at once per engine (default 4). */
    public static final String SESSIONS_PROPERTY = "slipstream.compression.qat.sessions";

    private static final Set<Codec> CODECS = Collections.unmodifiableSet(
            EnumSet.of(Codec.ZSTD, Codec.LZ4, Codec.DEFLATE, Codec.GZIP));

    /** Probed on first use, once. */
    private static final class Probe {
        static final Availability RESULT = probe();

        private static Availability probe() {
            try {
                ClassLoader cl = QatCompressionProvider.class.getClassLoader();
                // Initialise the JNI holder first: its first failure carries the real cause
                // (e.g. UnsatisfiedLinkError: libqatzip.so.3); later ones only say NoClassDefFoundError.
                Class.forName("com.intel.qat.InternalJNI", true, cl);
                Class.forName("com.intel.qat.QatZipper", true, cl);
                return QatEngine.probeHardware();
            } catch (Throwable t) {
                if (t instanceof VirtualMachineError && !(t instanceof InternalError)) {
                    throw (VirtualMachineError) t;
                }
                Throwable cause = t instanceof ExceptionInInitializerError && t.getCause() != null ? t.getCause() : t;
                return Availability.unavailable("qat-java could not start (needs QATzip and a QAT device)", cause);
            }
        }
    }

    public QatCompressionProvider() {
        // ServiceLoader; probing is lazy
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
        return HARDWARE_PRIORITY;
    }

    @Override
    public Set<Codec> codecs() {
        return CODECS;
    }

    @Override
    public Availability availability() {
        try {
            return Probe.RESULT;
        } catch (Throwable t) {
            return Availability.unavailable("qat probe failed", t);
        }
    }

    @Override
    public CompressionEngine engine(Codec codec, int level) {
        Availability a = availability();
        if (!a.isAvailable()) {
            throw new CompressionException("qat unavailable: " + a.reason());
        }
        return new QatEngine(codec, level, Integer.getInteger(SESSIONS_PROPERTY, 4),
                Integer.getInteger(QUEUE_DEPTH_PROPERTY, 64));
    }
}
