package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.testing.StateGen;
import java.util.UUID;
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
    }

    @Property(tries = 500)
    void printedIdsParseBack(@ForAll("uuids") UUID uuid) {
        assertThat(RunId.parse(new RunId(uuid).toString()).uuid()).isEqualTo(uuid);
        assertThat(ShardId.parse(new ShardId(uuid).toString().toUpperCase().replace('S', 's')).uuid())
                .isEqualTo(uuid);
    }
}
