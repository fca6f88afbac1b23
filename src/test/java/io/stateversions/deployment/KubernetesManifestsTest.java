package io.stateversions.deployment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The Kubernetes manifests under {@code k8s/} as a cluster would receive them: every kustomization (and every
 * component, applied to the kustomization that holds it) is rendered by {@code kubectl kustomize}, each document of a
 * built-in kind is read into the Kubernetes API's typed model (fabric8) with unknown and misspelt fields refused, other
 * kinds (custom resources such as a ServiceMonitor) must at least name their apiVersion, kind and name, and the objects
 * of one rendering must agree with each other: Service, PodDisruptionBudget and NetworkPolicy select the Deployment's
 * pods, named ports and referenced ConfigMaps and Secrets exist, the HorizontalPodAutoscaler scales the Deployment and
 * keeps more replicas than the budget's minimum.
 *
 * <p>kubectl is required: without it the test fails with the command that installs it ({@code .ci/run} installs it).
 */
class KubernetesManifestsTest {

    private static final Path K8S = Path.of("k8s");
    private static final Path VARIANTS = Path.of("target", "k8s-variants");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** The built-in kinds the manifests may use, by apiVersion and kind; another built-in kind needs a row here. */
    private static final Map<String, Class<?>> MODEL = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "apps/v1/Deployment", Deployment.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

    /**
     * The appProtocol a Service port to an API port must declare: TLS (ALPN h2 and http/1.1), or cleartext HTTP/2
     * behind a mesh. (A port to the management interface, for a metrics Service, may declare none.)
     */
    private static final Map<Integer, String> APP_PROTOCOL = Map.of(8443, "https", 8080, "kubernetes.io/h2c");

    @TestFactory
    Stream<DynamicTest> every_kustomization_renders_into_valid_objects_that_agree_with_each_other() throws IOException {
        List<Path> roots = kustomizationRoots();
        assertThat(roots).as("kustomizations under k8s/").isNotEmpty();
        return roots.stream().map(root -> DynamicTest.dynamicTest(root.toString(), () -> check(render(root))));
    }

    @Test
    void the_base_serves_tls_through_a_cluster_ip_and_a_headless_service_and_scales_from_three_replicas()
            throws IOException {
        Rendering base = render(K8S);
        assertThat(base.all(Service.class)).extracting(s -> s.getMetadata().getName())
                .containsExactlyInAnyOrder("state-versions", "state-versions-headless", "state-versions-metrics");
        assertThat(base.named(Service.class, "state-versions-headless").getSpec().getClusterIP())
                .as("the headless Service's clusterIP").isEqualTo("None");
        // Prometheus's: the management port only, each pod a target of its own.
        Service metrics = base.named(Service.class, "state-versions-metrics");
        assertThat(metrics.getSpec().getClusterIP()).as("the metrics Service's clusterIP").isEqualTo("None");
        assertThat(metrics.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(9000);
        List<Service> services = base.all(Service.class).stream()
                .filter(s -> !s.getMetadata().getName().equals("state-versions-metrics")).toList();
        for (Service service : services) {
            assertThat(service.getSpec().getPorts()).as("ports of %s", service.getMetadata().getName())
                    .extracting(ServicePort::getPort, ServicePort::getAppProtocol)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(8443, "https"));
        }
        assertThat(base.single(HorizontalPodAutoscaler.class).getSpec().getMinReplicas()).isEqualTo(3);
        assertThat(base.single(NetworkPolicy.class).getSpec().getPolicyTypes()).containsExactly("Ingress", "Egress");
    }

