package io.stateversions.stateversions;

import java.time.Duration;

/**
 * An exponential backoff: persist's {@code Retry} (spec §9). The sleep before retry {@code n} (1-based) is
 * {@code fixedSleep + min(initialBackoff * multiplier^(n-1), clampBackoff) * jitter}, with the jitter drawn from
 * {@code [0.9, 1.1]}.
 */
public record RetryPolicy(Duration fixedSleep, Duration initialBackoff, int multiplier, Duration clampBackoff) {

    /** Persist's defaults: no fixed sleep, 4 ms doubling up to 16 s. */
    public static final RetryPolicy PERSIST_DEFAULTS =
            new RetryPolicy(Duration.ZERO, Duration.ofMillis(4), 2, Duration.ofSeconds(16));

    public static final double MIN_JITTER = 0.9;
    public static final double MAX_JITTER = 1.1;

    public RetryPolicy {
        if (fixedSleep.isNegative() || initialBackoff.isNegative() || multiplier < 1
                || clampBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("invalid retry policy: fixed " + fixedSleep + ", initial " + initialBackoff
                    + ", multiplier " + multiplier + ", clamp " + clampBackoff);
        }
    }

    /**
     * @param retry the number of the retry, from 1
     * @param jitter a factor within {@code [0.9, 1.1]}
     */
    public Duration sleep(int retry, double jitter) {
        if (retry < 1 || jitter < MIN_JITTER || jitter > MAX_JITTER) {
            throw new IllegalArgumentException("retry " + retry + ", jitter " + jitter);
        }
        double backoffNanos = Math.min(initialBackoff.toNanos() * Math.pow(multiplier, retry - 1),
                clampBackoff.toNanos());
        return fixedSleep.plusNanos(Math.round(backoffNanos * jitter));
    }
}
