package io.slipstream.worker.compression.internal;

import io.slipstream.worker.compression.CompressionException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Waiting on engine futures from synchronous callers. */
public final class Futures {

    private Futures() {
    }

    /** The cause of a completion failure, unwrapped. */
    public static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Waits for {@code f}; rethrows its failure unwrapped (runtime exceptions and errors as they are). */
    public static <T> T join(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompressionException("interrupted while waiting for the engine", e);
        } catch (ExecutionException e) {
            Throwable cause = unwrap(e);
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw new CompressionException("engine failed: " + cause, cause);
        }
    }
}
