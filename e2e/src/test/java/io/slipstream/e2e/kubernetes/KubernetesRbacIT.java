package io.slipstream.e2e.kubernetes;

import static io.slipstream.e2e.kubernetes.TestDeployments.deletionCost;
import static io.slipstream.e2e.kubernetes.TestDeployments.livePods;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.slipstream.controller.scale.ScaleException;
import io.slipstream.controller.scale.kubernetes.KubernetesScaleTarget;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The Role in {@code k8s/rbac/controller-role.yaml} is exactly what the Kubernetes scale target needs:
 * a user bound to it can do everything the target does, every one of its verbs is needed (without it the
 * target names exactly that verb), and nothing else is granted.
 */
class KubernetesRbacIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    @RegisterExtension
    static final KubernetesCluster k8s = new KubernetesCluster();

    private KubernetesControlPlane plane;
    private KubernetesClient admin;
    private Role role;

    @BeforeEach
    void loadRole() throws Exception {
        plane = k8s.plane();
        admin = plane.admin();
        Path yaml = KubernetesBinaries.repositoryRoot().resolve("k8s/rbac/controller-role.yaml");
        try (InputStream in = Files.newInputStream(yaml)) {
            role = admin.rbac().roles().load(in).item();
        }
    }

    @Test
    void restrictedUser_withoutRole_forbiddenNamesVerbResourceAndNamespace() {
        String ns = TestDeployments.newNamespace(admin, "norole");
        TestDeployments.create(admin, ns, "wanopt-a", "wanopt", "a", 1);

        try (KubernetesScaleTarget target = KubernetesScaleTarget.connect(plane.restrictedConfig(), ns)) {
            assertThatThrownBy(() -> target.replicas("wanopt", "a"))
                    .isInstanceOf(ScaleException.class)
                    .hasMessageStartingWith("forbidden: needs 'list' on deployments in namespace '" + ns + "'")
                    .hasMessageContaining("k8s/rbac/controller-role.yaml");
        }
    }

    @Test
    void restrictedUser_boundToRole_doesEverythingTheTargetDoes() throws Exception {
        String ns = TestDeployments.newNamespace(admin, "role");
        bind(ns, role);
        TestDeployments.create(admin, ns, "wanopt-a", "wanopt", "a", 2);
        await().atMost(WAIT).until(() -> livePods(admin, ns, "wanopt", "a").size() == 2);

        try (KubernetesScaleTarget target = KubernetesScaleTarget.connect(plane.restrictedConfig(), ns)) {
            // The authorizer sees a new binding within moments.
            await().atMost(WAIT).ignoreExceptions().until(() -> target.replicas("wanopt", "a") == 2);
            target.scale("wanopt", "a", 3, List.of());
            await().atMost(WAIT).until(() -> livePods(admin, ns, "wanopt", "a").size() == 3);
            String victim = livePods(admin, ns, "wanopt", "a").get(0).getMetadata().getName();
            // The ReplicaSet may delete the victim (unscheduled: at once) before a read could see it, so the
            // marking the restricted user made is observed on a watch.
            java.util.concurrent.atomic.AtomicReference<String> marked = new java.util.concurrent.atomic.AtomicReference<>();
            try (Watch ignored = admin.pods().inNamespace(ns).withName(victim).watch(new Watcher<Pod>() {
                @Override
                public void eventReceived(Action action, Pod pod) {
                    if (deletionCost(pod) != null) {
                        marked.compareAndSet(null, deletionCost(pod));
                    }
                }

                @Override
                public void onClose(WatcherException cause) {
                }
            })) {
                target.scale("wanopt", "a", 2, List.of(victim));

                assertThat(target.replicas("wanopt", "a")).isEqualTo(2);
                await().atMost(WAIT).until(() -> marked.get() != null);
                assertThat(marked.get()).isEqualTo(KubernetesScaleTarget.VICTIM_COST);
            }
        }
    }

    @Test
    void roleWithoutOneVerb_targetNamesExactlyThatVerb() {
        for (PolicyRule rule : role.getRules()) {
            for (String verb : rule.getVerbs()) {
                String ns = TestDeployments.newNamespace(admin, "minus-" + verb);
                bind(ns, without(role, rule, verb));
                TestDeployments.create(admin, ns, "cache-a", "cache", "a", 2);
                await().atMost(WAIT).until(() -> livePods(admin, ns, "cache", "a").size() == 2);
                String victim = livePods(admin, ns, "cache", "a").get(0).getMetadata().getName();
                String resource = rule.getResources().get(0);
                String expected = "forbidden: needs '" + verb + "' on " + resource + " in namespace '" + ns + "'";

                // Scale-in with a victim uses every verb of the Role.
                try (KubernetesScaleTarget target = KubernetesScaleTarget.connect(plane.restrictedConfig(), ns)) {
                    await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(
                            () -> target.scale("cache", "a", 1, List.of(victim)))
                            .isInstanceOf(ScaleException.class)
                            .hasMessageStartingWith(expected));
                }
                assertThat(admin.apps().deployments().inNamespace(ns).withName("cache-a").get().getSpec()
                        .getReplicas()).as("without '%s' on %s nothing is scaled", verb, resource).isEqualTo(2);
            }
        }
    }

    @Test
    void restrictedUser_boundToRole_canDoNothingElse() {
        String ns = TestDeployments.newNamespace(admin, "only");
        bind(ns, role);
        TestDeployments.create(admin, ns, "gw-a", "gateway", "a", 1);

        try (KubernetesClient restricted = new KubernetesClientBuilder().withConfig(plane.restrictedConfig()).build()) {
            await().atMost(WAIT).until(() -> allowed(restricted, ns, "list", "apps", "deployments", ""));
            List<String> granted = new ArrayList<>();
            for (String[] a : List.of(
                    new String[] {"list", "apps", "deployments", ""},
                    new String[] {"get", "apps", "deployments", "scale"},
                    new String[] {"update", "apps", "deployments", "scale"},
                    new String[] {"list", "", "pods", ""},
                    new String[] {"patch", "", "pods", ""})) {
                assertThat(allowed(restricted, ns, a[0], a[1], a[2], a[3])).as("%s %s/%s", a[0], a[2], a[3]).isTrue();
            }
            for (String[] a : List.of(
                    new String[] {"get", "apps", "deployments", ""},
                    new String[] {"watch", "apps", "deployments", ""},
                    new String[] {"create", "apps", "deployments", ""},
                    new String[] {"update", "apps", "deployments", ""},
                    new String[] {"patch", "apps", "deployments", ""},
                    new String[] {"delete", "apps", "deployments", ""},
                    new String[] {"patch", "apps", "deployments", "scale"},
                    new String[] {"update", "apps", "statefulsets", "scale"},
                    new String[] {"get", "", "pods", ""},
                    new String[] {"create", "", "pods", ""},
                    new String[] {"delete", "", "pods", ""},
                    new String[] {"update", "", "pods", ""},
                    new String[] {"create", "", "pods", "eviction"},
                    new String[] {"get", "", "secrets", ""},
                    new String[] {"list", "", "configmaps", ""},
                    new String[] {"list", "apps", "replicasets", ""})) {
                if (allowed(restricted, ns, a[0], a[1], a[2], a[3])) {
                    granted.add(a[0] + " " + a[2] + (a[3].isEmpty() ? "" : "/" + a[3]));
                }
            }
            assertThat(granted).as("granted beyond the Role").isEmpty();
            // And for real, not only by review: deleting the Deployment is refused.
            assertThatThrownBy(() -> restricted.apps().deployments().inNamespace(ns).withName("gw-a").delete())
                    .isInstanceOf(KubernetesClientException.class)
                    .satisfies(e -> assertThat(((KubernetesClientException) e).getCode()).isEqualTo(403));
            assertThat(admin.apps().deployments().inNamespace(ns).withName("gw-a").get()).isNotNull();
            // Nor does the Role reach into other namespaces.
            assertThat(allowed(restricted, "default", "list", "apps", "deployments", "")).isFalse();
        }
    }

    private boolean allowed(KubernetesClient client, String ns, String verb, String group, String resource,
            String subresource) {
        SelfSubjectAccessReview review = new SelfSubjectAccessReviewBuilder()
                .withNewSpec().withNewResourceAttributes()
                .withNamespace(ns).withVerb(verb).withGroup(group).withResource(resource).withSubresource(subresource)
                .endResourceAttributes().endSpec().build();
        return client.authorization().v1().selfSubjectAccessReview().create(review).getStatus().getAllowed();
    }

    private void bind(String ns, Role r) {
        Role copy = new RoleBuilder(r).editMetadata().withNamespace(ns).withResourceVersion(null).endMetadata().build();
        admin.rbac().roles().inNamespace(ns).resource(copy).create();
        admin.rbac().roleBindings().inNamespace(ns).resource(new RoleBindingBuilder()
                .withNewMetadata().withName(r.getMetadata().getName()).withNamespace(ns).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
                .withName(r.getMetadata().getName()).endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User")
                .withName(KubernetesControlPlane.RESTRICTED_USER).endSubject()
                .build()).create();
    }

    /** The Role with one verb taken out of one rule. */
    private static Role without(Role r, PolicyRule rule, String verb) {
        List<PolicyRule> rules = new ArrayList<>();
        for (PolicyRule each : r.getRules()) {
            if (each == rule) {
                List<String> verbs = each.getVerbs().stream().filter(v -> !v.equals(verb)).collect(Collectors.toList());
                if (!verbs.isEmpty()) {
                    rules.add(new PolicyRuleBuilder(each).withVerbs(verbs).build());
                }
            } else {
                rules.add(each);
            }
        }
        return new RoleBuilder(r).withRules(rules).build();
    }
}
