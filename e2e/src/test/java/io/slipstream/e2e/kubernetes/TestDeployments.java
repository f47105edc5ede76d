package io.slipstream.e2e.kubernetes;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.slipstream.controller.scale.kubernetes.KubernetesScaleTarget;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/** Namespaces and worker Deployments labelled the way the chart labels them, for tests. */
final class TestDeployments {

    private static final AtomicInteger NEXT = new AtomicInteger();

    private TestDeployments() {
    }

    static String newNamespace(KubernetesClient admin, String prefix) {
        String name = prefix + "-" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet();
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
                .create();
        return name;
    }

    static Map<String, String> labels(String role, String site) {
        return Map.of(KubernetesScaleTarget.NAME_LABEL, KubernetesScaleTarget.DEFAULT_APP_NAME,
                KubernetesScaleTarget.COMPONENT_LABEL, role,
                KubernetesScaleTarget.SITE_LABEL, site);
    }

    /** A worker Deployment; without a node its pods stay Pending, which is all scaling needs. */
    static Deployment create(KubernetesClient admin, String namespace, String name, String role, String site,
            int replicas) {
        Map<String, String> podLabels = Map.of(KubernetesScaleTarget.NAME_LABEL, KubernetesScaleTarget.DEFAULT_APP_NAME,
                KubernetesScaleTarget.COMPONENT_LABEL, role, KubernetesScaleTarget.SITE_LABEL, site,
                "app.kubernetes.io/instance", name);
        Deployment d = new DeploymentBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels(role, site)).endMetadata()
                .withNewSpec()
                .withReplicas(replicas)
                .withNewSelector().withMatchLabels(podLabels).endSelector()
                .withNewTemplate()
                .withNewMetadata().withLabels(podLabels).endMetadata()
                .withNewSpec()
                .addNewContainer().withName("worker").withImage("localhost/slipstream/worker:test")
                .withImagePullPolicy("Never").endContainer()
                .endSpec()
                .endTemplate()
                .endSpec()
                .build();
        return admin.apps().deployments().inNamespace(namespace).resource(d).create();
    }

    /** The Deployment's pods that are not being deleted, oldest first. */
    static List<Pod> livePods(KubernetesClient admin, String namespace, String role, String site) {
        return admin.pods().inNamespace(namespace).withLabels(labels(role, site)).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .sorted(Comparator.comparing((Pod p) -> p.getMetadata().getCreationTimestamp())
                        .thenComparing(p -> p.getMetadata().getName()))
                .collect(Collectors.toList());
    }

    static String deletionCost(Pod pod) {
        Map<String, String> a = pod.getMetadata().getAnnotations();
        return a == null ? null : a.get(KubernetesScaleTarget.DELETION_COST_ANNOTATION);
    }
}
