package io.slipstream.worker.compression;

/** Back-pressure: an engine's submission queue is full. The caller keeps the block. */
public class QueueFullException extends CompressionException {

    private static final long serialVersionUID = 1L;

    public QueueFullException(String message) {
        super(message);
    }
}
