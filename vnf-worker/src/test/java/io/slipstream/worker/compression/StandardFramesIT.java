package io.slipstream.worker.compression;

import io.slipstream.worker.compression.runtime.CompressionConfig;
import io.slipstream.worker.compression.runtime.CompressionProviderRegistry;
import io.slipstream.worker.compression.runtime.ResilientCompressor;
import io.slipstream.worker.compression.software.SoftwareCompressionProvider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Payloads are standard frames: the stock command line tools decode ours, and our engines decode
 * theirs. Runs the real {@code zstd}, {@code lz4} and {@code gzip} tools (Debian packages zstd, lz4,
 * gzip); skipped for a tool that is not installed.
 */
class StandardFramesIT {

    @TempDir
    Path dir;

    private static boolean installed(String tool) {
        try {
            return new ProcessBuilder(tool, "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void run(Path in, Path out, String... cmd) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(cmd));
        Process p = new ProcessBuilder(args).redirectInput(in.toFile()).redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertThat(p.waitFor()).as(String.join(" ", args)).isZero();
    }

    @ParameterizedTest
    @CsvSource({"ZSTD, zstd", "LZ4, lz4", "GZIP, gzip"})
    void payload_stockToolBothWays_sameBytes(Codec codec, String tool) throws Exception {
        assumeTrue(installed(tool), () -> tool + " is not installed (Debian package " + tool + ")");
        byte[] original = TestData.mixed(77, 500_000);
        Path orig = Files.write(dir.resolve("orig"), original);
        try (CompressionProviderRegistry r = CompressionProviderRegistry.builder().loadServices(false)
                .addProvider(new SoftwareCompressionProvider()).build()) {
            ResilientCompressor c = r.compressor(CompressionConfig.builder().codec(codec).build());
            ByteBuffer envelope = c.compress(ByteBuffer.wrap(original));
            envelope.position(ResilientCompressor.HEADER_BYTES);
            Path ours = Files.write(dir.resolve("ours"), TestData.bytes(envelope));
            Path decoded = dir.resolve("decoded");
            run(ours, decoded, tool, "-d", "-c");
            assertThat(Files.readAllBytes(decoded)).as("%s decodes our payload", tool).isEqualTo(original);

            Path theirs = dir.resolve("theirs");
            run(orig, theirs, tool, "-c");
            CompressionEngine engine = r.engine(r.software(codec), codec, 0);
            ByteBuffer out = ByteBuffer.allocate(original.length);
            engine.decompress(ByteBuffer.wrap(Files.readAllBytes(theirs)), out);
            assertThat(TestData.bytes(out.flip())).as("we decode %s's frame", tool).isEqualTo(original);
        }
    }

    @ParameterizedTest
    @CsvSource({"-B4, true", "-B7, true", "-BX, true", "--content-size, true", "-B4 -BD, false"})
    void lz4_framesWithOptionsFromTheTool_decodedOrRejectedCleanly(String option, boolean supported) throws Exception {
        assumeTrue(installed("lz4"), "lz4 is not installed (Debian package lz4)");
        byte[] original = TestData.mixed(78, 2_000_000);
        Path orig = Files.write(dir.resolve("orig"), original);
        Path theirs = dir.resolve("theirs");
        List<String> cmd = new ArrayList<>(List.of("lz4"));
        cmd.addAll(List.of(option.split(" ")));
        cmd.add("-c");
        run(orig, theirs, cmd.toArray(new String[0]));
        CompressionEngine engine = new SoftwareCompressionProvider().engine(Codec.LZ4, 0);
        ByteBuffer out = ByteBuffer.allocate(original.length);
        ByteBuffer frame = ByteBuffer.wrap(Files.readAllBytes(theirs));
        if (supported) {
            engine.decompress(frame, out);
            assertThat(TestData.bytes(out.flip())).isEqualTo(original);
        } else {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine.decompress(frame, out))
                    .isInstanceOf(CorruptBlockException.class).hasMessageContaining("linked blocks");
        }
    }
}
