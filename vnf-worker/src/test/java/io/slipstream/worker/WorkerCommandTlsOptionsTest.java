package io.slipstream.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.worker.wanopt.TestCertificates;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The worker refuses to start without a transport security choice, or with a certificate not its own. */
class WorkerCommandTlsOptionsTest {

    @TempDir
    Path dir;

    private String refusal(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new WorkerCommand());
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        assertThat(exit).as("exit code of %s", String.join(" ", args)).isNotZero();
        return err.toString();
    }

    @Test
    void start_neitherTlsNorPlaintext_refusedSayingWhatToAdd() {
        assertThat(refusal("--role", "wanopt", "--site", "a", "--zookeeper", "127.0.0.1:1"))
                .contains("no transport security configured (expected: --tls-dir DIR")
                .contains("--insecure-plaintext for development");
    }

    @Test
    void start_plaintextAndTlsFiles_refused() throws Exception {
        new TestCertificates(dir, "fleet").issueInto(dir.resolve("w"), "urn:slipstream:worker:a:w1");
        assertThat(refusal("--role", "wanopt", "--site", "a", "--id", "w1", "--tls-dir", dir.resolve("w").toString(),
                "--insecure-plaintext")).contains("--insecure-plaintext with TLS files (expected: one or the other)");
    }

    @Test
    void start_someButNotAllFiles_refusedNamingTheCount() {
        assertThat(refusal("--role", "wanopt", "--site", "a", "--tls-cert", dir.resolve("x.pem").toString()))
                .contains("1 of the certificate, key and CA files given (expected: all three)");
    }

    @Test
    void start_certificateOfAnotherSite_refusedNamingBothIdentities() throws Exception {
        new TestCertificates(dir, "fleet").issueInto(dir.resolve("w"), "urn:slipstream:worker:a:w1");
        assertThat(refusal("--role", "wanopt", "--site", "b", "--id", "w1", "--tls-dir", dir.resolve("w").toString()))
                .contains("names urn:slipstream:worker:a:w1 (expected: urn:slipstream:worker:b:w1");
    }

    @Test
    void start_missingKeyFile_refusedNamingTheFile() throws Exception {
        new TestCertificates(dir, "fleet").issueInto(dir.resolve("w"), "urn:slipstream:worker:a:w1");
        java.nio.file.Files.delete(dir.resolve("w").resolve("tls.key"));
        assertThat(refusal("--role", "wanopt", "--site", "a", "--tls-dir", dir.resolve("w").toString()))
                .contains("tls.key: not readable (expected: a readable PEM file)");
    }
}
