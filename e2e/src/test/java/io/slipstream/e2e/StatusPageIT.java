package io.slipstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.slipstream.controller.local.LocalWorkerProcess;
import io.slipstream.proto.v1.FleetPolicy;
import io.slipstream.tools.net.Ports;
import java.io.File;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The fleet status page in a real headless chromium (Debian's {@code chromium} and {@code chromium-driver},
 * driven by Selenium through {@code /usr/bin/chromedriver}; Selenium Manager is never asked for a driver):
 * it loads, shows every worker with its role and health and the cache's hit ratio, and shows a worker
 * killed with -9 as down or gone, with an event, without a reload. Issue 19: every chart draws points that
 * move while traffic runs, a kill puts a marker on the time axis, the event filter and a line's raw events work,
 * a worker's page opens from its row, drain is refused without the operator token, and the page reconnects
 * after a controller restart. A screenshot goes to {@code target/status-page.png}.
 */
@Timeout(150)
class StatusPageIT {

    /** Debian's paths; {@code -Dslipstream.test.chromedriver=} / {@code -Dslipstream.test.chromium=} override them. */
    private static final File CHROMEDRIVER =
            new File(System.getProperty("slipstream.test.chromedriver", "/usr/bin/chromedriver"));
    private static final File CHROMIUM = new File(System.getProperty("slipstream.test.chromium", "/usr/bin/chromium"));
    private static final Duration PAGE_WAIT = Duration.ofSeconds(30);

