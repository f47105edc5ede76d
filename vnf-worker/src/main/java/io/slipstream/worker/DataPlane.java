package io.slipstream.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.proto.v1.WorkerConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.control.DataPlaneStats;
import io.slipstream.worker.control.LoadSampler;
import io.slipstream.worker.control.WorkerControlService;
import java.io.Closeable;
import java.util.function.Supplier;

/**
 * One role's data plane as the worker runs it: started once the control server is up, programmed by every
 * applied configuration, closed with the worker. One implementation per role, made by its {@link RoleSettings}.
 */
public interface DataPlane extends Closeable {

    /**
     * What the worker shares with its data plane.
     *
     * @param compressor the compression of the applied configuration (defaults before the first one)
     */
    record Context(MeterRegistry meters, DataPlaneStats stats, LoadSampler load, WorkerControlService control,
                   CompressionProviderRegistry compression, Supplier<ResilientCompressor> compressor) {}

    /** What the worker registers: its data endpoint and steered endpoint, {@code host:port}, empty for none. */
    record Endpoints(String data, String steered) {
        public static final Endpoints NONE = new Endpoints("", "");
    }

    /** Binds the listeners and reports into the worker's load and control; returns the endpoints to register. */
    Endpoints start(Context worker) throws Exception;

    /** Programs the data plane with a configuration the worker has accepted. */
    void apply(WorkerConfig config);

    @Override
    void close();
}
