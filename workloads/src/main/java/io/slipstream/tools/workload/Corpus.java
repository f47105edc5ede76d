package io.slipstream.tools.workload;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * A deterministic mixed corpus, the kind of bytes a WAN optimizer sees: prose-like text (Zipf-ish
 * word frequencies), JSON log lines, and binary records (slowly varying integers and floats with
 * some noise), interleaved in 16-64 KiB segments, plus a little random (already compressed) data.
 */
public final class Corpus {

    private static final String[] WORDS = ("the of and to in is was that for on with as by at from this be are "
            + "or an it not which have has but were all their can more one been they other these its also may "
            + "network traffic branch site backup share artifact compression optimizer tunnel latency bandwidth "
            + "controller worker cache policy flow request response header session server client replica stream "
            + "block chunk dedup peer window retry timeout packet segment route switch fabric cluster deploy").split(" ");
    private static final String[] LEVELS = {"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"};
    private static final String[] PATHS = {"/api/v1/objects", "/api/v1/flows", "/healthz", "/metrics",
        "/static/app.js", "/images/logo.png", "/api/v1/policies/42", "/download/backup.tar"};

    private Corpus() {
    }

    /** {@code size} bytes of the mixed corpus from {@code seed}; the same arguments give the same bytes. */
    public static byte[] generate(long seed, int size) {
        SplittableRandom r = new SplittableRandom(seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + 65536);
        long ts = 1_700_000_000_000L;
        while (out.size() < size) {
            int segment = 16 * 1024 + r.nextInt(48 * 1024);
            int kind = r.nextInt(20);
            byte[] part;
            if (kind < 7) {
                part = text(r, segment);
            } else if (kind < 14) {
                part = logs(r, segment, ts);
                ts += 60_000;
            } else if (kind < 19) {
                part = records(r, segment);
            } else {
                part = new byte[segment];
                r.nextBytes(part);
            }
            out.write(part, 0, part.length);
        }
        byte[] all = out.toByteArray();
        byte[] exact = new byte[size];
        System.arraycopy(all, 0, exact, 0, size);
        return exact;
    }

    private static String word(SplittableRandom r) {
        // Squaring a uniform variate favours the first words, roughly like natural text.
        double u = r.nextDouble();
        return WORDS[(int) (u * u * WORDS.length)];
    }

    private static byte[] text(SplittableRandom r, int size) {
        StringBuilder sb = new StringBuilder(size + 64);
        int sentence = 0;
        while (sb.length() < size) {
            String w = word(r);
            if (sentence == 0) {
                sb.append(Character.toUpperCase(w.charAt(0))).append(w, 1, w.length());
            } else {
                sb.append(w);
            }
            sentence++;
            if (sentence > 6 + r.nextInt(14)) {
                sb.append(r.nextInt(5) == 0 ? ".\n" : ". ");
                sentence = 0;
            } else {
                sb.append(r.nextInt(12) == 0 ? ", " : " ");
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] logs(SplittableRandom r, int size, long ts) {
        StringBuilder sb = new StringBuilder(size + 256);
        while (sb.length() < size) {
            ts += r.nextInt(250);
            sb.append("{\"ts\":").append(ts)
                    .append(",\"level\":\"").append(LEVELS[r.nextInt(LEVELS.length)])
                    .append("\",\"worker\":\"wanopt-a-").append(Integer.toHexString(0x1000 + r.nextInt(8)))
                    .append("\",\"flow\":\"10.1.").append(r.nextInt(4)).append('.').append(r.nextInt(256))
                    .append(":").append(1024 + r.nextInt(60000)).append("->198.18.1.").append(r.nextInt(16))
                    .append(":445\",\"path\":\"").append(PATHS[r.nextInt(PATHS.length)])
                    .append("\",\"status\":").append(r.nextInt(10) == 0 ? 404 : 200)
                    .append(",\"bytes\":").append(r.nextInt(1 << 20))
                    .append(",\"ms\":").append(String.format(java.util.Locale.ROOT, "%.3f", r.nextDouble() * 40))
                    .append(",\"msg\":\"").append(word(r)).append(' ').append(word(r)).append(' ').append(word(r))
                    .append("\"}\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] records(SplittableRandom r, int size) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        int id = r.nextInt(1 << 20);
        long counter = r.nextLong() & 0xFFFFFFFFL;
        float level = r.nextFloat() * 100;
        while (b.remaining() >= 32) {
            b.putInt(id++);
            counter += r.nextInt(64);
            b.putLong(counter);
            level += (float) (r.nextGaussian() * 0.5);
            b.putFloat(level);
            b.putShort((short) r.nextInt(16));
            b.putShort((short) 0x7E7E);
            b.putInt(r.nextInt(4) == 0 ? r.nextInt() : 0);
            b.putLong(0x0102030405060708L + (id & 7));
        }
        while (b.hasRemaining()) {
            b.put((byte) 0);
        }
        return b.array();
    }
}
