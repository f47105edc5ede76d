package io.slipstream.e2e.kubernetes;

import static io.slipstream.e2e.kubernetes.TestDeployments.deletionCost;
import static io.slipstream.e2e.kubernetes.TestDeployments.livePods;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.BindingBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.slipstream.controller.scale.ScaleException;
import io.slipstream.controller.scale.kubernetes.KubernetesScaleTarget;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Kubernetes scale target against a real Kubernetes 1.20 API server and controller manager: the
 * Deployment is scaled through its scale subresource, the ReplicaSet follows, scale-in victims are marked
 * with the pod-deletion-cost annotation first, and failures say what to fix.
 */
class KubernetesScaleTargetIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    @RegisterExtension
    static final KubernetesCluster k8s = new KubernetesCluster();

    private KubernetesControlPlane plane;
    private KubernetesClient admin;
    private String namespace;
    private KubernetesScaleTarget target;

    @BeforeEach
    void namespace() {
        plane = k8s.plane();
        admin = plane.admin();
        namespace = TestDeployments.newNamespace(admin, "scale");
        target = KubernetesScaleTarget.connect(plane.adminConfig(), namespace);
    }

    @AfterEach
    void closeTarget() {
        target.close();
    }

    @Test
    void replicas_deploymentWithTwo_readsTwoFromScaleSubresource() throws Exception {
        TestDeployments.create(admin, namespace, "wanopt-a", "wanopt", "a", 2);
        TestDeployments.create(admin, namespace, "wanopt-b", "wanopt", "b", 1);

        assertThat(target.replicas("wanopt", "a")).isEqualTo(2);
        assertThat(target.replicas("wanopt", "b")).isEqualTo(1);
        assertThat(target.name()).isEqualTo("kubernetes");
    }

    @Test
    void scale_outFromOneToThree_deploymentAndReplicaSetFollow() throws Exception {
        TestDeployments.create(admin, namespace, "cache-a", "cache", "a", 1);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "cache", "a").size() == 1);

        target.scale("cache", "a", 3, List.of());

        assertThat(target.replicas("cache", "a")).isEqualTo(3);
        Deployment d = admin.apps().deployments().inNamespace(namespace).withName("cache-a").get();
        assertThat(d.getSpec().getReplicas()).isEqualTo(3);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "cache", "a").size() == 3);
        assertThat(livePods(admin, namespace, "cache", "a")).allSatisfy(p -> assertThat(deletionCost(p)).isNull());
    }

    @Test
    void scale_inWithVictim_marksExactlyTheVictimBeforeAnyPodGoes() throws Exception {
        TestDeployments.create(admin, namespace, "wanopt-a", "wanopt", "a", 3);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "a").size() == 3);
        List<Pod> before = livePods(admin, namespace, "wanopt", "a");
        String victim = before.get(1).getMetadata().getName();

        // One watch sees pod changes in the order etcd committed them: the victim's annotation must come
        // before the first deletion, which can only follow the replica count going down.
        List<String> events = new CopyOnWriteArrayList<>();
        try (Watch ignored = admin.pods().inNamespace(namespace).watch(new Watcher<Pod>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                String cost = deletionCost(pod);
                String gone = pod.getMetadata().getDeletionTimestamp() != null ? " deleting" : "";
                events.add(action + " " + pod.getMetadata().getName() + (cost == null ? "" : " cost=" + cost) + gone);
            }

            @Override
            public void onClose(WatcherException cause) {
            }
        })) {
            target.scale("wanopt", "a", 2, List.of(victim));
            await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "a").size() == 2);
            await().atMost(WAIT).until(() -> events.stream().anyMatch(e -> e.startsWith("DELETED")
                    || e.endsWith(" deleting")));
        }

        assertThat(target.replicas("wanopt", "a")).isEqualTo(2);
        int marked = indexOf(events, "MODIFIED " + victim + " cost=" + KubernetesScaleTarget.VICTIM_COST);
        int firstGone = firstIndex(events, e -> e.startsWith("DELETED") || e.endsWith(" deleting"));
        assertThat(marked).as("victim marked, in %s", events).isGreaterThanOrEqualTo(0);
        assertThat(marked).as("victim marked before any pod goes, in %s", events).isLessThan(firstGone);
        // Exactly the victim was marked (1.20 ignores the mark when it picks the pod to delete, so the victim
        // may or may not be the one that went; see scale_inOnKubernetes120_removesTheNotReadyVictim).
        assertThat(events.stream().filter(e -> e.contains(" cost=")).map(e -> e.split(" ")[1]).distinct()
                .collect(Collectors.toList())).as("pods ever marked, in %s", events).containsExactly(victim);
        assertThat(admin.pods().inNamespace(namespace).list().getItems().stream()
                .filter(p -> deletionCost(p) != null).map(p -> p.getMetadata().getName())
                .collect(Collectors.toList())).isSubsetOf(victim);
    }

    @Test
    void scale_inAgainWithAnotherVictim_unmarksTheEarlierOne() throws Exception {
        TestDeployments.create(admin, namespace, "gw-a", "gateway", "a", 3);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "gateway", "a").size() == 3);
        List<Pod> pods = livePods(admin, namespace, "gateway", "a");
        String stale = pods.get(0).getMetadata().getName();
        String victim = pods.get(1).getMetadata().getName();
        // An earlier round marked `stale` and then did not scale in (e.g. load came back).
        admin.pods().inNamespace(namespace).withName(stale).edit(p -> {
            p.getMetadata().getAnnotations().put(KubernetesScaleTarget.DELETION_COST_ANNOTATION,
                    KubernetesScaleTarget.VICTIM_COST);
            return p;
        });

        target.scale("gateway", "a", 2, List.of(victim));

        assertThat(deletionCost(admin.pods().inNamespace(namespace).withName(stale).get())).isNull();
        Pod v = admin.pods().inNamespace(namespace).withName(victim).get();
        if (v != null) {
            assertThat(deletionCost(v)).isEqualTo(KubernetesScaleTarget.VICTIM_COST);
        }
    }

    /**
     * Kubernetes 1.20 predates pod-deletion-cost; what it does honour is readiness: a drained worker
     * answers 503 on /readyz, its pod turns not ready, and the ReplicaSet removes not-ready pods first.
     * With no node here, the test binds the pods to a node name and writes their status as a kubelet
     * would (Running; Ready except the victim), then scales in through the target.
     */
    @Test
    void scale_inOnKubernetes120_removesTheNotReadyVictim() throws Exception {
        TestDeployments.create(admin, namespace, "wanopt-b", "wanopt", "b", 3);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "b").size() == 3);
        List<Pod> pods = livePods(admin, namespace, "wanopt", "b");
        // The oldest pod: on equal readiness 1.20 would remove the newest, so only readiness can pick it.
        String victim = pods.get(0).getMetadata().getName();
        for (Pod pod : pods) {
            String name = pod.getMetadata().getName();
            admin.bindings().inNamespace(namespace).resource(new BindingBuilder()
                    .withNewMetadata().withName(name).endMetadata()
                    .withTarget(new ObjectReferenceBuilder().withKind("Node").withName("simulated-node").build())
                    .build()).create();
            Pod bound = admin.pods().inNamespace(namespace).withName(name).get();
            bound.setStatus(new PodStatusBuilder(bound.getStatus()).withPhase("Running")
                    .withConditions(new PodConditionBuilder().withType("Ready")
                            .withStatus(name.equals(victim) ? "False" : "True").build())
                    .build());
            admin.pods().inNamespace(namespace).resource(bound).updateStatus();
        }

        target.scale("wanopt", "b", 2, List.of(victim));

        await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "b").size() == 2);
        assertThat(livePods(admin, namespace, "wanopt", "b")).extracting(p -> p.getMetadata().getName())
                .doesNotContain(victim);
    }

    @Test
    void scale_toTheSameCount_changesNoSpec() throws Exception {
        TestDeployments.create(admin, namespace, "cache-b", "cache", "b", 2);
        long generation = admin.apps().deployments().inNamespace(namespace).withName("cache-b").get()
                .getMetadata().getGeneration();

        target.scale("cache", "b", 2, List.of());

        Deployment after = admin.apps().deployments().inNamespace(namespace).withName("cache-b").get();
        assertThat(after.getMetadata().getGeneration()).isEqualTo(generation);
        assertThat(after.getSpec().getReplicas()).isEqualTo(2);
    }

    @Test
    void replicas_noDeployment_namesNamespaceAndLabels() {
        TestDeployments.create(admin, namespace, "wanopt-a", "wanopt", "a", 1);

        assertThatThrownBy(() -> target.replicas("wanopt", "z"))
                .isInstanceOf(ScaleException.class)
                .hasMessageContaining("namespace '" + namespace + "'")
                .hasMessageContaining("app.kubernetes.io/component=wanopt,app.kubernetes.io/name=slipstream,"
                        + "slipstream.io/site=z");
    }

    @Test
    void scale_twoDeploymentsMatch_namesBothAndChangesNeither() {
        TestDeployments.create(admin, namespace, "cache-a", "cache", "a", 1);
        TestDeployments.create(admin, namespace, "cache-a-copy", "cache", "a", 1);

        assertThatThrownBy(() -> target.scale("cache", "a", 3, List.of()))
                .isInstanceOf(ScaleException.class)
                .hasMessageContaining("2 Deployments in namespace '" + namespace + "'")
                .hasMessageContaining("[cache-a, cache-a-copy]");
        assertThat(admin.apps().deployments().inNamespace(namespace).list().getItems())
                .allSatisfy(d -> assertThat(d.getSpec().getReplicas()).isEqualTo(1));
    }

    @Test
    void scale_victimNotAPodOfTheDeployment_refusesAndChangesNothing() throws Exception {
        TestDeployments.create(admin, namespace, "wanopt-a", "wanopt", "a", 2);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "a").size() == 2);

        assertThatThrownBy(() -> target.scale("wanopt", "a", 1, List.of("wanopt-gone-0")))
                .isInstanceOf(ScaleException.class)
                .hasMessageContaining("[wanopt-gone-0] are not pods of Deployment 'wanopt-a'")
                .hasMessageContaining("not scaling in");
        assertThat(target.replicas("wanopt", "a")).isEqualTo(2);
        assertThat(livePods(admin, namespace, "wanopt", "a")).allSatisfy(p -> assertThat(deletionCost(p)).isNull());
    }

    @Test
    void scale_moreVictimsThanRemoved_refuses() throws Exception {
        TestDeployments.create(admin, namespace, "wanopt-a", "wanopt", "a", 3);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "a").size() == 3);
        List<String> two = livePods(admin, namespace, "wanopt", "a").stream().limit(2)
                .map(p -> p.getMetadata().getName()).collect(Collectors.toList());

        assertThatThrownBy(() -> target.scale("wanopt", "a", 2, two))
                .isInstanceOf(ScaleException.class)
                .hasMessageContaining("more than the 1 pod(s) removed when Deployment 'wanopt-a'");
        assertThat(target.replicas("wanopt", "a")).isEqualTo(3);
    }

    @Test
    void scale_alreadyAtTheCount_victimsNamed_changesNothing() throws Exception {
        // A new controller leader finishing a drain whose scale-in the previous leader had already carried out.
        TestDeployments.create(admin, namespace, "wanopt-a", "wanopt", "a", 1);
        await().atMost(WAIT).until(() -> livePods(admin, namespace, "wanopt", "a").size() == 1);
        String survivor = livePods(admin, namespace, "wanopt", "a").get(0).getMetadata().getName();

        target.scale("wanopt", "a", 1, List.of("wanopt-a-removed-0"));
        assertThat(target.replicas("wanopt", "a")).isEqualTo(1);
        assertThat(livePods(admin, namespace, "wanopt", "a")).singleElement()
                .satisfies(p -> {
                    assertThat(p.getMetadata().getName()).isEqualTo(survivor);
                    assertThat(deletionCost(p)).isNull();
                });
    }

    @Test
    void replicas_apiServerUnreachable_saysSoWithItsAddress() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String url = "https://127.0.0.1:" + closedPort;
        try (KubernetesScaleTarget unreachable = KubernetesScaleTarget.connect(
                new ConfigBuilder(plane.adminConfig()).withMasterUrl(url).build(), namespace)) {
            assertThatThrownBy(() -> unreachable.replicas("wanopt", "a"))
                    .isInstanceOf(ScaleException.class)
                    .hasMessageContaining("the API server at " + url)
                    .hasMessageContaining("unreachable");
        }
    }

    @Test
    void replicas_badToken_saysUnauthorized() {
        try (KubernetesScaleTarget wrong = KubernetesScaleTarget.connect(
                new ConfigBuilder(plane.adminConfig()).withOauthToken("not-a-token").build(), namespace)) {
            assertThatThrownBy(() -> wrong.replicas("wanopt", "a"))
                    .isInstanceOf(ScaleException.class)
                    .hasMessageStartingWith("unauthorized: the API server at ");
        }
    }

    @Test
    void scale_negativeReplicas_rejectedBeforeAnyCall() {
        assertThatThrownBy(() -> target.scale("wanopt", "a", -1, List.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("replicas: -1 (expected: >= 0)");
    }

    private static int indexOf(List<String> events, String event) {
        return events.indexOf(event);
    }

    private static int firstIndex(List<String> events, java.util.function.Predicate<String> p) {
        for (int i = 0; i < events.size(); i++) {
            if (p.test(events.get(i))) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }
}