    @Test
    void the_mesh_component_serves_h2c_on_8080_without_the_tls_secret() throws IOException {
        Rendering mesh = render(Path.of("k8s", "components", "mesh-h2c"));
        // The metrics Service keeps the management port: the mesh changes the API port only.
        assertThat(mesh.named(Service.class, "state-versions-metrics").getSpec().getPorts())
                .extracting(ServicePort::getPort).containsExactly(9000);
        for (Service service : mesh.all(Service.class).stream()
                .filter(s -> !s.getMetadata().getName().equals("state-versions-metrics")).toList()) {
            assertThat(service.getSpec().getPorts()).as("ports of %s", service.getMetadata().getName())
                    .extracting(ServicePort::getPort, ServicePort::getAppProtocol)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(8080, "kubernetes.io/h2c"));
        }
        assertThat(mesh.all(Secret.class)).extracting(s -> s.getMetadata().getName())
                .doesNotContain("state-versions-tls");
        assertThat(mesh.named(ConfigMap.class, "state-versions-properties").getData().get("application.properties"))
                .doesNotContain("tls-configuration-name").contains("quarkus.http.insecure-requests=enabled");
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static void check(Rendering rendering) {
        List<String> problems = new ArrayList<>();
        for (Document document : rendering.documents) {
            problems.addAll(document.problems);
        }
        List<Deployment> deployments = rendering.all(Deployment.class);
        for (Deployment deployment : deployments) {
            problems.addAll(deploymentProblems(rendering, deployment));
        }
        // What deploymentProblems checks per Deployment, these must each belong to one.
        for (Service service : rendering.all(Service.class)) {
            if (deployments.stream().noneMatch(d -> d.getSpec().getTemplate().getMetadata().getLabels().entrySet()
                    .containsAll(service.getSpec().getSelector().entrySet()))) {
                problems.add("Service " + service.getMetadata().getName() + " selects the pods of no Deployment");
            }
        }
        for (HorizontalPodAutoscaler autoscaler : rendering.all(HorizontalPodAutoscaler.class)) {
            String target = autoscaler.getSpec().getScaleTargetRef().getName();
            if (rendering.find(Deployment.class, target).isEmpty()) {
                problems.add("HorizontalPodAutoscaler " + autoscaler.getMetadata().getName() + " scales " + target
                        + ", which is not in the rendering");
            }
        }
        assertThat(problems).as("problems in the rendering of %s", rendering.root).isEmpty();
    }

