package io.stateversions.api.security;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.vertx.core.http.ClientAuth;
import java.util.List;
import java.util.Map;

/**
 * Authentication and authorization on the API port (REST and gRPC). TLS itself is Quarkus' TLS registry
 * ({@code quarkus.tls.*}), bearer tokens are verified by SmallRye JWT ({@code mp.jwt.verify.*}); see README
 * "Security" for every key.
 */
@ConfigMapping(prefix = "stateversions.security")
public interface SecurityConfig {

    /**
     * Every request on the API port needs credentials (a bearer token or a client certificate) and a role that
     * allows its operation ({@link Operation}). Off by default, for local use; the Kubernetes manifests turn it on.
     */
    @WithDefault("false")
    boolean enabled();

    /** The token claim holding the caller's roles (a JSON array of strings, or a path such as {@code realm/roles}). */
    @WithDefault("groups")
    String roleClaim();

    /**
     * Client certificates: {@code NONE}; {@code REQUEST}, a certificate is verified against the trust store
     * ({@code quarkus.tls.trust-store.*}) when the client sends one; {@code REQUIRED}, a client without a trusted
     * certificate cannot connect.
     */
    @WithDefault("NONE")
    ClientAuth clientAuth();

    /**
     * Which attribute of a client certificate names it in {@link #certificateRoles()}: {@code CN} (the subject's
     * common name), or a subject alternative name: {@code SAN_URI}, {@code SAN_ANY}, {@code SAN_ORDINAL}.
     */
    @WithDefault("CN")
    String certificateAttribute();

    /**
     * The roles of a client certificate, by the value of its {@link #certificateAttribute()}: for instance
     * {@code stateversions.security.certificate-roles."billing-writer"=writer}. A certificate without an entry is
     * authenticated but may call nothing.
     */
    Map<String, List<String>> certificateRoles();
}
