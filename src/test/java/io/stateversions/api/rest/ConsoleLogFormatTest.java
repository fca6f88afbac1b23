package io.stateversions.api.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.testing.ConsoleFormat;
import org.junit.jupiter.api.Test;

/** Where people read the console (tests, quarkus:run, dev mode) log records are text lines, not JSON (README "Logs"). */
@QuarkusTest
class ConsoleLogFormatTest {

    @Test
    void console_records_are_text_lines_by_default() {
        String line = ConsoleFormat.line("io.stateversions.test", "a record");
        assertThat(line).contains("INFO").contains("a record").doesNotStartWith("{");
    }
}
