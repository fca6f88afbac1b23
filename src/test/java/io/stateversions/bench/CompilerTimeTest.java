package io.stateversions.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Reading {@code jstat -compiler}'s output, and reading this JVM's own compile time with it. */
class CompilerTimeTest {

    @Test
    void theTimeColumnIsRead() throws IOException {
        assertThat(CompilerTime.parse("""
                Compiled Failed Invalid   Time   FailedType FailedMethod
                     979      1       0     0.45          1 java/util/HashMap put
                """)).isEqualTo(0.45);
        assertThat(CompilerTime.parse("Compiled Failed Invalid Time FailedType FailedMethod\n"
                + "  52163 3 0 118.27 0\n")).isEqualTo(118.27);
    }

    @Test
    void outputWithoutTheTimeIsRefusedWithTheOutput() {
        assertThatThrownBy(() -> CompilerTime.parse("12345 not found"))
                .isInstanceOf(IOException.class).hasMessageContaining("12345 not found");
        assertThatThrownBy(() -> CompilerTime.parse("Compiled Failed\n1 2\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("no Time column");
        assertThatThrownBy(() -> CompilerTime.parse("Compiled Time\n1 soon\n"))
                .isInstanceOf(IOException.class).hasMessageContaining("\"soon\"");
    }

    @Test
    void aRunningJvmsCompileTimeIsReadAndDoesNotDecrease() throws IOException {
        CompilerTime own = CompilerTime.of(ProcessHandle.current().pid()).orElseThrow();
        double first = own.seconds();
        assertThat(first).isPositive();
        assertThat(own.seconds()).isGreaterThanOrEqualTo(first);
    }
}
