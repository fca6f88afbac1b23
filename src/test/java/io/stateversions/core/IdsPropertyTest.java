package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.testing.StateGen;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class IdsPropertyTest {

    @Provide
    Arbitrary<UUID> uuids() {
        return StateGen.uuids();
    }

    @Property(tries = 500)
    void idsOrderAsTheirPrintedForms(@ForAll("uuids") UUID a, @ForAll("uuids") UUID b) {
        assertThat(Integer.signum(new ShardId(a).compareTo(new ShardId(b))))
                .isEqualTo(Integer.signum(new ShardId(a).toString().compareTo(new ShardId(b).toString())));
        // A part id holds the UUID's halves itself: the same order, the same printed form, equal iff the UUIDs are.
        assertThat(Integer.signum(new PartId(a).compareTo(new PartId(b))))
                .isEqualTo(Integer.signum(new PartId(a).toString().compareTo(new PartId(b).toString())));
        assertThat(new PartId(a).equals(new PartId(b))).isEqualTo(a.equals(b));
        assertThat(PartId.parse(new PartId(a).toString()).uuid()).isEqualTo(a);
    }

    @Property(tries = 500)
    void printedIdsParseBack(@ForAll("uuids") UUID uuid) {
        assertThat(RunId.parse(new RunId(uuid).toString()).uuid()).isEqualTo(uuid);
        assertThat(ShardId.parse(new ShardId(uuid).toString().toUpperCase().replace('S', 's')).uuid())
                .isEqualTo(uuid);
    }

    /**
     * Strings near printed ids: a printed id with one character replaced, upper-cased, cut short or lengthened, so
     * that every check of {@link Ids#parse} and {@link Ids#isPrinted} meets inputs that just pass and just fail it.
     */
    @Provide
    Arbitrary<String> nearIds() {
        Arbitrary<String> printed = StateGen.uuids().map(uuid -> "w" + uuid);
        Arbitrary<Character> odd = Arbitraries.of('-', 'a', 'f', 'g', 'A', 'F', 'G', '0', '9', '/', ':', '`', '@',
                'w', 'W', '\u0660', '\uff21', '\u00e9');
        return Arbitraries.oneOf(
                printed,
                printed.map(String::toUpperCase),
                Arbitraries.integers().between(0, 36).flatMap(at -> Arbitraries.integers().between(0, 36)
                        .flatMap(to -> printed.map(p -> p.substring(0, at) + p.substring(at, Math.max(at, to))
                                .toUpperCase() + p.substring(Math.max(at, to))))),
                Arbitraries.integers().between(0, 36).flatMap(at -> odd.flatMap(c -> printed.map(
                        p -> p.substring(0, at) + c + p.substring(at + 1)))),
                Arbitraries.integers().between(0, 36).flatMap(at -> printed.map(p -> p.substring(0, at))),
                printed.map(p -> p + "0"));
    }

    /** The strict parser accepts what {@link UUID#fromString} reads from a canonical-length UUID, and nothing else. */
    @Property(tries = 2_000)
    void parseAgreesWithTheJdkOnCanonicalLengthUuids(@ForAll("nearIds") String candidate) {
        Optional<UUID> ours = attempt(() -> Ids.parse("writer id", "w", candidate));
        boolean shaped = candidate.length() == 37 && candidate.charAt(0) == 'w'
                && candidate.substring(1).matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
        assertThat(ours).isEqualTo(shaped ? Optional.of(UUID.fromString(candidate.substring(1))) : Optional.empty());
    }

    /** {@link Ids#isPrinted} holds exactly for what parses and prints back unchanged. */
    @Property(tries = 2_000)
    void isPrintedHoldsExactlyForWhatParsesAndPrintsBackUnchanged(@ForAll("nearIds") String candidate) {
        boolean printsBack = attempt(() -> Ids.parse("writer id", "w", candidate))
                .map(uuid -> Ids.format("w", uuid).equals(candidate)).orElse(false);
        assertThat(Ids.isPrinted("w", candidate)).as(candidate).isEqualTo(printsBack);
    }

    @Property(tries = 500)
    void uuidsWithTheirHighBitsSetParseBack(@ForAll("uuids") UUID uuid) {
        UUID high = new UUID(uuid.getMostSignificantBits() | Long.MIN_VALUE, uuid.getLeastSignificantBits() | Long.MIN_VALUE);
        assertThat(Ids.parse("shard id", "s", "s" + high)).isEqualTo(high);
        assertThat(Ids.isPrinted("s", "s" + high)).isTrue();
    }

    private static Optional<UUID> attempt(Supplier<UUID> parse) {
        try {
            return Optional.of(parse.get());
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
