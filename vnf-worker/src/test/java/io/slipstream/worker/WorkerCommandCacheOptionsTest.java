package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WorkerCommandCacheOptionsTest {

    @Test
    void cacheTargets_commaSeparated_areParsedInOrder() {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs("--role", "cache", "--site", "a", "--cache-targets",
                "Slipstream-Cache-Control,Edge-Cache-Control");
        assertThat(command.cacheTargets).containsExactly("Slipstream-Cache-Control", "Edge-Cache-Control");
    }

    @Test
    void cacheTargets_badFieldName_isRefusedSayingWhatIsExpected() {
        assertThatThrownBy(() -> CacheRoleSettings.defaults().withTargets(List.of("Bad Name")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cache target: 'Bad Name' (expected: a header field name");
    }

    @Test
    void cacheDisk_dirAndGib_parsedIntoTheDiskTierSettings() {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs("--role", "cache", "--site", "a", "--cache-disk-dir", "/var/cache/ss",
                "--cache-disk-gib", "3");
        assertThat(command.cacheDisk()).isEqualTo(new CacheRoleSettings.Disk(java.nio.file.Path.of("/var/cache/ss"),
                3L << 30));
    }

    @Test
    void cacheDisk_noDir_isOff() {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs("--role", "cache", "--site", "a");
        assertThat(command.cacheDisk()).isEqualTo(CacheRoleSettings.Disk.OFF);
    }

    @Test
    void cacheDisk_zeroGib_isRefusedSayingWhatIsExpected() {
        WorkerCommand command = new WorkerCommand();
        new CommandLine(command).parseArgs("--role", "cache", "--site", "a", "--cache-disk-dir", "/tmp/d",
                "--cache-disk-gib", "0");
        assertThatThrownBy(command::cacheDisk).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--cache-disk-gib: 0 (expected: 1..1048576)");
    }
}