    private static List<String> deploymentProblems(Rendering rendering, Deployment deployment) {
        List<String> problems = new ArrayList<>();
        String name = "Deployment " + deployment.getMetadata().getName();
        Map<String, String> podLabels = deployment.getSpec().getTemplate().getMetadata().getLabels();
        if (!selects(deployment.getSpec().getSelector(), podLabels)) {
            problems.add(name + ": its selector does not match its pod labels " + podLabels);
        }
        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        List<ContainerPort> containerPorts = pod.getContainers().stream().flatMap(c -> c.getPorts().stream()).toList();

        for (var container : pod.getContainers()) {
            for (Probe probe : Stream.of(container.getStartupProbe(), container.getLivenessProbe(),
                    container.getReadinessProbe()).filter(p -> p != null).toList()) {
                if (probe.getHttpGet() != null && !portExists(containerPorts, probe.getHttpGet().getPort())) {
                    problems.add(name + ": a probe names port " + describe(probe.getHttpGet().getPort())
                            + ", which it does not declare");
                }
            }
            for (EnvFromSource source : container.getEnvFrom()) {
                if (source.getConfigMapRef() != null && !Boolean.TRUE.equals(source.getConfigMapRef().getOptional())
                        && rendering.find(ConfigMap.class, source.getConfigMapRef().getName()).isEmpty()) {
                    problems.add(name + ": envFrom ConfigMap " + source.getConfigMapRef().getName() + " is missing");
                }
                if (source.getSecretRef() != null && !Boolean.TRUE.equals(source.getSecretRef().getOptional())
                        && rendering.find(Secret.class, source.getSecretRef().getName()).isEmpty()) {
                    problems.add(name + ": envFrom Secret " + source.getSecretRef().getName() + " is missing");
                }
            }
            for (var mount : container.getVolumeMounts()) {
                if (pod.getVolumes().stream().noneMatch(v -> v.getName().equals(mount.getName()))) {
                    problems.add(name + ": volume mount " + mount.getName() + " names no volume");
                }
            }
        }
        for (Volume volume : pod.getVolumes()) {
            if (volume.getConfigMap() != null && rendering.find(ConfigMap.class, volume.getConfigMap().getName()).isEmpty()) {
                problems.add(name + ": volume " + volume.getName() + " names the missing ConfigMap "
                        + volume.getConfigMap().getName());
            }
            if (volume.getSecret() != null && rendering.find(Secret.class, volume.getSecret().getSecretName()).isEmpty()) {
                problems.add(name + ": volume " + volume.getName() + " names the missing Secret "
                        + volume.getSecret().getSecretName());
            }
        }

        for (Service service : rendering.all(Service.class)) {
            String serviceName = "Service " + service.getMetadata().getName();
            if (!podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet())) {
                continue; // a Service of other pods
            }
            for (ServicePort port : service.getSpec().getPorts()) {
                Optional<ContainerPort> target = containerPorts.stream()
                        .filter(c -> matches(c, port.getTargetPort() == null ? new IntOrString(port.getPort())
                                : port.getTargetPort()))
                        .findFirst();
                if (target.isEmpty()) {
                    problems.add(serviceName + ": port " + port.getName() + " targets " + describe(port.getTargetPort())
                            + ", which " + name + " does not declare");
                } else if (APP_PROTOCOL.containsKey(target.get().getContainerPort())
                        && !APP_PROTOCOL.get(target.get().getContainerPort()).equals(port.getAppProtocol())) {
                    problems.add(serviceName + ": port " + port.getName() + " to container port "
                            + target.get().getContainerPort() + " has appProtocol " + port.getAppProtocol()
                            + ", expected " + APP_PROTOCOL.get(target.get().getContainerPort()));
                }
            }
        }

        Optional<PodDisruptionBudget> budget = rendering.all(PodDisruptionBudget.class).stream()
                .filter(b -> selects(b.getSpec().getSelector(), podLabels)).findFirst();
        if (budget.isEmpty()) {
            problems.add(name + ": no PodDisruptionBudget selects its pods");
        }
        List<HorizontalPodAutoscaler> autoscalers = rendering.all(HorizontalPodAutoscaler.class).stream()
                .filter(h -> h.getSpec().getScaleTargetRef().getName().equals(deployment.getMetadata().getName()))
                .toList();
        for (HorizontalPodAutoscaler autoscaler : autoscalers) {
            var target = autoscaler.getSpec().getScaleTargetRef();
            if (!"Deployment".equals(target.getKind()) || !"apps/v1".equals(target.getApiVersion())) {
                problems.add("HorizontalPodAutoscaler " + autoscaler.getMetadata().getName() + " targets "
                        + target.getApiVersion() + " " + target.getKind() + ", not apps/v1 Deployment");
            }
            int minReplicas = autoscaler.getSpec().getMinReplicas() == null ? 1 : autoscaler.getSpec().getMinReplicas();
            if (budget.isPresent() && budget.get().getSpec().getMinAvailable() != null
                    && minReplicas <= budget.get().getSpec().getMinAvailable().getIntVal()) {
                problems.add("HorizontalPodAutoscaler " + autoscaler.getMetadata().getName() + ": minReplicas "
                        + minReplicas + " does not exceed the PodDisruptionBudget's minAvailable "
                        + budget.get().getSpec().getMinAvailable().getIntVal() + ", so no pod could ever be evicted");
            }
        }
        if (!autoscalers.isEmpty() && deployment.getSpec().getReplicas() != null) {
            problems.add(name + ": sets replicas " + deployment.getSpec().getReplicas()
                    + " although a HorizontalPodAutoscaler owns the count (every apply would reset it)");
        }

