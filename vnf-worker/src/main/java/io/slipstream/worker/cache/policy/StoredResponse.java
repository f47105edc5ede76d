package io.slipstream.worker.cache.policy;

import java.time.Instant;
import java.util.Objects;

/**
 * A response as the cache holds it, with what RFC 9111 needs to reuse it: the request that produced it
 * (its method, URI and at least the fields named in Vary, §4.1) and the local clock readings taken when that
 * request was sent ({@code request_time}) and when the response was received ({@code response_time}), §4.2.3.
 * The body is not part of the decision and stays with the store.
 */
public final class StoredResponse {

    private final RequestHead request;
    private final ResponseHead response;
    private final Instant requestTime;
    private final Instant responseTime;

    private StoredResponse(RequestHead request, ResponseHead response, Instant requestTime, Instant responseTime) {
        this.request = request;
        this.response = response;
        this.requestTime = requestTime;
        this.responseTime = responseTime;
    }

    public static StoredResponse of(RequestHead request, ResponseHead response, Instant requestTime,
                                    Instant responseTime) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(response, "response");
        Objects.requireNonNull(requestTime, "requestTime");
        Objects.requireNonNull(responseTime, "responseTime");
        if (responseTime.isBefore(requestTime)) {
            throw new IllegalArgumentException("responseTime: " + responseTime + " (expected: not before requestTime "
                    + requestTime + ")");
        }
        return new StoredResponse(request, response, requestTime, responseTime);
    }

    public RequestHead request() {
        return request;
    }

    public ResponseHead response() {
        return response;
    }

    public Instant requestTime() {
        return requestTime;
    }

    public Instant responseTime() {
        return responseTime;
    }

    /** The {@code Date} of the response, or {@code response_time} when absent or invalid (RFC 9110 §6.6.1). */
    public Instant date() {
        Instant date = HttpDates.parse(response.headers().get("Date"));
        return date != null ? date : responseTime;
    }

    @Override
    public String toString() {
        return "StoredResponse{" + request.method() + ' ' + request.uri() + " -> " + response.status()
                + ", requested " + requestTime + ", received " + responseTime + '}';
    }
}
