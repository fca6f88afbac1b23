package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SeqNoTest {

    @Test
    void printsAndParsesWithTheVPrefix() {
        assertThat(SeqNo.of(42)).hasToString("v42");
        assertThat(SeqNo.parse("v42")).isEqualTo(SeqNo.of(42));
        assertThat(SeqNo.parse("v0")).isEqualTo(SeqNo.MIN);
        assertThat(SeqNo.parse("v9223372036854775807")).isEqualTo(SeqNo.MAX);
    }

    @Test
    void rejectsMalformedAndOutOfRangeValues() {
        for (String bad : new String[] {"42", "v", "V1", "v-1", "v+1", "v 1", "v1x", "", "v18446744073709551615",
                "v9223372036854775808"}) {
            assertThatThrownBy(() -> SeqNo.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> SeqNo.parse(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SeqNo.of(Long.MIN_VALUE)).hasMessageContaining("9223372036854775808");
    }

    @Test
    void ordersAndSteps() {
        assertThat(SeqNo.of(1).next()).isEqualTo(SeqNo.of(2));
        assertThat(SeqNo.of(1)).isLessThan(SeqNo.of(2));
        assertThat(SeqNo.of(1).isBefore(SeqNo.of(2))).isTrue();
        assertThat(SeqNo.of(3).isAfter(SeqNo.of(2))).isTrue();
        assertThatThrownBy(SeqNo.MAX::next).hasMessageContaining("overflow");
    }
}
