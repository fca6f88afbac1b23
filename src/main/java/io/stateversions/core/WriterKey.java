package io.stateversions.core;

import com.github.benmanes.caffeine.cache.Interner;
import java.util.Objects;

/**
 * The first segment of a batch part key (spec §2): who wrote the part.
 * <ul>
 *   <li>{@code w<uuid>}: a specific writer (the legacy form);</li>
 *   <li>{@code n<version>}: the version of the code that wrote it, {@code MM mmm pp} zero-padded to 2+3+2 digits
 *       (v0.130.0 is {@code n0013000}), so that the string sorts like the version;</li>
 *   <li>{@code f<version>}: the same, routed to a "fast" blob tier.</li>
 * </ul>
 * All {@code w} keys sort before all version keys; for one version the base tier sorts before the fast tier.
 *
 * <p>{@link #parse} and {@link #of} give one instance per key in use on the replica: a shard's state holds the key
 * of every part of every batch, and the parts of a shard are written by a few writers, so that each batch would
 * otherwise hold a copy of its writer's key (96 bytes, an eighth of a batch of one hollow part).
 */
public record WriterKey(String printed) implements Comparable<WriterKey> {

    /** The keys in use, held weakly: a key no state or request refers to any more goes with the next collection. */
    private static final Interner<WriterKey> IN_USE = Interner.newWeakInterner();

    public WriterKey {
        Objects.requireNonNull(printed, "printed");
        if (!printed.isEmpty() && printed.charAt(0) == 'w') {
            // One printed form per key: lower-case hex. Every part key of every append passes here, and nearly all
            // are printed already: check that without parsing; otherwise parse (which validates) and print.
            if (!Ids.isPrinted("w", printed)) {
                printed = WriterId.parse(printed).toString();
            }
        } else {
            validate(printed);
        }
    }

    public static WriterKey of(WriterId writer) {
        return IN_USE.intern(new WriterKey(writer.toString()));
    }

    /** The version key {@code n<MMmmmpp>} of {@code version}. */
    public static WriterKey ofVersion(Version version) {
        if (version.major() > 99 || version.minor() > 999 || version.patch() > 99) {
            throw new IllegalArgumentException("version " + version + " does not fit a writer key (2+3+2 digits)");
        }
        return IN_USE.intern(new WriterKey(String.format("n%02d%03d%02d", version.major(), version.minor(),
                version.patch())));
    }

    public static WriterKey parse(String printed) {
        return IN_USE.intern(new WriterKey(printed));
    }

    private static void validate(String printed) {
        if (printed.isEmpty()) {
            throw new IllegalArgumentException("invalid writer key \"\": expected w<uuid>, n<version> or f<version>");
        }
        switch (printed.charAt(0)) {
            case 'n', 'f' -> {
                if (printed.length() != 8 || !printed.substring(1).chars().allMatch(c -> c >= '0' && c <= '9')) {
                    throw new IllegalArgumentException("invalid writer key \"" + printed
                            + "\": a version key is n or f and 7 digits (MMmmmpp)");
                }
            }
            default -> throw new IllegalArgumentException("invalid writer key \"" + printed
                    + "\": expected w<uuid>, n<version> or f<version>");
        }
    }

    @Override
    public int compareTo(WriterKey other) {
        boolean legacy = printed.charAt(0) == 'w';
        boolean otherLegacy = other.printed.charAt(0) == 'w';
        if (legacy != otherLegacy) {
            return legacy ? -1 : 1;
        }
        if (legacy) {
            return printed.compareTo(other.printed); // lower-case hex: the order of the UUID's bytes
        }
        int c = printed.substring(1).compareTo(other.printed.substring(1)); // zero-padded: the version order
        // Same version: the base tier 'n' before the fast tier 'f', the reverse of their character order.
        return c != 0 ? c : Character.compare(other.printed.charAt(0), printed.charAt(0));
    }

    @Override
    public String toString() {
        return printed;
    }
}
