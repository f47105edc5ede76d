package io.slipstream.controller.scale;

import java.util.List;

/**
 * Something that runs a number of workers per role and site and can be told to run more or fewer:
 * a Kubernetes Deployment, or worker processes on this machine.
 *
 * <p>Scale-in is make-before-break: the controller picks the workers to remove, drains them (they
 * leave placement and finish their flows) and only then calls {@link #scale} with them as
 * {@code victims}, so the target removes exactly those and not others.
 */
public interface ScaleTarget extends AutoCloseable {

    /** What the target calls itself in logs and metrics ("kubernetes", "local"). */
    String name();

    /**
     * The replica count the target currently asks for (not necessarily all ready yet).
     *
     * @throws ScaleException when the target cannot be read (missing Deployment, forbidden, unreachable)
     */
    int replicas(String role, String site) throws ScaleException;

    /**
     * Asks for {@code replicas} workers of {@code role} at {@code site}.
     *
     * @param victims when scaling in, the ids of the workers to remove (already drained); the target
     *     removes these first. Empty when scaling out or when any may go.
     * @throws ScaleException with a message an operator can act on (e.g. which RBAC verb is missing)
     */
    void scale(String role, String site, int replicas, List<String> victims) throws ScaleException;

    /**
     * Called when this controller starts leading (issue 23), before it decides anything: the target learns what
     * a previous leader left running (a Deployment needs nothing: its replica count is the state; local worker
     * processes are adopted), so that nothing is started twice.
     *
     * @throws ScaleException when that cannot be learned now (the caller scales nothing until it can)
     */
    default void takeOver() throws ScaleException {
    }

    /**
     * Called when this controller stops leading: the target forgets the workers it runs without stopping them
     * (the next leader adopts them).
     */
    default void release() {
    }

    @Override
    default void close() {
    }
}
