package io.slipstream.cli;

import io.slipstream.tools.net.ShapingRelay;
import io.slipstream.tools.workload.DigestSink;
import io.slipstream.tools.workload.Workloads;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo's bulk transfers from site A to the digest sink behind site B, through site A's gateway
 * (which steers each flow to site A's wanopt worker). Each transfer is checked by digest and length
 * (what the sink received against what was sent) and its WAN bytes read from the ingress worker's
 * metrics. Warm-up: a file, a 1%-edited version of it, and a fresh file during which the emulated
 * compression card fails; then, for the steady phase, near-duplicate versions and repeats until told to stop.
 */
final class BulkTransfers {

    private final DemoProgress progress;
    private final DemoTally tally;
    private final int gatewayPort;
    private final String metricsUrl;
    private final List<DemoReport.Transfer> transfers = new ArrayList<>();
    private byte[] v1;
    private byte[] latest;
    private long appBytes;
    private double wanBytes;
    /** WAN bytes / bytes of the exact repeats of file v1 in the steady phase: the first, and the latest. */
    private double repeatFirst = -1;
    private double repeatLast = -1;

    BulkTransfers(DemoProgress progress, DemoTally tally, int gatewayPort, String metricsUrl) {
        this.progress = progress;
        this.tally = tally;
        this.gatewayPort = gatewayPort;
        this.metricsUrl = metricsUrl;
    }

    /**
     * A file, then a version with 1% of its bytes rewritten in 64 scattered edits, then a fresh file
     * (the card fails while it crosses); and the edited version over the same kind of link without
     * Slipstream, for the speed-up.
     */
    DemoReport.WarmUp warmUp(DigestSink sink) throws Exception {
        v1 = Workloads.fileLike(DemoCommand.FILE_BYTES, 1);
        byte[] v2 = Workloads.edited(v1, 0.01, 2);
        send("file v1", v1);
        double withSeconds = send("file v2 (1% edited)", v2).seconds();
        send("file v3 (fresh; card fails)", Workloads.fileLike(DemoCommand.FILE_BYTES, 3));
        latest = v2;
        double withoutSeconds;
        try (ShapingRelay plainLink = new ShapingRelay(new java.net.InetSocketAddress(DemoCommand.SITE_B_HOST,
                sink.port()), DemoCommand.WAN_MBIT * 1_000_000L / 8, DemoCommand.WAN_DELAY_MILLIS)) {
            long t0 = System.nanoTime();
            DigestSink.Receipt receipt = DigestSink.sendForReceipt(plainLink.port(), v2);
            withoutSeconds = (System.nanoTime() - t0) / 1e9;
            tally.transfer(v2.length, receipt.length(), receipt.digest().equals(DigestSink.digestOf(v2)));
        }
        progress.say(String.format(Locale.ROOT, "the same file v2 without Slipstream over the same link: %.2f s"
                + " (%.1fx slower)", withoutSeconds, withoutSeconds / withSeconds));
        return new DemoReport.WarmUp(withoutSeconds / withSeconds, withoutSeconds);
    }

    /**
     * Near-duplicate versions (each 1% edited from the one before: overwrites, insertions and deletions) and,
     * every third, an exact repeat of v1.
     */
    void steady(AtomicBoolean stop) throws Exception {
        for (int k = 1; !stop.get(); k++) {
            if (k % 3 == 0) {
                DemoReport.Transfer repeat = send("repeat of file v1", v1);
                double ratio = (double) repeat.wanBytes() / v1.length;
                synchronized (this) {
                    repeatFirst = repeatFirst < 0 ? ratio : repeatFirst;
                    repeatLast = ratio;
                }
            } else {
                latest = Workloads.edited(latest, 0.01, 100 + k);
                send("near-duplicate #" + k, latest);
            }
        }
    }

    /** Sends one file, checks it, counts it, prints it. */
    private synchronized DemoReport.Transfer send(String name, byte[] bytes) throws Exception {
        double wanBefore = wanBytes();
        long t0 = System.nanoTime();
        DigestSink.Receipt receipt = sendWithRetry(bytes);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double wan = wanBytes() - wanBefore;
        boolean intact = tally.transfer(bytes.length, receipt.length(),
                receipt.digest().equals(DigestSink.digestOf(bytes)));
        appBytes += bytes.length;
        wanBytes += wan;
        progress.say(String.format(Locale.ROOT, "WAN transfer %-28s %6.1f MiB in %5.2f s: %8.2f MiB on the WAN"
                        + " (%5.1f%%), digest %s", name, bytes.length / 1048576.0, seconds, wan / 1048576.0,
                100 * wan / bytes.length, intact ? "ok" : "MISMATCH"));
        DemoReport.Transfer transfer = new DemoReport.Transfer(name, bytes.length, (long) wan, seconds, intact);
        transfers.add(transfer);
        return transfer;
    }

    /**
     * The ingress worker's WAN bytes of the bulk policy so far (not those of the chained web traffic, which
     * crosses the same wanopt pair meanwhile).
     */
    private double wanBytes() throws Exception {
        return DemoRun.sum(DemoRun.metricsText(metricsUrl), "slipstream_wanopt_bytes_wan",
                "policy=\"" + DemoCommand.BULK_POLICY + "\"");
    }

    private DigestSink.Receipt sendWithRetry(byte[] bytes) throws Exception {
        IOException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            if (attempt > 0) {
                tally.retries.incrementAndGet();
            }
            try {
                DigestSink.Receipt receipt = DigestSink.sendForReceipt(gatewayPort, bytes);
                if (!receipt.digest().isEmpty()) {
                    return receipt;
                }
            } catch (IOException e) {
                last = e;
            }
            // The tunnel between the sites may still be coming up.
            DemoRun.pause(Duration.ofMillis(200));
        }
        progress.say("no transfer through the tunnel after 50 attempts: " + last);
        return new DigestSink.Receipt("", -1);
    }

    /** The run's bulk totals: WAN against application bytes over every transfer, and the digest checks. */
    synchronized DemoReport.Bulk totals() {
        // An exact repeat of v1 must cost no more at the end of the run than at its start (the chunk store keeps it).
        return new DemoReport.Bulk(List.copyOf(transfers), appBytes, (long) wanBytes,
                appBytes == 0 ? 0 : wanBytes / appBytes, tally.transfers.get(), tally.bulkSent.get(),
                tally.bulkReceived.get(), tally.retries.get(), tally.corrupted.get(), tally.lost.get(), repeatFirst,
                repeatLast);
    }
}