    @Test
    void statusPage_workerKilled_showsItDownAndAnEventWithoutReload(@TempDir Path logs) throws Exception {
        Assumptions.assumeTrue(CHROMEDRIVER.canExecute() && CHROMIUM.canExecute(),
                "StatusPageIT needs Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                        + " not both executable): apt-get install chromium chromium-driver (listed in bin/test-packages)");
        HttpServer origin = origin();
        try (Fleet fleet = new Fleet(logs)) {
            fleet.startController(FleetPolicy.getDefaultInstance());
            String originUrl = "http://127.0.0.1:" + origin.getAddress().getPort();
            LocalWorkerProcess victim = fleet.startWorker("cache-a1", "cache", "a", "--origin", originUrl);
            fleet.startWorker("cache-a2", "cache", "a", "--origin", originUrl);
            fleet.startWorker("wanopt-b1", "wanopt", "b");
            // Explicit mode: connections to forwardPort are carried through wanopt-b1 to the origin.
            int forwardPort = Ports.free();
            fleet.startWorker("wanopt-a1", "wanopt", "a", "--forward",
                    forwardPort + "=127.0.0.1:" + origin.getAddress().getPort() + "@b");
            fleet.awaitServingAndConfigured("cache-a1", "cache-a2", "wanopt-b1", "wanopt-a1");
            // Two requests for one object through a cache worker: a miss, then a hit at the key's owner.
            String cache = "http://" + fleet.controller.fleet().snapshot().worker("cache-a2").record().dataEndpoint();
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            for (int i = 0; i < 2; i++) {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(cache + "/object"))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).isEqualTo("cacheable object");
            }
            // 4 MiB of repetitive application bytes through the WAN optimizer (the origin swallows the body).
            byte[] upload = new byte[4 << 20];
            for (int i = 0; i < upload.length; i++) {
                upload[i] = (byte) ("slipstream status page " + (i / 4096)).charAt(i % 23);
            }
            await().atMost(PAGE_WAIT).ignoreExceptions().untilAsserted(() -> assertThat(client.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + forwardPort + "/upload"))
                            .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).isEqualTo("received " + upload.length));
            String base = "http://127.0.0.1:" + fleet.controller.httpPort();
            assertStatusDocument(client, base);
            assertHistoryRoutes(client, base);
            // Bad requests: a clear status, nothing else harmed.
            assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/api/status"))
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString())
                    .body()).startsWith("method POST not allowed (expected: GET)");
            assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/status/../nothing-here")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            // Series the Grafana dashboard queries, as the Prometheus endpoints really name them.
            assertThat(get(client, base + "/metrics")).contains("slipstream_controller_workers{",
                    "slipstream_controller_received_bytes_per_second{role=\"wanopt\"", "slipstream_controller_status_history_bytes ");
            String workerMetrics = get(client,
                    "http://" + fleet.controller.fleet().snapshot().worker("cache-a2").record().metricsEndpoint() + "/metrics");
            assertThat(workerMetrics).contains("slipstream_cache_hits_total", "slipstream_cache_misses_total",
                    "slipstream_cache_origin_requests_total", "slipstream_cache_origin_bytes_total", "slipstream_worker_active_flows{");
            String wanoptMetrics = get(client,
                    "http://" + fleet.controller.fleet().snapshot().worker("wanopt-b1").record().metricsEndpoint() + "/metrics");
            assertThat(wanoptMetrics).contains("slipstream_compression_queue_depth", "slipstream_worker_serving{");

            // Traffic while the page is open: hits and misses through the cache, uploads through the WAN
            // optimizer, and one connection held open through each so open flows show.
            java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread traffic = new Thread(() -> traffic(client, cache, forwardPort, upload, running), "status-traffic");
            traffic.setDaemon(true);
            traffic.start();
            java.net.Socket heldCache = new java.net.Socket("127.0.0.1",
                    Integer.parseInt(cache.substring(cache.lastIndexOf(':') + 1)));
            java.net.Socket heldWan = new java.net.Socket("127.0.0.1", forwardPort);
            WebDriver browser = browser(logs);
            try {
                browser.get(base + "/status");
                assertThat(browser.getTitle()).isEqualTo("Slipstream fleet");
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(workerRows(browser)).containsAllEntriesOf(
                        Map.of("cache-a1", "cache serving", "cache-a2", "cache serving",
                                "wanopt-b1", "wanopt serving", "wanopt-a1", "wanopt serving")));
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(savingsRow(browser, "WAN bytes saved"))
                        .matches("\\d+\\.\\d MiB"));
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(savingsRow(browser, "Cache hit ratio"))
                        .matches("\\d+\\.\\d %"));
                assertThat(browser.findElement(By.id("connection")).getText()).isEqualTo("live");
                assertThat(firstColumn(browser, "sites")).contains("a", "b");
                assertThat(firstColumn(browser, "roles")).containsExactly("cache", "wanopt");
                assertChartsDrawAndMove(browser);
                // A marker in the page's JavaScript state: still there afterwards means no reload happened.
                ((JavascriptExecutor) browser).executeScript("window.slipstreamTestMarker = 'before-kill';");

                long killedAt = System.nanoTime();
                victim.kill();
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(workerRows(browser).get("cache-a1"))
                        .isIn("cache down", "cache gone"));
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(events(browser, "cache-a1", "down"))
                        .isPositive());
                System.out.printf("STATUS PAGE: kill -9 of cache-a1 shown on the page after %.0f ms%n",
                        (System.nanoTime() - killedAt) / 1e6);
                assertThat(((JavascriptExecutor) browser).executeScript("return window.slipstreamTestMarker;"))
                        .as("page not reloaded").isEqualTo("before-kill");
                assertThat(workerRows(browser)).containsEntry("cache-a2", "cache serving")
                        .containsEntry("wanopt-b1", "wanopt serving");
                // The death is marked on the charts' time axis.
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(chart(browser, "fleet_size").get("markerKinds"))
                        .asList().contains("death:cache-a1"));
                assertEventFilter(browser);
                assertWorkerPage(browser);

                // Drain refused without a token (nothing sent) and with a wrong one (401), the worker still serving.
                ((JavascriptExecutor) browser).executeScript("window.sessionStorage.removeItem('slipstream.adminToken');"
                        + " window.confirm = function () { return true; }; window.prompt = function () { return null; };");
                click(browser, "#workers tr[data-worker-id='cache-a2'] button.drain");
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(
                        browser.findElement(By.id("admin-result")).getText()).isEqualTo("no token given; nothing sent"));
                ((JavascriptExecutor) browser).executeScript(
                        "window.prompt = function () { return 'not-the-operator-token-000000'; };");
                click(browser, "#workers tr[data-worker-id='cache-a2'] button.drain");
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(
                        browser.findElement(By.id("admin-result")).getText()).contains("drain: 401"));
                assertThat(workerRows(browser)).containsEntry("cache-a2", "cache serving");
                Path shot = Files.createDirectories(Path.of("target")).resolve("status-page.png");
                Files.write(shot, ((org.openqa.selenium.TakesScreenshot) browser)
                        .getScreenshotAs(org.openqa.selenium.OutputType.BYTES));
                System.out.println("STATUS PAGE screenshot: " + shot.toAbsolutePath());

                // Issue 10: the Drain button sends the operator token the page keeps for the tab.
                ((JavascriptExecutor) browser).executeScript("window.sessionStorage.setItem('slipstream.adminToken',"
                        + " arguments[0]); window.confirm = function () { return true; };", Fleet.OPERATOR_TOKEN);
                click(browser, "#workers tr[data-worker-id='cache-a2'] button.drain");
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(
                        browser.findElement(By.id("admin-result")).getText()).contains("drain: 200"));
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(workerRows(browser).get("cache-a2"))
                        .isIn("cache not_serving", "cache gone"));

                // The controller restarts on the same port: the page says it is unreachable, then reconnects and
                // says the history starts again, without a reload.
                int port = fleet.controller.httpPort();
                fleet.controller.close();
                await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(
                        browser.findElement(By.id("connection")).getText()).startsWith("controller unreachable"));
                fleet.startController(restartSettings(fleet, port));
                await().atMost(PAGE_WAIT).untilAsserted(() -> {
                    assertThat(browser.findElement(By.id("connection")).getText()).isEqualTo("live");
                    assertThat(browser.findElement(By.id("reconnect-note")).getText())
                            .contains("the controller restarted at");
                });
                assertThat(((JavascriptExecutor) browser).executeScript("return window.slipstreamTestMarker;"))
                        .as("page not reloaded").isEqualTo("before-kill");
            } finally {
                running.set(false);
                heldCache.close();
                heldWan.close();
                browser.quit();
            }
        } finally {
            origin.stop(0);
        }
    }

    /** Settings like {@link Fleet#startController(FleetPolicy)}'s, on a given HTTP port. */
    private static io.slipstream.controller.standalone.ControllerSettings restartSettings(Fleet fleet, int port)
            throws Exception {
        return io.slipstream.controller.standalone.ControllerSettings.builder(fleet.zk.getConnectString())
                .http("127.0.0.1", port)
                .membershipGrace(Duration.ofSeconds(20))
                .loadIntervalMillis(200)
                .policy(FleetPolicy.getDefaultInstance())
                .adminAccess(io.slipstream.controller.standalone.AdminAccess.of(
                        io.slipstream.controller.standalone.AdminTokens.parse("e2e:operator:" + Fleet.OPERATOR_TOKEN),
                        false, false))
                .devCa(fleet.ca())
                .build();
    }

    /** Requests until told to stop: a hit and a miss through the cache, 256 KiB through the WAN optimizer. */
    private static void traffic(HttpClient client, String cache, int forwardPort, byte[] upload,
                                java.util.concurrent.atomic.AtomicBoolean running) {
        byte[] part = java.util.Arrays.copyOf(upload, 256 << 10);
        for (int i = 0; running.get(); i++) {
            try {
                client.send(HttpRequest.newBuilder(URI.create(cache + "/object")).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.discarding());
                client.send(HttpRequest.newBuilder(URI.create(cache + "/object?miss=" + i))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
                client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + forwardPort + "/upload"))
                        .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofByteArray(part)).build(),
                        HttpResponse.BodyHandlers.discarding());
            } catch (Exception e) {
                // A killed or drained worker fails some requests; the loop goes on.
            }
        }
    }

    /** The history, events and worker routes, and their answers to bad requests. */
    private static void assertHistoryRoutes(HttpClient client, String base) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        JsonNode history = mapper.readTree(get(client, base + "/api/status/history"));
        assertThat(history.path("capacity").asInt()).isEqualTo(900);
        assertThat(history.path("charts")).extracting(c -> c.path("id").asText()).containsExactly("wan_bytes",
                "wan_ratio", "cache_requests", "cache_hit_ratio", "cache_origin_bytes", "role_flows", "role_throughput",
                "fleet_size");
        assertThat(history.path("memory_bytes").asLong()).isPositive();
        JsonNode worker = mapper.readTree(get(client, base + "/api/status/workers/wanopt-a1"));
        assertThat(worker.path("config_generation").asLong()).isPositive();
        assertThat(worker.path("config_digest").asText()).isNotEmpty();
        assertThat(worker.path("counters").path("wanopt_app_bytes").asLong()).isGreaterThanOrEqualTo(4 << 20);
        assertThat(get(client, base + "/vendor/uPlot.iife.min.js")).contains("uPlot");
        Map<String, Integer> bad = Map.of(
                "/api/status/history?since=0", 400,
                "/api/status/events?site=a", 400,
                "/api/status/events?worker=%3Cb%3E", 400,
                "/api/status/workers/nobody", 404,
                "/api/status/workers/a/b", 404);
        for (Map.Entry<String, Integer> e : bad.entrySet()) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(base + e.getKey())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(e.getKey()).isEqualTo(e.getValue());
            assertThat(mapper.readTree(r.body()).path("error").asText()).as(e.getKey()).contains("expected");
        }
        assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/api/status/history"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString())
                .statusCode()).isEqualTo(405);
    }

    private static final List<String> CHARTS = List.of("wan_bytes", "wan_ratio", "cache_requests", "cache_hit_ratio",
            "cache_origin_bytes", "role_flows", "role_throughput", "fleet_size");

    /** What the chart's last draw showed (points, max, lastX, draws, markers, markerKinds), from the page. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> chart(WebDriver browser, String id) {
        Object state = ((JavascriptExecutor) browser).executeScript(
                "var s = window.slipstreamCharts[arguments[0]]; return s ? JSON.parse(JSON.stringify(s)) : null;", id);
        assertThat(state).as("chart %s on the page", id).isNotNull();
        return (Map<String, Object>) state;
    }

    /** Every chart drew data points with a non-zero value, and draws newer points a few seconds later. */
    private static void assertChartsDrawAndMove(WebDriver browser) {
        Map<String, Number> firstX = new java.util.HashMap<>();
        Map<String, Number> firstPoints = new java.util.HashMap<>();
        await().atMost(PAGE_WAIT).untilAsserted(() -> {
            for (String id : CHARTS) {
                Map<String, Object> c = chart(browser, id);
                assertThat(((Number) c.get("points")).intValue()).as("points drawn in %s", id).isPositive();
                assertThat(c.get("max")).as("largest value drawn in %s", id).isNotNull();
                assertThat(((Number) c.get("max")).doubleValue()).as("largest value drawn in %s", id).isPositive();
                firstX.put(id, (Number) c.get("lastX"));
                firstPoints.put(id, (Number) c.get("points"));
            }
        });
        await().atMost(PAGE_WAIT).untilAsserted(() -> {
            for (String id : CHARTS) {
                Map<String, Object> c = chart(browser, id);
                assertThat(((Number) c.get("lastX")).doubleValue()).as("newest time in %s", id)
                        .isGreaterThan(firstX.get(id).doubleValue() + 1);
                assertThat(((Number) c.get("points")).intValue()).as("points in %s", id)
                        .isGreaterThan(firstPoints.get(id).intValue());
            }
        });
    }

    /** The event list filtered by kind and by worker, a line's raw events one click away, then no filter. */
    @SuppressWarnings("unchecked")
    private static void assertEventFilter(WebDriver browser) {
        JavascriptExecutor js = (JavascriptExecutor) browser;
        String lines = "return Array.from(document.querySelectorAll('#events > li')).map(function (li) {"
                + " return li.getAttribute('data-kind') + '|' + li.getAttribute('data-workers'); });";
        await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat((List<String>) js.executeScript(lines))
                .anyMatch(l -> l.startsWith("joined|")).anyMatch(l -> l.startsWith("down|")));
        choose(browser, "event-kind", "down");
        await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat((List<String>) js.executeScript(lines))
                .isNotEmpty().allMatch(l -> l.startsWith("down|")).anyMatch(l -> l.contains("cache-a1")));
        choose(browser, "event-kind", "");
        choose(browser, "event-worker", "wanopt-b1");
        await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat((List<String>) js.executeScript(lines))
                .isNotEmpty().allMatch(l -> List.of(l.split("\\|", 2)[1].split(" ")).contains("wanopt-b1")));
        choose(browser, "event-worker", "");
        choose(browser, "event-role", "cache");
        await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat((List<String>) js.executeScript(
                "return Array.from(document.querySelectorAll('#events > li')).map(function (li) {"
                        + " return li.getAttribute('data-roles'); });")).isNotEmpty().allMatch(r -> r.contains("cache")));
        // The raw detail: open the down line of cache-a1.
        choose(browser, "event-role", "");
        choose(browser, "event-worker", "cache-a1");
        choose(browser, "event-kind", "down");
        await().atMost(PAGE_WAIT).ignoreExceptions().untilAsserted(() -> {
            js.executeScript("var s = document.querySelector('#events > li summary'); if (s) { s.click(); }");
            assertThat((String) js.executeScript("var d = document.querySelector('#events > li details[open] .raw');"
                    + " return d ? d.textContent : '';")).contains("down cache-a1");
        });
        for (String id : List.of("event-worker", "event-role", "event-kind")) {
            choose(browser, id, "");
        }
    }

    /**
     * Clicks the element as a user would, found and clicked in one script call: the page redraws its tables every
     * second, so an element found in one WebDriver call can be stale in the next.
     */
    private static void click(WebDriver browser, String css) {
        assertThat((Boolean) ((JavascriptExecutor) browser).executeScript(
                "var e = document.querySelector(arguments[0]); if (!e) { return false; } e.click(); return true;", css))
                .as("element %s on the page", css).isTrue();
    }

    /** Picks a value of a select on the page as a user would (the option must be offered), firing change. */
    private static void choose(WebDriver browser, String selectId, String value) {
        await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat((Boolean) ((JavascriptExecutor) browser).executeScript(
                "var s = document.getElementById(arguments[0]), v = arguments[1];"
                        + " if (!Array.from(s.options).some(function (o) { return o.value === v; })) { return false; }"
                        + " s.value = v; s.dispatchEvent(new Event('change')); return true;", selectId, value))
                .as("option %s of %s", value, selectId).isTrue());
    }

    /** A click on a worker opens its page: configuration, providers, counters and its load drawn. */
    private static void assertWorkerPage(WebDriver browser) {
        JavascriptExecutor js = (JavascriptExecutor) browser;
        click(browser, "#workers tr[data-worker-id='wanopt-a1'] a.worker-link");
        await().atMost(PAGE_WAIT).untilAsserted(() -> {
            assertThat(browser.findElement(By.id("worker-page")).isDisplayed()).isTrue();
            assertThat(browser.findElement(By.id("worker-title")).getText()).isEqualTo("wanopt-a1");
            assertThat((String) js.executeScript("return document.getElementById('worker-facts').textContent;"))
                    .contains("Configuration generation", "Configuration digest", "serving");
            assertThat((Long) js.executeScript(
                    "return document.querySelectorAll('#worker-providers tbody tr').length;")).isPositive();
            assertThat((String) js.executeScript("return document.getElementById('worker-counters').textContent;"))
                    .contains("wanopt_app_bytes");
            assertThat(((Number) chart(browser, "worker_bytes").get("points")).intValue()).isPositive();
        });
        js.executeScript("window.location.hash = '';");
        await().atMost(PAGE_WAIT).untilAsserted(() -> assertThat(browser.findElement(By.id("worker-page")).isDisplayed())
                .isFalse());
    }

    private static String get(HttpClient client, String url) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", url).isEqualTo(200);
        return r.body();
    }

    /** The JSON behind the page: every part present, the cache's counters from the workers' load reports. */
    private static void assertStatusDocument(HttpClient client, String base) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        await().atMost(PAGE_WAIT).untilAsserted(() -> {
            JsonNode doc = mapper.readTree(client.send(HttpRequest.newBuilder(URI.create(base + "/api/status"))
                    .build(), HttpResponse.BodyHandlers.ofString()).body());
            assertThat(doc.path("workers")).hasSize(4);
            assertThat(doc.path("roles")).hasSize(2);
            assertThat(doc.path("placement").isArray()).isTrue();
            assertThat(doc.path("events").size()).isGreaterThan(0);
            JsonNode savings = doc.path("savings");
            assertThat(savings.path("cache_lookups").asLong()).isGreaterThanOrEqualTo(2);
            assertThat(savings.path("cache_hits").asLong()).isGreaterThanOrEqualTo(1);
            assertThat(savings.path("cache_origin_requests").asLong()).isGreaterThanOrEqualTo(1);
            assertThat(savings.path("cache_hit_ratio").asDouble()).isBetween(0.0, 1.0);
            // The encoding side (wanopt-a1) reports what it took in and what it put on the WAN.
            assertThat(savings.path("wanopt_app_bytes").asLong()).isGreaterThanOrEqualTo(4 << 20);
            assertThat(savings.path("wan_reduction_ratio").asDouble()).isLessThan(0.5);
            assertThat(savings.path("wan_bytes_saved").asLong()).isGreaterThan(2 << 20);
            System.out.println("STATUS SAVINGS: " + savings);
        });
    }

    /**
     * Worker id to "role health" for every row of the workers table, read in one script call: the page
     * redraws its tables every second, so elements found in one call may be gone in the next.
     */
    @SuppressWarnings("unchecked")
    private static Map<String, String> workerRows(WebDriver browser) {
        List<List<String>> rows = (List<List<String>>) ((JavascriptExecutor) browser).executeScript(
                "return Array.from(document.querySelectorAll('#workers tbody tr')).map(function (tr) {"
                        + " return [tr.getAttribute('data-worker-id'), tr.querySelector('td.role').textContent,"
                        + " tr.querySelector('td.health').textContent]; });");
        return rows.stream().collect(Collectors.toMap(r -> r.get(0), r -> r.get(1) + " " + r.get(2), (a, b) -> b));
    }

    /** The value cell of the savings row with this label, "" when there is none. */
    private static String savingsRow(WebDriver browser, String label) {
        Object value = ((JavascriptExecutor) browser).executeScript(
                "var rows = Array.from(document.querySelectorAll('#savings tbody tr'));"
                        + " for (var i = 0; i < rows.length; i++) {"
                        + "   if (rows[i].cells[0].textContent === arguments[0]) { return rows[i].cells[1].textContent; } }"
                        + " return '';", label);
        return String.valueOf(value);
    }

    /** Number of events on the page with this worker and kind. */
    private static long events(WebDriver browser, String worker, String kind) {
        return (Long) ((JavascriptExecutor) browser).executeScript(
                "var worker = arguments[0], kind = arguments[1];"
                        + " return Array.from(document.querySelectorAll('#events li')).filter(function (li) {"
                        + " return (li.getAttribute('data-workers') || '').split(' ').indexOf(worker) >= 0"
                        + " && li.getAttribute('data-kind') === kind; }).length;", worker, kind);
    }

    /** The first column of a table's body rows. */
    @SuppressWarnings("unchecked")
    private static List<String> firstColumn(WebDriver browser, String tableId) {
        return (List<String>) ((JavascriptExecutor) browser).executeScript(
                "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
                        + ".map(function (tr) { return tr.cells[0].textContent; });", tableId);
    }

    private static WebDriver browser(Path logs) throws Exception {
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.getPath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER)
                .usingAnyFreePort()
                .withLogFile(logs.resolve("chromedriver.log").toFile())
                .build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1400,2300", "--user-data-dir=" + Files.createDirectories(logs.resolve("chromium")));
        return new ChromeDriver(service, options);
    }


    /** A loopback origin with one cacheable object, and an upload sink. */
    private static HttpServer origin() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/object", exchange -> {
            byte[] body = "cacheable object".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain");
            exchange.getResponseHeaders().set("Cache-Control", "public, max-age=300");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/upload", exchange -> {
            long n;
            try (var in = exchange.getRequestBody()) {
                n = in.transferTo(OutputStream.nullOutputStream());
            }
            byte[] body = ("received " + n).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return server;
    }
}
