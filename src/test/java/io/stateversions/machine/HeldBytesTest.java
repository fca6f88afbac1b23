package io.stateversions.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link HeldBytes}: when a trim is due, and that a trim which cannot get under the budget is not asked again at once. */
class HeldBytesTest {

    @Test
    void a_trim_is_due_once_the_budget_is_passed_by_growth() {
        HeldBytes held = new HeldBytes(800);
        assertThat(held.add(800)).isFalse();
        assertThat(held.trimDue()).isFalse();
        assertThat(held.add(1)).isTrue();
        assertThat(held.trimDue()).isTrue();
        assertThat(held.excessOverLowMark()).as("a trim goes down to 750").isEqualTo(51);
        assertThat(held.add(-1)).as("shrinking asks for nothing").isFalse();
        assertThat(held.trimDue()).isFalse();
    }

    @Test
    void after_a_trim_left_over_budget_the_next_is_due_an_eighth_of_the_budget_later_or_after_falling_under() {
        HeldBytes held = new HeldBytes(800);
        held.add(1000);
        held.trimmed(); // nothing could go
        assertThat(held.trimDue()).isFalse();
        assertThat(held.add(100)).isFalse();
        assertThat(held.add(1)).as("1,101 > 1,000 + 800 / 8").isTrue();
        held.trimmed();
        held.add(-1101 + 700);
        assertThat(held.held()).isEqualTo(700);
        assertThat(held.add(101)).as("under the budget again: due at the budget").isTrue();
    }

    @Test
    void more_given_back_than_counted_fails_fast_with_the_values() {
        HeldBytes held = new HeldBytes(800);
        held.add(10);
        assertThatThrownBy(() -> held.add(-11)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("-1").hasMessageContaining("-11");
    }
}
