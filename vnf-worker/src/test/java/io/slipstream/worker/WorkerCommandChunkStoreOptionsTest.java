package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Chunk store sizes a user can get wrong are refused before anything starts, saying what is expected. */
class WorkerCommandChunkStoreOptionsTest {

    private static String refusal(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new WorkerCommand());
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        assertThat(exit).as("exit code of %s", String.join(" ", args)).isNotZero();
        return err.toString();
    }

    @Test
    void start_storeSizeOutOfRange_refusedNamingTheRange() {
        assertThat(refusal("--role", "wanopt", "--site", "a", "--zookeeper", "127.0.0.1:1", "--insecure-plaintext",
                "--chunk-store-gib", "0")).contains("--chunk-store-gib: 0.0 (expected: 0.01..1000)");
        assertThat(refusal("--role", "wanopt", "--site", "a", "--zookeeper", "127.0.0.1:1", "--insecure-plaintext",
                "--chunk-store-gib", "NaN")).contains("--chunk-store-gib: NaN (expected: 0.01..1000)");
        assertThat(refusal("--role", "wanopt", "--site", "a", "--zookeeper", "127.0.0.1:1", "--insecure-plaintext",
                "--chunk-store-memory-mib", "-1"))
                .contains("--chunk-store-memory-mib: -1 (expected: 1..1048576, or 0 for the store on disk)");
    }

    @Test
    void start_storeSizeNotANumber_refusedByTheParser() {
        assertThat(refusal("--role", "wanopt", "--site", "a", "--zookeeper", "127.0.0.1:1", "--insecure-plaintext",
                "--chunk-store-gib", "lots")).contains("--chunk-store-gib").contains("lots");
    }
}
