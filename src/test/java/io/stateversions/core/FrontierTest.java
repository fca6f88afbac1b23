package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class FrontierTest {

    @Test
    void ordersByElementWithTheEmptyFrontierLast() {
        List<Frontier> ordered = List.of(Frontier.MIN, Frontier.of(1), Frontier.of(Long.MAX_VALUE), Frontier.EMPTY);

        assertThat(ordered).isSorted();
        assertThat(Frontier.of(3).lessThan(Frontier.of(4))).isTrue();
        assertThat(Frontier.of(4).lessThan(Frontier.of(4))).isFalse();
        assertThat(Frontier.of(4).lessEqual(Frontier.of(4))).isTrue();
        assertThat(Frontier.of(Long.MAX_VALUE).lessThan(Frontier.EMPTY)).isTrue();
        assertThat(Frontier.EMPTY.lessEqual(Frontier.EMPTY)).isTrue();
        assertThat(Frontier.EMPTY.lessThan(Frontier.EMPTY)).isFalse();
        assertThat(Frontier.EMPTY.lessEqual(Frontier.MIN)).isFalse();
    }

    @Test
    void meetIsTheSmallerAndJoinTheLarger() {
        assertThat(Frontier.of(3).meet(Frontier.of(5))).isEqualTo(Frontier.of(3));
        assertThat(Frontier.of(5).meet(Frontier.of(3))).isEqualTo(Frontier.of(3));
        assertThat(Frontier.of(3).join(Frontier.of(5))).isEqualTo(Frontier.of(5));
        assertThat(Frontier.of(5).join(Frontier.of(3))).isEqualTo(Frontier.of(5));
        assertThat(Frontier.EMPTY.meet(Frontier.of(5))).isEqualTo(Frontier.of(5));
        assertThat(Frontier.of(5).meet(Frontier.EMPTY)).isEqualTo(Frontier.of(5));
        assertThat(Frontier.EMPTY.join(Frontier.of(5))).isEqualTo(Frontier.EMPTY);
        assertThat(Frontier.of(5).join(Frontier.EMPTY)).isEqualTo(Frontier.EMPTY);
    }

    @Test
    void theEmptyFrontierHasNoElement() {
        assertThat(Frontier.EMPTY.isEmpty()).isTrue();
        assertThat(Frontier.MIN.isEmpty()).isFalse();
        assertThat(Frontier.EMPTY).hasToString("{}").isNotEqualTo(Frontier.MIN);
        assertThat(Frontier.of(5)).hasToString("{5}").isEqualTo(Frontier.of(5)).hasSameHashCodeAs(Frontier.of(5));
        assertThat(Frontier.of(0)).isSameAs(Frontier.MIN);
        assertThat(Frontier.of(7).element()).isEqualTo(7);
        assertThatThrownBy(Frontier.EMPTY::element).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("{}");
    }

    @Test
    void timestampsAreNonNegative() {
        assertThatThrownBy(() -> Frontier.of(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("18446744073709551615");
    }
}
