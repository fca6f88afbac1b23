package io.stateversions.api.rest;

import io.quarkus.smallrye.openapi.OpenApiFilter;
import io.stateversions.api.security.Operation;
import java.util.Locale;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.PathItem;

/**
 * Gives every REST operation of the OpenAPI document the {@code operationId} of its row in {@link Operation}'s table:
 * the gRPC method's name in lower camel case ({@code compareAndAppend}), so that a generated client's methods are
 * named as the gRPC ones are, whatever the Java resource methods are called. An operation of the document that the
 * table does not know fails the build: the table, the resources and the document must agree.
 */
@OpenApiFilter(OpenApiFilter.RunStage.BUILD)
public final class OperationIds implements OASFilter {

    @Override
    public void filterOpenAPI(OpenAPI openAPI) {
        if (openAPI.getPaths() == null) {
            return;
        }
        openAPI.getPaths().getPathItems().forEach((path, item) -> {
            if (!path.startsWith("/v1/")) {
                return;
            }
            item.getOperations().forEach((method, operation) -> operation.setOperationId(operationId(method, path)));
        });
    }

    /** The operationId of {@code method} on {@code pathTemplate}: its table row's gRPC name, in lower camel case. */
    static String operationId(PathItem.HttpMethod method, String pathTemplate) {
        for (Operation operation : Operation.values()) {
            if (operation.httpMethod().filter(method.name()::equals).isPresent()
                    && operation.pathTemplate().filter(pathTemplate::equals).isPresent()) {
                String grpc = operation.grpcMethods().get(0);
                String name = grpc.substring(grpc.indexOf('/') + 1);
                return name.substring(0, 1).toLowerCase(Locale.ROOT) + name.substring(1);
            }
        }
        throw new IllegalStateException("the OpenAPI document has " + method + " " + pathTemplate
                + ", which the operation table (api.security.Operation) does not list");
    }
}
