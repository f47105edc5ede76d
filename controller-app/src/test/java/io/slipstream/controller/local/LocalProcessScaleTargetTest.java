package io.slipstream.controller.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.controller.scale.ScaleException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Argument checks of the local target, and its take-over of a previous leader's workers (issue 23) with stand-in
 * processes whose command line is a worker's; starting and stopping real workers is AutoscaleIT's and
 * ControllerScalingFailoverChaosIT's job.
 */
class LocalProcessScaleTargetTest {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final List<Process> started = new java.util.ArrayList<>();

    /** A process that runs until killed and whose command line says {@code WorkerMain --id id}. */
    private Process standIn(String id) throws java.io.IOException {
        Process p = new ProcessBuilder("bash", "-c", "sleep 60; true", LocalWorkerProcess.WORKER_MAIN, "--id", id)
                .start();
        started.add(p);
        return p;
    }

    @org.junit.jupiter.api.AfterEach
    void killStandIns() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private static String entry(String id, String host, long pid, boolean stopping) {
        return String.format("{\"id\":\"%s\",\"role\":\"wanopt\",\"site\":\"a\",\"host\":\"%s\",\"pid\":%d,"
                + "\"stopping\":%s}", id, host, pid, stopping);
    }

    private static String host() throws java.io.IOException {
        return java.net.InetAddress.getLocalHost().getHostName();
    }

    @Test
    void takeOver_adoptsLiveWorkerByPid_forgetsNeverStartedAndGone_keepsOtherHosts(@TempDir Path dir)
            throws Exception {
        Process live = standIn("wanopt-a-3");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":7,\"workers\":[" + entry("wanopt-a-3", host(), live.pid(), false) + ","
                + entry("wanopt-a-4", host(), 0, false) + "," + entry("wanopt-a-5", host(), Long.MAX_VALUE / 2, false)
                + "," + entry("wanopt-a-1", "elsewhere", 1, false) + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(target.workers("wanopt", "a")).containsExactly("wanopt-a-3");
            assertThat(target.process("wanopt-a-3").adopted()).isTrue();
            assertThat(target.process("wanopt-a-3").pid()).isEqualTo(live.pid());
            assertThat(target.replicas("wanopt", "a")).isEqualTo(1);
            com.fasterxml.jackson.databind.JsonNode doc = JSON.readTree(journal.read().orElseThrow());
            assertThat(doc.path("sequence").asLong()).isEqualTo(7);
            assertThat(doc.path("workers").findValuesAsText("id")).containsExactlyInAnyOrder("wanopt-a-3", "wanopt-a-1");

            // Scale-in naming a victim that never started: nothing to stop for it; the adopted one is stopped.
            target.scale("wanopt", "a", 0, List.of("wanopt-a-4", "wanopt-a-3"));
            assertThat(live.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("adopted worker stopped").isTrue();
            assertThat(JSON.readTree(journal.read().orElseThrow()).path("workers").findValuesAsText("id"))
                    .containsExactly("wanopt-a-1");
        }
    }

    @Test
    void takeOver_recordedPidNowAnotherProcess_isNotAdopted_butFoundById(@TempDir Path dir) throws Exception {
        Process other = standIn("wanopt-a-8");
        Process worker = standIn("wanopt-a-2");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        // wanopt-a-2 recorded with the pid of another worker (a reused pid): found by its id instead.
        journal.write("{\"sequence\":2,\"workers\":[" + entry("wanopt-a-2", host(), other.pid(), false) + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(target.process("wanopt-a-2").pid()).isEqualTo(worker.pid());
            target.release();
            assertThat(target.workers("wanopt", "a")).isEmpty();
        }
        assertThat(worker.isAlive()).as("released, not stopped: the next leader adopts it").isTrue();
        assertThat(other.isAlive()).isTrue();
    }

    @Test
    void takeOver_workerRecordedAsStopping_isStopped(@TempDir Path dir) throws Exception {
        Process stopping = standIn("wanopt-a-6");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":6,\"workers\":[" + entry("wanopt-a-6", host(), stopping.pid(), true) + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(stopping.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(target.workers("wanopt", "a")).isEmpty();
            assertThat(JSON.readTree(journal.read().orElseThrow()).path("workers")).isEmpty();
        }
    }

    @Test
    void takeOver_journalNotJson_isRefusedSayingWhatToDo(@TempDir Path dir) throws Exception {
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            assertThatThrownBy(target::takeOver).isInstanceOf(ScaleException.class)
                    .hasMessageStartingWith("local workers journal: not JSON").hasMessageEndingWith("fix or delete it");
        }
    }

    @Test
    void scale_journalRefusesTheRecord_startsNothing(@TempDir Path dir) {
        io.slipstream.controller.scale.ScalingJournal refusing = new io.slipstream.controller.scale.ScalingJournal() {
            @Override
            public java.util.Optional<String> read() {
                return java.util.Optional.empty();
            }

            @Override
            public void write(String json) throws ScaleException {
                throw new ScaleException("not leading");
            }
        };
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(refusing)) {
            assertThatThrownBy(() -> target.scale("wanopt", "a", 2, List.of())).hasMessage("not leading");
            assertThat(target.workers("wanopt", "a")).isEmpty();
        }
    }

    @Test
    void scale_unknownVictim_isRefusedNamingTheWorkersItRuns(@TempDir Path dir) {
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)) {
            assertThatThrownBy(() -> target.scale("wanopt", "a", 0, List.of("wanopt-a-9")))
                    .isInstanceOf(ScaleException.class)
                    .hasMessage("victim 'wanopt-a-9' is not a local wanopt worker at site a (expected one of [])");
            assertThat(target.replicas("wanopt", "a")).isZero();
        }
    }

    @Test
    void scale_negativeReplicas_isRefused(@TempDir Path dir) {
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)) {
            assertThatThrownBy(() -> target.scale("wanopt", "a", -1, List.of()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("replicas: -1 (expected: >= 0)");
        }
    }

    @Test
    void sharedArchive_onlyBesideASingleLauncherJar(@TempDir Path dir) throws Exception {
        Path jar = java.nio.file.Files.createFile(dir.resolve("slipstream.jar"));
        assertThat(LocalWorkerProcess.sharedArchive(jar.toString())).isNull();
        java.nio.file.Files.createFile(dir.resolve("slipstream.jsa"));
        assertThat(LocalWorkerProcess.sharedArchive(jar.toString())).isEqualTo(dir.resolve("slipstream.jsa"));
        assertThat(LocalWorkerProcess.sharedArchive(jar + java.io.File.pathSeparator + "other.jar")).isNull();
        assertThat(LocalWorkerProcess.sharedArchive(dir.resolve("classes").toString())).isNull();
    }
}
