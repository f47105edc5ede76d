package io.slipstream.controller.standalone;

import io.slipstream.common.AdminHttpServer;
import io.slipstream.common.AdminHttpServer.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The fleet status page: static HTML, JavaScript and CSS from the classpath ({@code status/}), served as
 * they are, and the chart library uPlot from its WebJar; the page polls {@code /api/status} and
 * {@code /api/status/history} for its data. No external resources: it works offline.
 */
final class StatusPage {

    /** The uPlot WebJar's files (org.webjars.npm:uplot, the version in controller-app's pom). */
    private static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/";

    private static final Map<String, String[]> FILES = Map.of(
            "/", new String[] {"status/index.html", "text/html; charset=utf-8"},
            "/status", new String[] {"status/index.html", "text/html; charset=utf-8"},
            "/status.js", new String[] {"status/status.js", "text/javascript; charset=utf-8"},
            "/status.css", new String[] {"status/status.css", "text/css; charset=utf-8"},
            // uPlot (MIT), from its WebJar on the classpath.
            "/vendor/uPlot.iife.min.js", new String[] {UPLOT + "dist/uPlot.iife.min.js", "text/javascript; charset=utf-8"},
            "/vendor/uPlot.min.css", new String[] {UPLOT + "dist/uPlot.min.css", "text/css; charset=utf-8"},
            "/vendor/uPlot.LICENSE", new String[] {UPLOT + "LICENSE", "text/plain; charset=utf-8"});

    private StatusPage() {}

    /** Adds the page's routes; the files are read once, here, so a missing one fails the start. */
    static void routes(AdminHttpServer http) {
        FILES.forEach((path, file) -> {
            byte[] body = read(file[0]);
            String type = file[1];
            http.route(path, (method, query, ignored) -> "GET".equals(method)
                    ? Response.of(200, type, body)
                    : Response.text(405, "method " + method + " not allowed (expected: GET)\n"));
        });
    }

    private static byte[] read(String resource) {
        try (InputStream in = StatusPage.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("status page resource " + resource + " missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
