package io.slipstream.onos.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.slipstream.onos.it.services.TestServicesActivator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.curator.test.TestingServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Packaging proof for the ONOS app (issue 6): Apache Karaf 4.2.9 on this JVM's Java, the real
 * onos-api 2.7.0 bundles and their dependencies as one feature (the bundles ONOS 2.7.0 runs them
 * with, copied by the build into target/onos-runtime), onos-cli (with the core bundles it imports)
 * and ONOS's REST runtime (Jersey 2.27's servlet container) as two more, then the app's {@code .oar} installed the way
 * ONOS installs one: its {@code m2/} tree into Karaf's system repository, the features repository
 * and feature its {@code app.xml} names. Every bundle must end Active (fragments Resolved); the app's
 * components must wait for the ONOS core services, and become ACTIVE once a test bundle registers
 * implementations of every ONOS interface they reference; they leave ACTIVE when those go away.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 110)
class OnosAppPackagingIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    /** ONOS bundles that are not part of its API feature but of its CLI (the app's commands extend onos-cli). */
    private static final Set<String> CLI_BUNDLES = Set.of("onos-cli", "onos-core-common", "onos-core-serializers");
    private static final Pattern COMPONENT = Pattern.compile("^COMPONENT (\\S+) (\\S+)(.*)$", Pattern.MULTILINE);

    private Karaf karaf;
    private Path target;

    @BeforeAll
    void startKaraf() throws IOException {
        target = Path.of(System.getProperty("slipstream.karaf.home")).getParent();
        karaf = Karaf.start(Path.of(System.getProperty("slipstream.karaf.home")), target.resolve("karaf-it"), WAIT);
    }

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterAll
    void stopKaraf() throws Exception {
        if (karaf != null) {
            karaf.close();
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    @Test
    @Order(1)
    void onosApiFeature_installedIntoKaraf_everyBundleActive() throws IOException {
        Path features = writeRuntimeFeatures();
        long started = System.nanoTime();
        karaf.exec("feature:repo-add " + features.toUri(), "feature:install onos-api onos-cli onos-rest");
        System.out.printf("OnosAppPackagingIT: onos-api, onos-cli and onos-rest features installed in %.1f s%n",
                (System.nanoTime() - started) / 1e9);

        List<Karaf.BundleRow> bundles = karaf.bundles();
        assertEveryBundleStarted(bundles);
        assertThat(bundles).filteredOn(b -> b.name().equals("onos-api"))
                .singleElement().satisfies(b -> assertThat(b.version()).isEqualTo("2.7.0"));
        assertThat(bundles.stream().map(Karaf.BundleRow::name))
                .contains("onlab-misc", "onlab-osgi", "onlab-rest", "onos-cli", "Apache Felix Declarative Services",
                        "jersey-container-servlet-core");
    }

    @Test
    @Order(2)
    void oar_installedLikeOnosDoes_resolvesAndActivatesOnceCoreServicesExist() throws Exception {
        Path oar = Path.of(System.getProperty("slipstream.oar", ""));
        assertThat(oar).as("the app's .oar (system property slipstream.oar)").isRegularFile();
        AppArchive app = AppArchive.expand(oar, karaf.home().resolve("system"));
        System.out.println("OnosAppPackagingIT: " + app);

        karaf.exec("feature:repo-add " + app.featuresRepo(), "feature:install " + String.join(" ", app.features()));
        List<Karaf.BundleRow> bundles = karaf.bundles();
        assertEveryBundleStarted(bundles);
        Karaf.BundleRow appBundle = bundles.stream().filter(b -> b.name().equals(app.bundleName())).findFirst()
                .orElseThrow(() -> new AssertionError("the app bundle '" + app.bundleName() + "' is not installed: "
                        + bundles));
        assertThat(appBundle.state()).isEqualTo("Active");

        // Without the ONOS core the components wait for it.
        Set<String> referenced = app.referencedOnosServices();
        assertThat(referenced).as("ONOS services the app's components reference")
                .contains("org.onosproject.core.CoreService", "org.onosproject.net.flow.FlowRuleService",
                        "org.onosproject.net.group.GroupService");
        // The network configuration the registry double serves: the app's fleet core against a real
        // ZooKeeper on loopback (no edge devices: nothing to program).
        TestingServer zk = new TestingServer(true);
        closeables.add(zk);
        String netcfg = "slipstream={\"zookeeper\":\"" + zk.getConnectString() + "\",\"edgeDevices\":[]}";
        karaf.exec("bundle:install -s " + buildTestServicesBundle(referenced, netcfg).toUri());
        Map<String, String> waiting = components(app.symbolicName());
        assertThat(waiting).as("components before the ONOS core services exist").isNotEmpty();
        assertThat(waiting.values()).as(waiting.toString()).allMatch(s -> s.startsWith("UNSATISFIED_REFERENCE"));

        // The test bundle registers every ONOS service the components reference: they become active.
        long registeredAt = System.nanoTime();
        String coreUp = karaf.exec("slipstreamit:core up");
        assertThat(coreUp).contains("CORE up " + referenced.size());
        Map<String, String> active = Awaitility.await("the app's components ACTIVE").atMost(WAIT)
                .pollInterval(Duration.ofMillis(250))
                .until(() -> components(app.symbolicName()), s -> s.values().stream().allMatch("ACTIVE"::equals));
        System.out.printf("OnosAppPackagingIT: components %s ACTIVE %.1f s after the core services appeared%n",
                active.keySet(), (System.nanoTime() - registeredAt) / 1e9);
        assertEveryBundleStarted(karaf.bundles());
        assertThat(coreUp + karaf.console()).as("the app registered itself with the core")
                .contains("TEST-SERVICE call CoreService.registerApplication");
        Awaitility.await("the app's fleet core connected to ZooKeeper").atMost(WAIT)
                .pollInterval(Duration.ofMillis(250))
                .until(() -> karaf.log().contains("fleet core started against ZooKeeper " + zk.getConnectString()));

        // And deactivate when the core goes away.
        karaf.exec("slipstreamit:core down");
        Awaitility.await("the app's components leave ACTIVE").atMost(WAIT).pollInterval(Duration.ofMillis(250))
                .until(() -> components(app.symbolicName()), s -> !s.containsValue("ACTIVE"));
        // Nothing the app ran (activation, its app thread, deactivation) logged an error.
        List<String> errors = karaf.log().lines().filter(l -> l.contains("| ERROR |")
                && l.contains(" - " + app.symbolicName() + " - ")).collect(Collectors.toList());
        assertThat(errors).as("errors the app logged; karaf.log tail:\n" + tail(karaf.log(), 80)).isEmpty();
    }

    /** Every bundle Active; fragments Resolved (attached to their host). */
    private void assertEveryBundleStarted(List<Karaf.BundleRow> bundles) {
        assertThat(bundles).as("bundles").hasSizeGreaterThan(20);
        List<Karaf.BundleRow> wrong = bundles.stream()
                .filter(b -> !(b.fragment() ? b.state().equals("Resolved") : b.state().equals("Active")))
                .collect(Collectors.toList());
        assertThat(wrong).as("bundles neither Active nor (fragments) Resolved; karaf.log tail:\n"
                + tail(karaf.log(), 60)).isEmpty();
    }

    /** Component name to state (and unsatisfied references), for one bundle, from the test bundle's shell command. */
    private Map<String, String> components(String symbolicName) {
        Path report = target.resolve("components-report.txt");
        String out;
        try {
            Files.deleteIfExists(report);
            karaf.exec("slipstreamit:components " + symbolicName + " " + report);
            out = Files.readString(report, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError("no component report from the test bundle at " + report, e);
        }
        Map<String, String> states = new TreeMap<>();
        Matcher m = COMPONENT.matcher(out);
        while (m.find()) {
            states.put(m.group(1), m.group(2) + m.group(3));
        }
        assertThat(states).as("components of " + symbolicName + ": " + out).isNotEmpty();
        return states;
    }

    /** The feature file for the ONOS runtime the build copied: Felix SCR, onos-api with its dependencies, onos-cli. */
    private Path writeRuntimeFeatures() throws IOException {
        Path scr = Path.of(System.getProperty("slipstream.scr.runtime"));
        Path onos = Path.of(System.getProperty("slipstream.onos.runtime"));
        StringBuilder xml = new StringBuilder("<features xmlns=\"http://karaf.apache.org/xmlns/features/v1.2.0\""
                + " name=\"slipstream-onos-runtime\">\n");
        xml.append(" <feature name=\"slipstream-scr\" version=\"2.1.20\">\n");
        for (Path jar : jars(scr)) {
            xml.append("  <bundle start-level=\"30\">").append(jar.toUri()).append("</bundle>\n");
        }
        xml.append(" </feature>\n <feature name=\"onos-api\" version=\"2.7.0\">\n");
        xml.append("  <feature>slipstream-scr</feature>\n");
        List<Path> cli = new ArrayList<>();
        for (Path jar : jars(onos)) {
            String name = jar.getFileName().toString().replaceAll("-\\d.*$", "");
            if (CLI_BUNDLES.contains(name)) {
                cli.add(jar);
            } else {
                xml.append("  <bundle>").append(jar.toUri()).append("</bundle>\n");
            }
        }
        assertThat(cli).as("onos-cli bundles in " + onos).hasSize(CLI_BUNDLES.size());
        xml.append(" </feature>\n <feature name=\"onos-cli\" version=\"2.7.0\">\n  <feature>onos-api</feature>\n");
        for (Path jar : cli) {
            xml.append("  <bundle>").append(jar.toUri()).append("</bundle>\n");
        }
        xml.append(" </feature>\n <feature name=\"onos-rest\" version=\"2.7.0\">\n  <feature>onos-api</feature>\n");
        for (Path jar : jars(Path.of(System.getProperty("slipstream.rest.runtime")))) {
            xml.append("  <bundle>").append(jar.toUri()).append("</bundle>\n");
        }
        xml.append(" </feature>\n</features>\n");
        Path file = target.resolve("onos-runtime-features.xml");
        Files.writeString(file, xml.toString(), StandardCharsets.UTF_8);
        return file;
    }

    private static List<Path> jars(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().collect(Collectors.toList());
            assertThat(jars).as("jars in " + dir + " (copied by the build)").isNotEmpty();
            return jars;
        }
    }

    /** The test-services bundle: the classes of {@link TestServicesActivator}'s package and a manifest. */
    private Path buildTestServicesBundle(Set<String> services, String netcfg) throws Exception {
        String pkg = TestServicesActivator.class.getPackageName();
        Path classes = Path.of(TestServicesActivator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path dir = classes.resolve(pkg.replace('.', '/'));
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "io.slipstream.onos.it.services");
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Bundle-Name", "Slipstream IT: ONOS core test services");
        a.putValue("Bundle-Activator", TestServicesActivator.class.getName());
        a.putValue("Import-Package", "org.osgi.framework,org.osgi.service.component.runtime,"
                + "org.osgi.service.component.runtime.dto,org.onosproject.core,org.onosproject.cluster,"
                + "org.onlab.packet,"
                + "org.onosproject.net.config,com.fasterxml.jackson.databind,com.fasterxml.jackson.databind.node");
        if (netcfg != null) {
            a.putValue(TestServicesActivator.NETCFG_HEADER, netcfg);
        }
        a.putValue("DynamicImport-Package", "*");
        a.putValue(TestServicesActivator.SERVICES_HEADER, String.join(",", services));
        Path jar = target.resolve("slipstream-onos-it-services.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, mf);
             Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).sorted().collect(Collectors.toList())) {
                j.putNextEntry(new JarEntry(pkg.replace('.', '/') + "/" + f.getFileName()));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
        }
        return jar;
    }

    private static String tail(String text, int lines) {
        String[] all = text.split("\\R");
        return String.join("\n", java.util.Arrays.copyOfRange(all, Math.max(0, all.length - lines), all.length));
    }

    /**
     * An expanded {@code .oar}: what its {@code app.xml} says, with its {@code m2/} tree copied into a
     * Maven-layout repository (Karaf's system repository), as ONOS's application archive store does.
     */
    record AppArchive(String name, String featuresRepo, List<String> features, Path bundle, String symbolicName,
                      String bundleName, List<String> componentXml) {

        static AppArchive expand(Path oar, Path repository) throws IOException {
            String appXml = null;
            try (ZipFile zip = new ZipFile(oar.toFile())) {
                for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                    if (e.isDirectory()) {
                        continue;
                    }
                    if (e.getName().equals("app.xml")) {
                        try (InputStream in = zip.getInputStream(e)) {
                            appXml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                        }
                    } else if (e.getName().startsWith("m2/")) {
                        Path to = repository.resolve(e.getName().substring(3)).normalize();
                        if (!to.startsWith(repository)) {
                            throw new IOException("entry outside the archive's m2 tree: " + e.getName());
                        }
                        Files.createDirectories(to.getParent());
                        try (InputStream in = zip.getInputStream(e)) {
                            Files.copy(in, to, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                        }
                    }
                }
            }
            if (appXml == null) {
                throw new IOException(oar + " has no app.xml");
            }
            String name = attribute(appXml, "name");
            String repo = attribute(appXml, "featuresRepo");
            List<String> features = List.of(attribute(appXml, "features").split(","));
            Matcher artifact = Pattern.compile("<artifact>\\s*mvn:([^<\\s]+)\\s*</artifact>").matcher(appXml);
            if (!artifact.find()) {
                throw new IOException("app.xml of " + oar + " names no bundle artifact");
            }
            Path bundle = repository.resolve(mavenPath(artifact.group(1)));
            String symbolicName;
            String bundleName;
            List<String> xml = new ArrayList<>();
            try (JarFile jar = new JarFile(bundle.toFile())) {
                Attributes main = jar.getManifest().getMainAttributes();
                symbolicName = main.getValue("Bundle-SymbolicName").replaceAll(";.*", "").trim();
                bundleName = main.getValue("Bundle-Name");
                String components = main.getValue("Service-Component");
                if (components != null) {
                    for (String path : components.split(",")) {
                        JarEntry e = jar.getJarEntry(path.trim());
                        if (e != null) {
                            try (InputStream in = jar.getInputStream(e)) {
                                xml.add(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                            }
                        }
                    }
                }
            }
            return new AppArchive(name, repo, features, bundle, symbolicName, bundleName, xml);
        }

        /** ONOS and ONLab interfaces the app's Declarative Services components reference. */
        Set<String> referencedOnosServices() {
            Set<String> names = new TreeSet<>();
            Pattern reference = Pattern.compile("<reference\\b[^>]*\\binterface=\"([^\"]+)\"");
            for (String xml : componentXml) {
                Matcher m = reference.matcher(xml);
                while (m.find()) {
                    if (m.group(1).startsWith("org.onosproject.") || m.group(1).startsWith("org.onlab.")) {
                        names.add(m.group(1));
                    }
                }
            }
            return names;
        }

        private static String attribute(String xml, String attribute) throws IOException {
            Matcher m = Pattern.compile("\\b" + attribute + "=\"([^\"]*)\"").matcher(xml);
            if (!m.find()) {
                throw new IOException("app.xml has no attribute " + attribute);
            }
            return m.group(1);
        }

        /** mvn:group/artifact/version[/type[/classifier]] to its path in a Maven repository. */
        static String mavenPath(String coordinates) {
            String[] p = coordinates.split("/");
            String type = p.length > 3 ? p[3] : "jar";
            String classifier = p.length > 4 ? "-" + p[4] : "";
            return p[0].replace('.', '/') + "/" + p[1] + "/" + p[2] + "/" + p[1] + "-" + p[2] + classifier + "." + type;
        }

        @Override
        public String toString() {
            return "app " + name + " (bundle " + symbolicName + ", features " + features + " from " + featuresRepo
                    + ", " + componentXml.size() + " components)";
        }
    }
}
