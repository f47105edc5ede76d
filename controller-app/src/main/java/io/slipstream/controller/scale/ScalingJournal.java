package io.slipstream.controller.scale;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where scaling intent is kept so that it survives the controller (issue 23): one JSON document, read when a
 * controller starts leading and written before each step it takes. The standalone controller keeps it in
 * ZooKeeper, written only while it leads; {@link #inMemory()} keeps it for this process only (a single
 * controller without ZooKeeper state, unit tests).
 */
public interface ScalingJournal {

    /**
     * The document last written, or empty when there is none.
     *
     * @throws ScaleException when it cannot be read (ZooKeeper away)
     */
    Optional<String> read() throws ScaleException;

    /**
     * Replaces the document.
     *
     * @throws ScaleException when it was not written (ZooKeeper away, or this controller no longer leads); the
     *     caller must not take the step it was recording
     */
    void write(String json) throws ScaleException;

    /**
     * Checked right before a step that was recorded is taken (a worker process started or stopped): throws when this
     * controller may no longer act on what it recorded (it no longer leads). Does nothing by default.
     *
     * @throws ScaleException when this controller no longer leads; the caller must not take the step
     */
    default void checkLeading() throws ScaleException {
    }

    /** A journal kept in this process only. */
    static ScalingJournal inMemory() {
        AtomicReference<String> doc = new AtomicReference<>();
        return new ScalingJournal() {
            @Override
            public Optional<String> read() {
                return Optional.ofNullable(doc.get());
            }

            @Override
            public void write(String json) {
                doc.set(json);
            }
        };
    }
}
