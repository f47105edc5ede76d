package io.slipstream.e2e.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Reads a process's Prometheus {@code /metrics} page and sums series of it. */
final class ControlMetrics {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ControlMetrics() {}

    static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + url + ": HTTP " + r.statusCode());
        }
        return r.body();
    }

    /** The metrics page of {@code hostPort} ({@code host:port}). */
    static String scrape(String hostPort) throws IOException, InterruptedException {
        return get("http://" + hostPort + "/metrics");
    }

    /**
     * The sum of every sample of {@code name} (that series, or one that adds suffixes such as {@code _bytes_total})
     * whose labels contain each of
     * {@code labels} (e.g. {@code result="changed"}); 0 when there is none.
     */
    static double sum(String page, String name, String... labels) {
        double total = 0;
        for (String line : page.split("\n")) {
            if (line.startsWith("#") || !line.startsWith(name) || line.length() == name.length()
                    || "{ _".indexOf(line.charAt(name.length())) < 0 || line.contains("_created")) {
                continue;
            }
            boolean all = true;
            for (String label : labels) {
                all &= line.contains(label);
            }
            if (all) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }
}
