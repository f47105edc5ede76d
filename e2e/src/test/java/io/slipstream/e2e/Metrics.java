package io.slipstream.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a process's Prometheus {@code /metrics} page and sums series of it (the e2e tests and the chaos suite). */
public final class Metrics {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Metrics() {}

    public static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET " + url + ": HTTP " + r.statusCode());
        }
        return r.body();
    }

    /** The metrics page of {@code hostPort} ({@code host:port}). */
    public static String scrape(String hostPort) throws IOException, InterruptedException {
        return get("http://" + hostPort + "/metrics");
    }

    /**
     * The sum of every sample of {@code name} (that series, or one that adds suffixes such as {@code _bytes_total})
     * whose labels contain each of
     * {@code labels} (e.g. {@code result="changed"}); 0 when there is none.
     */
    public static double sum(String page, String name, String... labels) {
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

    /** The sum of every sample of exactly the series {@code name} whose labels contain all of {@code labels} ("k=\"v\"" pairs). */
    public static double sumExact(String metricsText, String name, String... labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(\\{[^}]*})? (\\S+)$").matcher(metricsText);
        double total = 0;
        while (m.find()) {
            String tags = m.group(1) == null ? "" : m.group(1);
            boolean all = true;
            for (String l : labels) {
                all &= tags.contains(l);
            }
            if (all) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }
}
