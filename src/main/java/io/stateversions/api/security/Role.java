package io.stateversions.api.security;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/**
 * The roles of the API, each including the ones before it: {@code reader} ⊂ {@code writer} ⊂ {@code admin}. A caller
 * holds the roles its token's role claim or its certificate's mapping names; it may call an operation iff one of them
 * includes the role the operation requires ({@link Operation}). Other role names are ignored.
 */
public enum Role {
    /** Every read, snapshots, watches, leased and critical reader handles. */
    READER,
    /** Appends, writer handles, merges, schema registration, and everything a reader may. */
    WRITER,
    /** Opening and finalizing shards, maintenance (rollup, GC, leaked-blob sweep), and everything a writer may. */
    ADMIN;

    /** The name in tokens and certificate mappings. */
    public String roleName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Iff a holder of this role may do what {@code required} allows. */
    public boolean includes(Role required) {
        return compareTo(required) >= 0;
    }

    public static Optional<Role> named(String name) {
        for (Role role : values()) {
            if (role.roleName().equals(name)) {
                return Optional.of(role);
            }
        }
        return Optional.empty();
    }

    /** Iff one of {@code held} (role names) includes {@code required}. */
    public static boolean grants(Collection<String> held, Role required) {
        for (String name : held) {
            if (named(name).map(role -> role.includes(required)).orElse(false)) {
                return true;
            }
        }
        return false;
    }
}
