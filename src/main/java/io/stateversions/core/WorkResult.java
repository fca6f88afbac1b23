package io.stateversions.core;

/**
 * What a command's work function decided (persist's {@code ControlFlow}): {@link Continue} means a new version
 * must be committed; {@link Break} means nothing is written and the value is returned as it is (an error, or a
 * no-op that is not linearized).
 */
public sealed interface WorkResult<R> {

    R value();

    record Continue<R>(R value) implements WorkResult<R> {}

    record Break<R>(R value) implements WorkResult<R> {}

    static <R> WorkResult<R> proceed(R value) {
        return new Continue<>(value);
    }

    static <R> WorkResult<R> stop(R value) {
        return new Break<>(value);
    }
}
