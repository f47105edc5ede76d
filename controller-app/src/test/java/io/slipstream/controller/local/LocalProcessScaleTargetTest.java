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

    /**
     * A process that runs until killed and whose command line is a wanopt worker's at site a of the fleet on
     * ZooKeeper {@code 127.0.0.1:1} (the targets below): {@code WorkerMain --id id --role wanopt --site a
     * --zookeeper 127.0.0.1:1}.
     */
    private Process standIn(String id) throws java.io.IOException {
        return standIn(id, "127.0.0.1:1");
    }

    private Process standIn(String id, String zookeeper) throws java.io.IOException {
        Process p = new ProcessBuilder("bash", "-c", "sleep 60; true", LocalWorkerProcess.WORKER_MAIN, "--id", id,
                "--role", "wanopt", "--site", "a", "--zookeeper", zookeeper).start();
        started.add(p);
        return p;
    }

    private static String entry(String id, String host, long pid, String start, boolean stopping) {
        return String.format("{\"id\":\"%s\",\"role\":\"wanopt\",\"site\":\"a\",\"host\":\"%s\",\"pid\":%d,"
                + "\"start\":\"%s\",\"stopping\":%s}", id, host, pid, start, stopping);
    }

    @org.junit.jupiter.api.AfterEach
    void killStandIns() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private static String entry(String id, String host, long pid, boolean stopping) {
        return entryWithoutStart(id, host, pid, stopping);
    }

    private static String entryWithoutStart(String id, String host, long pid, boolean stopping) {
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
    void scale_unknownVictim_isRefusedNamingTheWorkersItRuns(@TempDir Path dir) throws Exception {
        Process live = standIn("wanopt-a-3");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":3,\"workers\":[" + entry("wanopt-a-3", host(), live.pid(), false) + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThatThrownBy(() -> target.scale("wanopt", "a", 0, List.of("wanopt-a-9")))
                    .isInstanceOf(ScaleException.class)
                    .hasMessage("victim 'wanopt-a-9' is not a local wanopt worker at site a (expected one of "
                            + "[wanopt-a-3])");
            assertThat(target.replicas("wanopt", "a")).isEqualTo(1);
            assertThat(live.isAlive()).as("not stopped instead of the unknown victim").isTrue();
            target.release();
        }
    }

    @Test
    void scale_unknownVictim_atTheCountAlready_changesNothing(@TempDir Path dir) throws Exception {
        // A new leader finishing a drain whose victim the previous leader had stopped and recorded as gone.
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)) {
            target.scale("wanopt", "a", 0, List.of("wanopt-a-9"));
            assertThat(target.replicas("wanopt", "a")).isZero();
        }
    }

    @Test
    void takeOver_recordedPidAndStartNowAnotherProcessOfTheSameId_isNotAdopted(@TempDir Path dir) throws Exception {
        // The recorded worker is gone and its pid reused by a process of the same command line (another fleet's
        // worker, a test double): the start recorded with the pid tells them apart.
        Process reused = standIn("wanopt-a-2");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":2,\"workers\":[" + entry("wanopt-a-2", host(), reused.pid(), "ticks:1", false)
                + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(target.workers("wanopt", "a")).isEmpty();
            assertThat(JSON.readTree(journal.read().orElseThrow()).path("workers")).isEmpty();
        }
        assertThat(reused.isAlive()).as("not its process: left alone").isTrue();
    }

    @Test
    void takeOver_recordedPidAndStart_adoptsAndRecordsTheStartAgain(@TempDir Path dir) throws Exception {
        Process live = standIn("wanopt-a-4");
        String start = LocalWorkerProcess.startToken(live.toHandle());
        assertThat(start).startsWith("ticks:");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":4,\"workers\":[" + entry("wanopt-a-4", host(), live.pid(), start, false)
                + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(target.process("wanopt-a-4").pid()).isEqualTo(live.pid());
            assertThat(JSON.readTree(journal.read().orElseThrow()).path("workers").get(0).path("start").asText())
                    .isEqualTo(start);
            target.release();
        }
    }

    @Test
    void takeOver_workerOfAnotherFleet_isNotAdopted(@TempDir Path dir) throws Exception {
        // Same id, another ZooKeeper: another fleet's worker (e.g. another test run on this machine).
        Process other = standIn("wanopt-a-5", "127.0.0.1:2");
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":5,\"workers\":[" + entry("wanopt-a-5", host(), 0, false) + ","
                + entry("wanopt-a-6", host(), other.pid(), false) + "]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(target.workers("wanopt", "a")).isEmpty();
        }
        assertThat(other.isAlive()).isTrue();
    }

    @Test
    void takeOver_garbledEntries_areLeftOut_andIdsContinueAboveEveryRecordedOne(@TempDir Path dir) throws Exception {
        io.slipstream.controller.scale.ScalingJournal journal = io.slipstream.controller.scale.ScalingJournal.inMemory();
        journal.write("{\"sequence\":\"many\",\"workers\":[42,\"x\",{\"id\":\"../../etc\",\"role\":\"wanopt\","
                + "\"site\":\"a\",\"host\":\"" + host() + "\",\"pid\":0},{\"id\":\"wanopt-a-1\",\"role\":\"wan@opt\","
                + "\"site\":\"a\",\"host\":\"" + host() + "\"},{\"id\":\"wanopt-a-3\",\"role\":\"wanopt\",\"site\":\"a\","
                + "\"host\":\"" + host() + "\",\"pid\":-7},{\"id\":\"wanopt-a-12\",\"role\":\"wanopt\",\"site\":\"a\","
                + "\"host\":\"" + host() + "\",\"pid\":\"none\",\"launchedAt\":\"yesterday\",\"log\":\"\\u0000\"}]}");
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(journal)) {
            target.takeOver();
            assertThat(target.workers("wanopt", "a")).isEmpty();
            com.fasterxml.jackson.databind.JsonNode doc = JSON.readTree(journal.read().orElseThrow());
            assertThat(doc.path("workers")).isEmpty();
            assertThat(doc.path("sequence").asLong()).as("above wanopt-a-12").isEqualTo(12);
        }
    }

    @Test
    void takeOver_journalWithoutAWorkersArray_isRefusedSayingWhatWasExpected(@TempDir Path dir) throws Exception {
        for (String doc : List.of("[]", "17", "{\"workers\":{\"id\":\"wanopt-a-1\"}}", "{}")) {
            io.slipstream.controller.scale.ScalingJournal journal =
                    io.slipstream.controller.scale.ScalingJournal.inMemory();
            journal.write(doc);
            try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                    .journal(journal)) {
                assertThatThrownBy(target::takeOver).as(doc).isInstanceOf(ScaleException.class)
                        .hasMessageContaining("expected: an object with a \"workers\" array");
            }
        }
    }

    @Test
    void scale_noLongerLeadingAfterTheRecord_startsNothing(@TempDir Path dir) {
        io.slipstream.controller.scale.ScalingJournal deposed = new io.slipstream.controller.scale.ScalingJournal() {
            final io.slipstream.controller.scale.ScalingJournal doc =
                    io.slipstream.controller.scale.ScalingJournal.inMemory();

            @Override
            public java.util.Optional<String> read() throws ScaleException {
                return doc.read();
            }

            @Override
            public void write(String json) throws ScaleException {
                doc.write(json);
            }

            @Override
            public void checkLeading() throws ScaleException {
                throw new ScaleException("no longer leads");
            }
        };
        try (LocalProcessScaleTarget target = LocalProcessScaleTarget.plain(dir, "127.0.0.1:1", null, true)
                .journal(deposed)) {
            assertThatThrownBy(() -> target.scale("wanopt", "a", 2, List.of())).hasMessage("no longer leads");
            assertThat(target.workers("wanopt", "a")).isEmpty();
            assertThat(dir).isEmptyDirectory();
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
