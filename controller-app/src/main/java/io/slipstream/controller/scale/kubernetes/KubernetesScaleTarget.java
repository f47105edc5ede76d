package io.slipstream.controller.scale.kubernetes;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v1.ScaleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.slipstream.controller.scale.ScaleException;
import io.slipstream.controller.scale.ScaleTarget;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scales the Deployment of a role at a site through its {@code scale} subresource.
 *
 * <p>The Deployment is found by labels in one namespace: the base labels (by default
 * {@code app.kubernetes.io/name=slipstream}) plus {@code app.kubernetes.io/component=<role>} and
 * {@code slipstream.io/site=<site>}; exactly one must match. A worker's id is its pod name.
 *
 * <p>Scale-in: before lowering the replica count, every victim pod gets the annotation
 * {@code controller.kubernetes.io/pod-deletion-cost: "-2147483648"} (the lowest cost), and the
 * annotation is taken off any other pod of the Deployment that still carries it from an earlier round,
 * so the ReplicaSet controller removes exactly the victims. That annotation is honoured from Kubernetes
 * 1.22 on (beta, on by default; alpha in 1.21). Older clusters ignore it, but their ReplicaSet
 * controller still removes not-ready pods before ready ones, and a drained worker reports not ready
 * (its {@code /readyz} answers 503 while draining), so the victim goes first there too once its
 * readiness probe has failed.
 *
 * <p>What it needs from the API server, and nothing more (see {@code k8s/rbac/controller-role.yaml}):
 * {@code list} on deployments, {@code get} and {@code update} on deployments/scale, {@code list} and
 * {@code patch} on pods, all in its namespace. Every failure is a {@link ScaleException} whose message
 * says what to fix: which labels and namespace were searched, which verb on which resource is
 * forbidden, or which API server could not be reached.
 */
public final class KubernetesScaleTarget implements ScaleTarget {

