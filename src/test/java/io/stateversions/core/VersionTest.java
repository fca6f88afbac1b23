package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class VersionTest {

    @Test
    void parsesAndPrintsMajorMinorPatch() {
        assertThat(Version.parse("0.130.2")).isEqualTo(new Version(0, 130, 2)).hasToString("0.130.2");
    }

    @Test
    void theEmptyStringIsVersionZero() {
        assertThat(Version.parse("")).isEqualTo(Version.ZERO).isEqualTo(new Version(0, 0, 0));
    }

    @Test
    void aPreReleaseOrBuildSuffixIsIgnored() {
        assertThat(Version.parse("0.1.0-SNAPSHOT")).isEqualTo(new Version(0, 1, 0));
        assertThat(Version.parse("1.2.3+abc")).isEqualTo(new Version(1, 2, 3));
        assertThat(Version.parse("1.2.3-rc.1+abc")).isEqualTo(new Version(1, 2, 3));
        assertThat(Version.parse("0.1.0-SNAPSHOT")).isEqualByComparingTo(Version.parse("0.1.0"));
    }

    @Test
    void comparesNumericallyComponentByComponent() {
        List<Version> ordered = List.of(Version.parse("0.0.0"), Version.parse("0.0.9"), Version.parse("0.0.10"),
                Version.parse("0.9.0"), Version.parse("0.10.0"), Version.parse("1.0.0"), Version.parse("10.0.0"));

        assertThat(ordered).isSorted();
        assertThat(Version.parse("0.2.0").max(Version.parse("0.10.0"))).isEqualTo(Version.parse("0.10.0"));
        assertThat(Version.parse("0.10.0").max(Version.parse("0.2.0"))).isEqualTo(Version.parse("0.10.0"));
    }

    @Test
    void theRememberedLastParseNeverAnswersForAnotherString() {
        assertThat(Version.parse("0.1.0")).isEqualTo(new Version(0, 1, 0));
        assertThat(Version.parse("0.1.0")).isEqualTo(new Version(0, 1, 0));
        assertThat(Version.parse("0.1.1")).isEqualTo(new Version(0, 1, 1));
        assertThat(Version.parse("0.1.0")).isEqualTo(new Version(0, 1, 0));
        assertThat(Version.parse("")).isEqualTo(Version.ZERO);
        assertThatThrownBy(() -> Version.parse("0.1")).isInstanceOf(IllegalArgumentException.class);
        // A rejected string is not remembered: it fails again, and the last good one still parses.
        assertThatThrownBy(() -> Version.parse("0.1")).isInstanceOf(IllegalArgumentException.class);
        assertThat(Version.parse("")).isEqualTo(Version.ZERO);
    }

    @Test
    void rejectsWhatIsNotMajorMinorPatch() {
        for (String bad : List.of("1", "1.2", "1.2.3.4", "a.b.c", "1..3", "1.2.", "-1.2.3", "1.-2.3", " 1.2.3",
                "v1.2.3", "1.2.99999999999")) {
            assertThatThrownBy(() -> Version.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("invalid version");
        }
        assertThatThrownBy(() -> Version.parse(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Version(0, -1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
