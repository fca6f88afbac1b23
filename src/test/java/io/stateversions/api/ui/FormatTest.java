package io.stateversions.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** How the inspector shows a handle's lease. */
class FormatTest {

    @Test
    void aLeaseBeyondTheEndOfTimeNeverExpiresInsteadOfShowingAsLapsed() {
        long now = 1_800_000_000_000L;
        long at = Format.expiresAtMs(now, Long.MAX_VALUE - 5);
        assertThat(at).isEqualTo(Long.MAX_VALUE);
        assertThat(Format.expiry(at, now)).isEqualTo("never");
    }

    @Test
    void anOrdinaryLeaseCountsDownAndThenShowsHowLongAgoItLapsed() {
        long heartbeat = 1_800_000_000_000L;
        long at = Format.expiresAtMs(heartbeat, 90_000);
        assertThat(at).isEqualTo(heartbeat + 90_000);
        assertThat(Format.expiry(at, heartbeat + 30_000)).isEqualTo("in 1m 0s");
        assertThat(Format.expiry(at, heartbeat + 150_000)).isEqualTo("lapsed 1m 0s ago");
    }
}
