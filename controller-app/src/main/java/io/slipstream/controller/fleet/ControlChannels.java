package io.slipstream.controller.fleet;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.slipstream.common.tls.FleetIdentity;
import io.slipstream.common.tls.TlsMaterial;
import io.slipstream.contract.WorkerRecord;

/**
 * How the controller opens control channels to workers: mutual TLS with the controller's certificate,
 * trusting only a server whose certificate the fleet's CA signed AND that names the worker the ZooKeeper
 * record claims ({@code urn:slipstream:worker:<site>:<id>}), so a worker certificate for site A cannot
 * register as site B; or plaintext, for development only.
 */
public final class ControlChannels {

    private final TlsMaterial tls;

    private ControlChannels(TlsMaterial tls) {
        this.tls = tls;
    }

    /** Mutual TLS with {@code material} (its key manager presents the controller's certificate). */
    public static ControlChannels mutualTls(TlsMaterial material) {
        if (material == null) {
            throw new IllegalArgumentException("control channels: no TLS material (expected: the controller's "
                    + "certificate, key and CA, or plaintext() for development)");
        }
        return new ControlChannels(material);
    }

    /** No TLS: anyone on the network can read and program the fleet. Development only. */
    public static ControlChannels plaintext() {
        return new ControlChannels(null);
    }

    public boolean isPlaintext() {
        return tls == null;
    }

    /** The material, {@code null} in plaintext. */
    public TlsMaterial material() {
        return tls;
    }

    /** A channel builder to {@code record}'s control endpoint that accepts only that worker. */
    public NettyChannelBuilder builder(WorkerRecord record) {
        return builder(record, why -> { });
    }

    /** As {@link #builder(WorkerRecord)}; {@code onRefusal} hears why a worker's certificate was refused. */
    public NettyChannelBuilder builder(WorkerRecord record, java.util.function.Consumer<String> onRefusal) {
        return NettyChannelBuilder.forTarget(record.controlEndpoint(), credentials(record, onRefusal));
    }

    private ChannelCredentials credentials(WorkerRecord record, java.util.function.Consumer<String> onRefusal) {
        if (tls == null) {
            return InsecureChannelCredentials.create();
        }
        FleetIdentity expected;
        try {
            expected = FleetIdentity.worker(record.site(), record.id());
        } catch (IllegalArgumentException e) {
            expected = null; // a record no certificate can match: every handshake fails, naming why
        }
        return TlsChannelCredentials.newBuilder()
                .keyManager(tls.keyManager())
                .trustManager(tls.trustManagerRequiring(expected, onRefusal))
                .build();
    }
}
