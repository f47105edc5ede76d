package io.slipstream.controller.onos;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * Checks the packaged ONOS bundle and .oar (built in the package phase, before this IT): what the
 * bundle holds, what it imports, and that the .oar carries it with its descriptor and feature. Whether it
 * resolves in Karaf is tested separately against the real onos-api bundles.
 */
class OnosBundleIT {

    private static Path only(String glob) throws IOException {
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(Paths.get("target"), glob)) {
            dir.forEach(found::add);
        }
        assertThat(found).as("target/" + glob + " (run after mvn package)").hasSize(1);
        return found.get(0);
    }

    /** Splits a manifest header at top-level commas (not inside quotes). */
    private static List<String> clauses(String header) {
        List<String> out = new ArrayList<>();
        for (String part : header.split(",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)")) {
            out.add(part.trim());
        }
        return out;
    }

    @Test
    void bundle_holdsTheCoreAndTheOnosPackageOnly() throws IOException {
        try (JarFile jar = new JarFile(only("slipstream-controller-app-*-onos.jar").toFile())) {
            List<String> classes = new ArrayList<>();
            for (ZipEntry e : Collections.list(jar.entries())) {
                if (e.getName().startsWith("WEB-INF/classes/io/slipstream/") && e.getName().endsWith(".class")) {
                    classes.add(e.getName());
                }
            }
            assertThat(classes).anyMatch(c -> c.endsWith("onos/SlipstreamManager.class"))
                    .anyMatch(c -> c.endsWith("fleet/FleetController.class"))
                    .anyMatch(c -> c.endsWith("placement/SteeringPlanner.class"))
                    .anyMatch(c -> c.endsWith("config/FleetPolicies.class"))
                    .noneMatch(c -> c.contains("/standalone/") || c.contains("/local/") || c.contains("/scale/kubernetes/"));
            assertThat(jar.getEntry("WEB-INF/web.xml")).isNotNull();
            assertThat(jar.getEntry("OSGI-INF/io.slipstream.controller.onos.SlipstreamManager.xml")).isNotNull();
            assertThat(jar.getEntry("WEB-INF/classes/io/slipstream/controller/onos/SlipstreamManager.cfgdef")).isNotNull();

            Attributes main = jar.getManifest().getMainAttributes();
            assertThat(main.getValue("Web-ContextPath")).isEqualTo("/onos/slipstream");
            assertThat(main.getValue("Karaf-Commands")).isEqualTo("io.slipstream.controller.onos");
            assertThat(main.getValue("Export-Package")).isNull();
            for (String entry : clauses(main.getValue("Bundle-ClassPath"))) {
                assertThat(jar.getEntry(entry)).as("Bundle-ClassPath entry " + entry).isNotNull();
            }
            assertThat(clauses(main.getValue("Bundle-ClassPath")))
                    .anyMatch(e -> e.matches("WEB-INF/lib/grpc-netty-shaded-.*\\.jar"))
                    .anyMatch(e -> e.matches("WEB-INF/lib/guava-.*\\.jar"))
                    .anyMatch(e -> e.matches("WEB-INF/lib/curator-x-discovery-.*\\.jar"))
                    .anyMatch(e -> e.matches("WEB-INF/lib/protobuf-java-.*\\.jar"))
                    .noneMatch(e -> e.contains("picocli") || e.contains("jackson") || e.contains("slf4j"));
        }
    }

    @Test
    void bundle_importsOnlyContainerPackagesAsMandatory() throws IOException {
        try (JarFile jar = new JarFile(only("slipstream-controller-app-*-onos.jar").toFile())) {
            List<String> imports = clauses(jar.getManifest().getMainAttributes().getValue("Import-Package"));
            Pattern allowed = Pattern.compile("(org\\.onosproject|org\\.onlab|org\\.osgi\\.service\\.component"
                    + "|org\\.apache\\.karaf\\.shell|javax\\.ws\\.rs|org\\.glassfish\\.jersey\\.servlet"
                    + "|com\\.fasterxml\\.jackson|org\\.slf4j|javax\\.net|javax\\.crypto|javax\\.management"
                    + "|javax\\.naming|javax\\.security)(\\..*)?");
            for (String clause : imports) {
                String pkg = clause.split(";")[0];
                assertThat(pkg).as("imported package").doesNotStartWith("io.slipstream").doesNotStartWith("picocli")
                        .doesNotStartWith("java.").isNotEqualTo("javax.annotation");
                if (!clause.contains("resolution:=optional")) {
                    assertThat(pkg).as("mandatory import " + clause).matches(allowed);
                }
            }
            assertThat(imports).anyMatch(c -> c.startsWith("com.fasterxml.jackson.databind;version=\"[2.10,3)\""))
                    .anyMatch(c -> c.startsWith("org.slf4j;version=\"[1.7,3)\""))
                    .anyMatch(c -> c.startsWith("org.onosproject.net.group;version=\"[2.7,3)\""));
        }
    }

    @Test
    void oar_holdsDescriptorBundleAndFeature() throws IOException {
        Path oar = only("slipstream-controller-app-*.oar");
        String version = oar.getFileName().toString().replaceAll("^slipstream-controller-app-(.*)\\.oar$", "$1");
        try (ZipFile zip = new ZipFile(oar.toFile())) {
            String dir = "m2/io/slipstream/slipstream-controller-app/" + version + "/";
            assertThat(zip.getEntry(dir + "slipstream-controller-app-" + version + "-onos.jar")).isNotNull();
            ZipEntry features = zip.getEntry(dir + "slipstream-controller-app-" + version + "-features.xml");
            assertThat(features).isNotNull();
            String app = new String(zip.getInputStream(zip.getEntry("app.xml")).readAllBytes(), "UTF-8");
            assertThat(app).contains("name=\"io.slipstream.steering\"")
                    .contains("<artifact>mvn:io.slipstream/slipstream-controller-app/" + version + "/jar/onos</artifact>")
                    .doesNotContain("${");
            String feature = new String(zip.getInputStream(features).readAllBytes(), "UTF-8");
            assertThat(feature).contains("<feature>onos-api</feature>")
                    .contains("<bundle>mvn:io.slipstream/slipstream-controller-app/" + version + "/jar/onos</bundle>")
                    .doesNotContain("${");
        }
    }
}
