package io.slipstream.worker.control;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.slipstream.common.tls.FleetIdentity;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a control call only from a controller: the client certificate of the call's TLS session (already
 * verified against the fleet CA by the handshake) must name {@code urn:slipstream:controller:<name>}. A
 * worker's certificate, or a session without one, gets {@code PERMISSION_DENIED}, counted in
 * {@code slipstream.worker.control.denied}.
 */
public final class ControllerOnly implements ServerInterceptor {

    private static final Logger log = LoggerFactory.getLogger(ControllerOnly.class);
    private final Counter denied;

    public ControllerOnly(MeterRegistry meters) {
        this.denied = Counter.builder("slipstream.worker.control.denied")
                .description("Control calls refused because the client is not a controller").register(meters);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        FleetIdentity client = clientIdentity(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        if (client != null && client.isController()) {
            return next.startCall(call, headers);
        }
        denied.increment();
        String why = "control calls are for the controller only (expected a client certificate naming "
                + FleetIdentity.CONTROLLER_PREFIX + "<name>, got " + (client == null ? "none" : client.uri()) + ")";
        log.warn("refused {} from {}: {}", call.getMethodDescriptor().getFullMethodName(),
                call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), why);
        call.close(Status.PERMISSION_DENIED.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() { };
    }

    static FleetIdentity clientIdentity(SSLSession session) {
        if (session == null) {
            return null;
        }
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate
                    ? FleetIdentity.of((X509Certificate) chain[0]) : null;
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }
}
