package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class WriterKeyTest {

    @Test
    void aVersionKeyIsTheZeroPaddedVersion() {
        assertThat(WriterKey.ofVersion(Version.parse("0.130.0"))).hasToString("n0013000");
        assertThat(WriterKey.ofVersion(Version.parse("1.2.3"))).hasToString("n0100203");
        assertThat(WriterKey.ofVersion(Version.parse("99.999.99"))).hasToString("n9999999");
        assertThatThrownBy(() -> WriterKey.ofVersion(Version.parse("0.1000.0")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WriterKey.ofVersion(Version.parse("100.0.0")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A state holds the key of every part: those of one writer share one key, not a copy each. */
    @Test
    void aKeyParsedOrMadeAgainIsTheSameInstance() {
        WriterId writer = WriterId.random();
        WriterKey made = WriterKey.of(writer);
        assertThat(WriterKey.parse(writer.toString())).isSameAs(made);
        assertThat(WriterKey.parse(writer.toString().toUpperCase(java.util.Locale.ROOT).replace('W', 'w')))
                .isSameAs(made);
        assertThat(PartialBatchKey.parse(writer + "/" + PartId.random()).writer()).isSameAs(made);
        assertThat(WriterKey.parse("n0013000")).isSameAs(WriterKey.ofVersion(Version.parse("0.130.0")));
        assertThat(WriterKey.parse("f0013000")).isNotSameAs(WriterKey.parse("n0013000"));
    }

    @Test
    void writerKeysSortBeforeVersionKeysAndTheBaseTierBeforeTheFastTier() {
        List<WriterKey> ordered = List.of(
                WriterKey.parse("w00000000-0000-0000-0000-000000000000"),
                WriterKey.parse("wffffffff-ffff-ffff-ffff-ffffffffffff"),
                WriterKey.parse("n0009000"),
                WriterKey.parse("f0009000"),
                WriterKey.parse("n0013000"),
                WriterKey.parse("f0013000"),
                WriterKey.parse("n0013001"),
                WriterKey.parse("n0100000"));
        List<WriterKey> shuffled = new ArrayList<>(ordered);
        Collections.reverse(shuffled);
        Collections.sort(shuffled);

        assertThat(shuffled).containsExactlyElementsOf(ordered);
        assertThat(WriterKey.parse("f0012000")).isLessThan(WriterKey.parse("n0013000"));
    }

    @Test
    void theVersionOrderIsTheSemverOrder() {
        assertThat(WriterKey.ofVersion(Version.parse("0.9.0")))
                .isLessThan(WriterKey.ofVersion(Version.parse("0.10.0")));
        assertThat(WriterKey.ofVersion(Version.parse("0.99.99")))
                .isLessThan(WriterKey.ofVersion(Version.parse("1.0.0")));
    }

    @Test
    void aWriterIdKeyIsPrintedLowerCase() {
        WriterKey key = WriterKey.parse("w0123ABCD-4567-89EF-0123-456789ABCDEF");

        assertThat(key).hasToString("w0123abcd-4567-89ef-0123-456789abcdef");
        assertThat(key).isEqualTo(WriterKey.of(WriterId.parse("w0123abcd-4567-89ef-0123-456789abcdef")));
        // Already lower case: validated, and kept as given (not printed again), unless the key is in use already.
        String lower = WriterId.random().toString();
        assertThat(WriterKey.parse(lower).printed()).isSameAs(lower);
    }

    @Test
    void rejectsMalformedKeys() {
        for (String bad : List.of("", "x0013000", "n001300", "n00130000", "n00130a0", "f", "w1-1-1-1-1",
                "s00000000-0000-0000-0000-000000000000", "n\u0660013000")) {
            assertThatThrownBy(() -> WriterKey.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