        for (NetworkPolicy policy : rendering.all(NetworkPolicy.class)) {
            if (!selects(policy.getSpec().getPodSelector(), podLabels)) {
                problems.add("NetworkPolicy " + policy.getMetadata().getName() + " does not select the pods of " + name);
                continue;
            }
            for (NetworkPolicyIngressRule rule : policy.getSpec().getIngress()) {
                for (NetworkPolicyPort port : rule.getPorts()) {
                    if (!portExists(containerPorts, port.getPort())) {
                        problems.add("NetworkPolicy " + policy.getMetadata().getName() + " admits port "
                                + describe(port.getPort()) + ", which " + name
                                + " does not declare");
                    }
                }
            }
        }
        return problems;
    }

    private static boolean selects(LabelSelector selector, Map<String, String> labels) {
        return selector != null && selector.getMatchExpressions().isEmpty() && !selector.getMatchLabels().isEmpty()
                && labels.entrySet().containsAll(selector.getMatchLabels().entrySet());
    }

    private static String describe(IntOrString port) {
        return port.getStrVal() != null ? port.getStrVal() : String.valueOf(port.getIntVal());
    }

    private static boolean portExists(List<ContainerPort> ports, IntOrString port) {
        return ports.stream().anyMatch(p -> matches(p, port));
    }

    private static boolean matches(ContainerPort declared, IntOrString port) {
        return port.getStrVal() != null ? port.getStrVal().equals(declared.getName())
                : port.getIntVal().equals(declared.getContainerPort());
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Directories under k8s/ holding a kustomization.yaml (a Kustomization or a Component). */
    private static List<Path> kustomizationRoots() throws IOException {
        try (Stream<Path> files = Files.walk(K8S)) {
            return files.filter(f -> f.getFileName().toString().matches("kustomization\\.ya?ml|Kustomization"))
                    .map(Path::getParent).sorted().toList();
        }
    }

    /**
     * Renders a kustomization; a component is rendered applied to the nearest kustomization above it, through a
     * kustomization written under target/ (kustomize refuses a kustomization that names a directory containing it).
     */
    private static Rendering render(Path root) throws IOException {
        Path kustomization = Files.exists(root.resolve("kustomization.yaml")) ? root.resolve("kustomization.yaml")
                : root.resolve("kustomization.yml");
        String kind = YAML.readTree(kustomization.toFile()).path("kind").asText("Kustomization");
        Path rendered = root;
        if (kind.equals("Component")) {
            Path base = root.getParent();
            while (base != null && !isKustomization(base)) {
                base = base.getParent();
            }
            assertThat(base).as("a kustomization above the component %s", root).isNotNull();
            Path variant = VARIANTS.resolve(root.getFileName());
            Files.createDirectories(variant);
            Files.writeString(variant.resolve("kustomization.yaml"), "resources:\n  - " + variant.relativize(base)
                    + "\ncomponents:\n  - " + variant.relativize(root) + "\n");
            rendered = variant;
        } else {
            assertThat(kind).as("kind of %s", kustomization).isEqualTo("Kustomization");
        }
        return new Rendering(root, parse(kubectlKustomize(rendered)));
    }

    private static boolean isKustomization(Path dir) {
        Path file = dir.resolve("kustomization.yaml");
        try {
            return Files.exists(file) && YAML.readTree(file.toFile()).path("kind").asText("Kustomization")
                    .equals("Kustomization");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }

    private static String kubectlKustomize(Path dir) throws IOException {
        Path stderr = Files.createTempFile("kubectl-kustomize", ".err");
        Process process;
        try {
            process = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectError(stderr.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("kubectl is needed to render k8s/ (" + e.getMessage() + "). Install it: "
                    + "apt-get install -y kubectl (1.27 or newer; .ci/run installs it when missing)", e);
        }
        try {
            process.getOutputStream().close();
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("kubectl kustomize " + dir + " did not finish in 60 s");
            }
            assertThat(process.exitValue()).as("kubectl kustomize %s exit status; stderr: %s", dir,
                    Files.readString(stderr)).isZero();
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while rendering " + dir, e);
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static List<Document> parse(String yaml) throws IOException {
        List<Document> documents = new ArrayList<>();
        try (var nodes = YAML.readerFor(JsonNode.class).<JsonNode> readValues(yaml)) {
            while (nodes.hasNext()) {
                JsonNode node = nodes.next();
                if (node == null || node.isNull() || node.isEmpty()) {
                    continue;
                }
                documents.add(Document.of(node));
            }
        }
        assertThat(documents).as("documents rendered").isNotEmpty();
        return documents;
    }

    /** One rendered object: its typed form where its kind is built in, and what is wrong with it. */
    private record Document(String apiVersion, String kind, String name, Object typed, List<String> problems) {

        static Document of(JsonNode node) {
            String apiVersion = node.path("apiVersion").asText("");
            String kind = node.path("kind").asText("");
            String name = node.path("metadata").path("name").asText("");
            String label = apiVersion + " " + kind + " " + name;
            List<String> problems = new ArrayList<>();
            if (apiVersion.isEmpty() || kind.isEmpty() || name.isEmpty()) {
                problems.add(label + ": apiVersion, kind and metadata.name are required");
                return new Document(apiVersion, kind, name, null, problems);
            }
            Class<?> type = MODEL.get(apiVersion + "/" + kind);
            if (type == null) {
                String group = apiVersion.contains("/") ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
                if (!group.contains(".") || group.endsWith(".k8s.io")) {
                    problems.add(label + ": a built-in kind or version this test has no model for (a removed or "
                            + "beta version? else add it to KubernetesManifestsTest.MODEL)");
                }
                return new Document(apiVersion, kind, name, null, problems); // a custom resource: structure only
            }
            Object typed;
            try {
                typed = YAML.treeToValue(node, type);
            } catch (IOException e) {
                problems.add(label + ": not a valid " + kind + ": " + e.getMessage());
                return new Document(apiVersion, kind, name, null, problems);
            }
            unknownFields(typed, kind, problems);
            return new Document(apiVersion, kind, name, typed, problems);
        }
    }

    /**
     * The model keeps fields it does not know in additionalProperties instead of failing; any found anywhere in the
     * object is a misspelt or misplaced field that the API server would drop or refuse.
     */
    private static void unknownFields(Object value, String path, List<String> problems) {
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                unknownFields(item, path + "[" + i++ + "]", problems);
            }
            return;
        }
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> unknownFields(v, path + "[" + k + "]", problems));
            return;
        }
        if (value == null || !value.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || !getter.getName().startsWith("get") || getter.getName().equals("getClass")) {
                continue;
            }
            Object field;
            try {
                field = getter.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                throw new IllegalStateException("cannot read " + path + "." + getter.getName(), e);
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (field instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    problems.add(path + ": unknown fields " + extra.keySet());
                }
                continue;
            }
            String fieldName = Character.toLowerCase(getter.getName().charAt(3)) + getter.getName().substring(4);
            unknownFields(field, path + "." + fieldName, problems);
        }
    }

    private record Rendering(Path root, List<Document> documents) {

        <T> List<T> all(Class<T> type) {
            return documents.stream().map(Document::typed).filter(type::isInstance).map(type::cast).toList();
        }

        <T> Optional<T> find(Class<T> type, String name) {
            return documents.stream().filter(d -> type.isInstance(d.typed()) && d.name().equals(name))
                    .map(d -> type.cast(d.typed())).findFirst();
        }

        <T> T named(Class<T> type, String name) {
            return find(type, name).orElseThrow(() -> new AssertionError(
                    "no " + type.getSimpleName() + " " + name + " in the rendering of " + root));
        }

        <T> T single(Class<T> type) {
            List<T> found = all(type);
            assertThat(found).as("%s objects in the rendering of %s", type.getSimpleName(), root).hasSize(1);
            return found.get(0);
        }
    }
}