    /** The label every Slipstream object carries (value: {@link #DEFAULT_APP_NAME}). */
    public static final String NAME_LABEL = "app.kubernetes.io/name";
    /** The label naming the worker role (wanopt, cache, gateway). */
    public static final String COMPONENT_LABEL = "app.kubernetes.io/component";
    /** The label naming the site. */
    public static final String SITE_LABEL = "slipstream.io/site";
    public static final String DEFAULT_APP_NAME = "slipstream";
    /** Lower cost pods are removed first by the ReplicaSet controller (Kubernetes 1.22+). */
    public static final String DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";
    /** The lowest cost there is (the annotation is an int32). */
    public static final String VICTIM_COST = Integer.toString(Integer.MIN_VALUE);
    /** How long a scale-in waits after taking an earlier mark off, for the controllers' caches to see it. */
    static final java.time.Duration UNMARK_SETTLE = java.time.Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(KubernetesScaleTarget.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 5_000;
    private static final Pattern REFUSED = Pattern.compile("cannot (\\S+) resource \"([^\"]+)\"");
    private static final int REQUEST_TIMEOUT_MILLIS = 10_000;

    private final KubernetesClient client;
    private final boolean ownsClient;
    private final String namespace;
    private final Map<String, String> baseLabels;

    /**
     * A target using {@code client} (not closed by {@link #close()}), looking for Deployments in
     * {@code namespace} that carry {@code baseLabels} besides the role and site labels.
     */
    public KubernetesScaleTarget(KubernetesClient client, String namespace, Map<String, String> baseLabels) {
        this(client, false, namespace, baseLabels);
    }

    private KubernetesScaleTarget(KubernetesClient client, boolean ownsClient, String namespace,
            Map<String, String> baseLabels) {
        this.client = Objects.requireNonNull(client, "client");
        this.ownsClient = ownsClient;
        this.namespace = requireName("namespace", namespace);
        Objects.requireNonNull(baseLabels, "baseLabels");
        for (String key : List.of(COMPONENT_LABEL, SITE_LABEL)) {
            if (baseLabels.containsKey(key)) {
                throw new IllegalArgumentException("baseLabels: " + baseLabels
                        + " (expected: no '" + key + "', the target sets it per role and site)");
            }
        }
        this.baseLabels = Map.copyOf(baseLabels);
    }

    /**
     * A target for the cluster this process runs in (its service account) or, outside a cluster, the
     * current kubeconfig context; {@code namespace} {@code null} means the pod's own namespace (or the
     * kubeconfig context's). This is what {@code --scale-target kubernetes} uses.
     */
    public static KubernetesScaleTarget fromEnvironment(String namespace) {
        Config config = Config.autoConfigure(null);
        String ns = namespace != null ? namespace : config.getNamespace();
        if (ns == null || ns.isBlank()) {
            throw new IllegalArgumentException("kubernetes namespace: none given and none found in the "
                    + "service account or kubeconfig (expected: --kubernetes-namespace NAME)");
        }
        return connect(config, ns);
    }

    /**
     * A target talking to the API server described by {@code config} (which it closes), with short
     * timeouts and no client-side retries: the autoscaler retries on its next round anyway.
     */
    public static KubernetesScaleTarget connect(Config config, String namespace) {
        Config tuned = new ConfigBuilder(config)
                .withConnectionTimeout(CONNECT_TIMEOUT_MILLIS)
                .withRequestTimeout(REQUEST_TIMEOUT_MILLIS)
                .withRequestRetryBackoffLimit(0)
                .build();
        KubernetesClient client = new KubernetesClientBuilder().withConfig(tuned).build();
        return new KubernetesScaleTarget(client, true, namespace, Map.of(NAME_LABEL, DEFAULT_APP_NAME));
    }

    @Override
    public String name() {
        return "kubernetes";
    }

    /** The namespace this target scales in. */
    public String namespace() {
        return namespace;
    }

    @Override
    public int replicas(String role, String site) throws ScaleException {
        Deployment deployment = find(role, site);
        Scale scale = readScale(deployment);
        Integer replicas = scale.getSpec() == null ? null : scale.getSpec().getReplicas();
        return replicas == null ? 0 : replicas;
    }

    @Override
    public void scale(String role, String site, int replicas, List<String> victims) throws ScaleException {
        if (replicas < 0) {
            throw new IllegalArgumentException("replicas: " + replicas + " (expected: >= 0)");
        }
        Objects.requireNonNull(victims, "victims");
        Deployment deployment = find(role, site);
        String name = deployment.getMetadata().getName();
        Scale current = readScale(deployment);
        int now = current.getSpec() == null || current.getSpec().getReplicas() == null
                ? 0 : current.getSpec().getReplicas();
        if (replicas == now) {
            // Already there: e.g. a new leader finishing the scale-in of a drain the previous one had carried out.
            return;
        }
        if (!victims.isEmpty() && victims.size() > now - replicas) {
            throw new ScaleException("victims " + victims + " are more than the " + Math.max(0, now - replicas)
                    + " pod(s) removed when Deployment '" + name + "' in namespace '" + namespace + "' goes from "
                    + now + " to " + replicas + " replicas; not scaling (was it scaled by someone else meanwhile?)");
        }
        if (replicas < now) {
            markVictims(deployment, Set.copyOf(victims));
        }
        writeScale(deployment, current, replicas);
        log.info("scaled Deployment {}/{} from {} to {} replicas{}", namespace, name, now, replicas,
                victims.isEmpty() ? "" : ", removing " + victims);
    }

    /**
     * Gives each victim the lowest deletion cost and takes the annotation off every other pod of the
     * Deployment that still has it; fails before touching anything when a victim is not one of its pods.
     * When a mark was taken off, waits {@link #UNMARK_SETTLE} before returning: the ReplicaSet controller
     * picks the pod to delete from its own cache of pods, which may not have seen the change yet when the
     * scale arrives, and would then remove the pod marked earlier instead of the victim (seen once in CI:
     * {@code KubernetesScaleTargetIT.scale_inAgainWithAnotherVictim_unmarksTheEarlierOne}).
     */
    private void markVictims(Deployment deployment, Set<String> victims) throws ScaleException {
        String name = deployment.getMetadata().getName();
        Map<String, String> selector = matchLabels(deployment);
        List<Pod> pods = call("list", "pods", () -> client.pods().inNamespace(namespace)
                .withLabels(selector).list().getItems());
        Set<String> podNames = pods.stream().map(p -> p.getMetadata().getName()).collect(Collectors.toSet());
        List<String> unknown = new ArrayList<>();
        for (String victim : victims) {
            if (!podNames.contains(victim)) {
                unknown.add(victim);
            }
        }
        if (!unknown.isEmpty()) {
            throw new ScaleException("victim pod(s) " + unknown + " are not pods of Deployment '" + name
                    + "' in namespace '" + namespace + "' (its pods: " + new TreeSet<>(podNames)
                    + "); not scaling in, so that no other worker is removed in their place");
        }
        boolean unmarked = false;
        for (Pod pod : pods) {
            Map<String, String> annotations = pod.getMetadata().getAnnotations();
            boolean marked = annotations != null && annotations.containsKey(DELETION_COST_ANNOTATION);
            if (marked && !victims.contains(pod.getMetadata().getName())) {
                patchDeletionCost(pod, null);
                unmarked = true;
            }
        }
        for (Pod pod : pods) {
            if (victims.contains(pod.getMetadata().getName())) {
                patchDeletionCost(pod, VICTIM_COST);
            }
        }
        if (unmarked) {
            try {
                Thread.sleep(UNMARK_SETTLE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ScaleException("interrupted before scaling Deployment '" + name + "' in namespace '"
                        + namespace + "'; nothing was scaled");
            }
        }
    }

    /**
     * A JSON merge patch of the one annotation ({@code null} removes it), sent for the pod as listed:
     * fabric8 reads an object before patching it unless it is handed one, and reading would need 'get'.
     */
    private void patchDeletionCost(Pod pod, String cost) throws ScaleException {
        String value = cost == null ? "null" : "\"" + cost + "\"";
        String patch = "{\"metadata\":{\"annotations\":{\"" + DELETION_COST_ANNOTATION + "\":" + value + "}}}";
        call("patch", "pods", () -> client.pods().inNamespace(namespace).resource(pod)
                .patch(PatchContext.of(PatchType.JSON_MERGE), patch));
    }

    private Scale readScale(Deployment deployment) throws ScaleException {
        String name = deployment.getMetadata().getName();
        return call("get", "deployments/scale", () -> client.apps().deployments().inNamespace(namespace)
                .withName(name).scale());
    }

    /**
     * Writes the replica count with the resource version just read, so a concurrent change (an operator's
     * {@code kubectl scale}, another controller) is not overwritten blindly: on a conflict it reads again
     * once and retries.
     */
    private void writeScale(Deployment deployment, Scale current, int replicas) throws ScaleException {
        String name = deployment.getMetadata().getName();
        Scale base = current;
        for (int attempt = 1; ; attempt++) {
            Scale wanted = new ScaleBuilder(base).editOrNewSpec().withReplicas(replicas).endSpec().build();
            try {
                client.apps().deployments().inNamespace(namespace).withName(name).scale(wanted);
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw translate("update", "deployments/scale", e);
                }
                if (attempt == 2) {
                    throw new ScaleException("Deployment '" + name + "' in namespace '" + namespace
                            + "' kept changing while scaling it to " + replicas
                            + " (is someone else scaling it too?): " + statusMessage(e), e);
                }
                base = readScale(deployment);
            }
        }
    }

    /** Exactly one Deployment with the base, role and site labels, or an error saying what was searched. */
    private Deployment find(String role, String site) throws ScaleException {
        Map<String, String> labels = new LinkedHashMap<>(baseLabels);
        labels.put(COMPONENT_LABEL, requireName("role", role));
        labels.put(SITE_LABEL, requireName("site", site));
        List<Deployment> found = call("list", "deployments", () -> client.apps().deployments()
                .inNamespace(namespace).withLabels(labels).list().getItems());
        String selector = selector(labels);
        if (found.isEmpty()) {
            throw new ScaleException("no Deployment for role '" + role + "' at site '" + site + "': none in namespace '"
                    + namespace + "' has the labels " + selector
                    + " (is the namespace right, and does the Deployment carry these labels?)");
        }
        if (found.size() > 1) {
            List<String> names = found.stream().map(d -> d.getMetadata().getName()).sorted()
                    .collect(Collectors.toList());
            throw new ScaleException(found.size() + " Deployments in namespace '" + namespace + "' have the labels "
                    + selector + ": " + names + " (expected: exactly one per role and site; remove or relabel "
                    + "the others)");
        }
        return found.get(0);
    }

    private Map<String, String> matchLabels(Deployment deployment) throws ScaleException {
        LabelSelector selector = deployment.getSpec() == null ? null : deployment.getSpec().getSelector();
        if (selector == null || selector.getMatchLabels() == null || selector.getMatchLabels().isEmpty()
                || (selector.getMatchExpressions() != null && !selector.getMatchExpressions().isEmpty())) {
            throw new ScaleException("Deployment '" + deployment.getMetadata().getName() + "' in namespace '" + namespace
                    + "' has selector " + selector + " (expected: matchLabels only, to find its pods)");
        }
        return selector.getMatchLabels();
    }

    /**
     * Runs one API call and turns its failure into a {@link ScaleException} an operator can act on:
     * {@code verb} and {@code resource} name the permission the call needs.
     */
    private <T> T call(String verb, String resource, Supplier<T> request) throws ScaleException {
        try {
            return request.get();
        } catch (KubernetesClientException e) {
            throw translate(verb, resource, e);
        }
    }

    private ScaleException translate(String verb, String resource, KubernetesClientException e) {
        String server = client.getMasterUrl() == null ? "the API server" : "the API server at " + client.getMasterUrl();
        switch (e.getCode()) {
            case 401:
                return new ScaleException("unauthorized: " + server + " rejected this controller's credentials"
                        + " (check its service account token or kubeconfig)", e);
            case 403: {
                // The API server names what it refused ("cannot update resource \"deployments/scale\""); trust
                // that over what this call meant to do, in case the client made a request of its own.
                Matcher refused = REFUSED.matcher(statusMessage(e));
                boolean named = refused.find();
                String missingVerb = named ? refused.group(1) : verb;
                String missingResource = named ? refused.group(2) : resource;
                return new ScaleException("forbidden: needs '" + missingVerb + "' on " + missingResource
                        + " in namespace '" + namespace + "' (grant it with a Role like "
                        + "k8s/rbac/controller-role.yaml bound to the controller's service account): "
                        + statusMessage(e), e);
            }
            case 404:
                return new ScaleException("not found: " + verb + " " + resource + " in namespace '" + namespace
                        + "' (was it deleted meanwhile?): " + statusMessage(e), e);
            default:
                IOException io = e.getCode() > 0 ? null : connectionFailure(e);
                if (io != null) {
                    return new ScaleException(server + " is unreachable (" + verb + " " + resource + " in namespace '"
                            + namespace + "'): " + io, e);
                }
                return new ScaleException(verb + " " + resource + " in namespace '" + namespace + "' failed"
                        + (e.getCode() > 0 ? " with HTTP " + e.getCode() : "") + ": " + statusMessage(e), e);
        }
    }

    private static String statusMessage(KubernetesClientException e) {
        return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
    }

    /**
     * The I/O failure behind a request that got no HTTP answer: the most telling one in the cause chain
     * (a refused or timed-out connection, an unknown host) or else the first I/O exception; {@code null}
     * when there is none.
     */
    private static IOException connectionFailure(Throwable t) {
        IOException first = null;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof ConnectException || c instanceof UnknownHostException
                    || c instanceof SocketTimeoutException || c instanceof HttpTimeoutException
                    || c instanceof SSLException) {
                return (IOException) c;
            }
            if (first == null && c instanceof IOException) {
                first = (IOException) c;
            }
        }
        return first;
    }

    private static String selector(Map<String, String> labels) {
        return new TreeMap<>(labels).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(","));
    }

    private static String requireName(String what, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + ": '" + value + "' (expected: a non-empty name)");
        }
        return value;
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }
}
