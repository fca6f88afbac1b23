package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class IdsTest {

    private static final String UUID_TEXT = "0123abcd-4567-89ef-0123-456789abcdef";

    @Test
    void everyIdPrintsItsPrefixAndParsesBack() {
        UUID uuid = UUID.fromString(UUID_TEXT);
        assertThat(new ShardId(uuid)).hasToString("s" + UUID_TEXT);
        assertThat(new WriterId(uuid)).hasToString("w" + UUID_TEXT);
        assertThat(new LeasedReaderId(uuid)).hasToString("r" + UUID_TEXT);
        assertThat(new CriticalReaderId(uuid)).hasToString("c" + UUID_TEXT);
        assertThat(new IdempotencyToken(uuid)).hasToString("i" + UUID_TEXT);
        assertThat(new PartId(uuid)).hasToString("p" + UUID_TEXT);
        assertThat(new RollupId(uuid)).hasToString("r" + UUID_TEXT);
        assertThat(new RunId(uuid)).hasToString("ri" + UUID_TEXT);

        assertThat(ShardId.parse("s" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(WriterId.parse("w" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(LeasedReaderId.parse("r" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(CriticalReaderId.parse("c" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(IdempotencyToken.parse("i" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(PartId.parse("p" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(RollupId.parse("r" + UUID_TEXT).uuid()).isEqualTo(uuid);
        assertThat(RunId.parse("ri" + UUID_TEXT).uuid()).isEqualTo(uuid);
    }

    @Test
    void aWrongOrMissingPrefixIsAnIncorrectPrefix() {
        for (String bad : List.of("w" + UUID_TEXT, UUID_TEXT, "S" + UUID_TEXT, "", " s" + UUID_TEXT)) {
            assertThatThrownBy(() -> ShardId.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("incorrect prefix");
        }
        assertThatThrownBy(() -> RunId.parse("r" + UUID_TEXT)).hasMessageContaining("incorrect prefix");
        assertThatThrownBy(() -> ShardId.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aMalformedUuidIsNotAUuid() {
        for (String bad : List.of("s1-1-1-1-1", "s", "ss" + UUID_TEXT, "s0123abcd-4567-89ef-0123-456789abcde",
                "s0123abcd-4567-89ef-0123-456789abcdef0", "s0123abcd_4567-89ef-0123-456789abcdef",
                "s0123abcd-4567-89ef-0123-456789abcdeg", "s0123abcd-4567-89ef-0123-456789abcde\u0660",
                "s0123abcd-4567-89ef-0123-456789abcde\uff21", "s0123abcd-4567-89ef-0123+456789abcdef",
                "s{0123abc-4567-89ef-0123-456789abcdef}")) {
            assertThatThrownBy(() -> ShardId.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a UUID")
                    .hasMessageContaining(bad);
        }
    }

    @Test
    void upperCaseIsAcceptedAndPrintedLowerCase() {
        ShardId shard = ShardId.parse("s0123ABCD-4567-89EF-0123-456789ABCDEF");

        assertThat(shard).isEqualTo(ShardId.parse("s" + UUID_TEXT));
        assertThat(shard).hasToString("s" + UUID_TEXT);
    }

    @Test
    void anAcceptedIdDiffersFromItsPrintedFormExactlyWhenItHasUpperCaseHex() {
        for (String printed : List.of("s" + UUID_TEXT, "s0123ABCD-4567-89EF-0123-456789ABCDEF",
                "s0123abcd-4567-89ef-0123-456789abcdeF", "sffffffff-ffff-ffff-ffff-ffffffffffff")) {
            assertThat(Ids.hasUpperCaseHex(printed)).as(printed)
                    .isEqualTo(!ShardId.parse(printed).toString().equals(printed));
        }
    }

    @Test
    void theSentinelTokenIsAllOnes() {
        assertThat(IdempotencyToken.SENTINEL).hasToString("i11111111-1111-1111-1111-111111111111");
        assertThat(IdempotencyToken.parse("i11111111-1111-1111-1111-111111111111"))
                .isEqualTo(IdempotencyToken.SENTINEL);
    }

    /** The bytes compare unsigned, like the printed hex; {@link UUID#compareTo} would compare them signed. */
    @Test
    void idsOrderAsTheirPrintedForms() {
        List<ShardId> ids = List.of(
                ShardId.parse("s00000000-0000-0000-0000-000000000000"),
                ShardId.parse("s00000000-0000-0000-0000-000000000001"),
                ShardId.parse("s00000000-0000-0000-7fff-ffffffffffff"),
                ShardId.parse("s00000000-0000-0000-8000-000000000000"),
                ShardId.parse("s00000000-0000-0001-0000-000000000000"),
                ShardId.parse("s7fffffff-ffff-ffff-ffff-ffffffffffff"),
                ShardId.parse("s80000000-0000-0000-0000-000000000000"),
                ShardId.parse("sffffffff-ffff-ffff-ffff-ffffffffffff"));

        assertThat(ids).isSortedAccordingTo(Comparator.naturalOrder());
        assertThat(ids).isSortedAccordingTo(Comparator.comparing(ShardId::toString));
        assertThat(ids.get(6)).isGreaterThan(ids.get(5));
        assertThat(new WriterId(ids.get(6).uuid())).isGreaterThan(new WriterId(ids.get(5).uuid()));
    }
}
