package io.stateversions.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.MethodDescriptor;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import java.lang.reflect.Method;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The role table covers the whole API: every JAX-RS resource method, the watch route and every gRPC method of the
 * service (a new endpoint without a row fails here), with the roles api.md gives.
 */
class OperationTableTest {

    private static final List<Class<?>> RESOURCES = List.of(io.stateversions.api.rest.ShardsResource.class,
            io.stateversions.api.rest.LeasedReadersResource.class, io.stateversions.api.rest.CriticalReadersResource.class,
            io.stateversions.api.rest.WritersResource.class, io.stateversions.api.rest.BatchesResource.class,
            io.stateversions.api.rest.LifecycleResource.class, io.stateversions.api.ui.InspectorResource.class);

    @Test
    void everyRestRouteHasARowAndEveryRowARoute() {
        Set<String> routes = new HashSet<>();
        for (Class<?> resource : RESOURCES) {
            String base = resource.getAnnotation(Path.class).value();
            for (Method method : resource.getDeclaredMethods()) {
                String verb = method.isAnnotationPresent(GET.class) ? "GET" : method.isAnnotationPresent(PUT.class) ? "PUT"
                        : method.isAnnotationPresent(POST.class) ? "POST" : method.isAnnotationPresent(DELETE.class)
                        ? "DELETE" : null;
                if (verb != null) {
                    Path path = method.getAnnotation(Path.class);
                    routes.add(verb + " " + base + (path == null ? "" : path.value()));
                }
            }
        }
        routes.add("GET /v1/shards/{shard}/watch"); // WatchRoute, a Vert.x route
        Set<String> table = java.util.Arrays.stream(Operation.values()).filter(o -> o.httpMethod().isPresent())
                .map(o -> o.httpMethod().get() + " " + o.pathTemplate().get()).collect(Collectors.toSet());
        assertThat(table).containsExactlyInAnyOrderElementsOf(routes);
        for (String route : routes) {
            String[] parts = route.split(" ");
            String concrete = parts[1].replaceAll("\\{[^}]+}", "x");
            assertThat(Operation.ofRest(parts[0], concrete)).as(route).isPresent();
        }
    }

    @Test
    void everyGrpcMethodHasARow() {
        for (MethodDescriptor<?, ?> method : StateVersionsGrpc.getServiceDescriptor().getMethods()) {
            assertThat(Operation.ofGrpc(method.getFullMethodName())).as(method.getFullMethodName()).isPresent();
        }
        assertThat(Operation.ofGrpc("grpc.reflection.v1.ServerReflection/ServerReflectionInfo")).isPresent();
    }

    @Test
    void rolesAsTheContractGivesThem() {
        assertThat(Operation.OPEN_SHARD.role()).isEqualTo(Role.ADMIN);
        assertThat(Operation.FINALIZE.role()).isEqualTo(Role.ADMIN);
        assertThat(Operation.SWEEP_LEAKED_BLOBS.role()).isEqualTo(Role.ADMIN);
        assertThat(Operation.COMPARE_AND_APPEND.role()).isEqualTo(Role.WRITER);
        assertThat(Operation.REGISTER_SCHEMA.role()).isEqualTo(Role.WRITER);
        assertThat(Operation.WATCH.role()).isEqualTo(Role.READER);
        assertThat(Operation.REGISTER_CRITICAL_READER.role()).isEqualTo(Role.READER);
        assertThat(Role.ADMIN.includes(Role.WRITER)).isTrue();
        assertThat(Role.WRITER.includes(Role.ADMIN)).isFalse();
        assertThat(Operation.ofRest("HEAD", "/v1/shards")).isEmpty(); // unknown requests need admin
    }
}
