package io.slipstream.controller.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.slipstream.controller.scale.ScaleException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Argument checks of the local target; starting and stopping real workers is AutoscaleIT's job. */
class LocalProcessScaleTargetTest {

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
