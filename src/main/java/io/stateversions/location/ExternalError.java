package io.stateversions.location;

/**
 * A failure of external storage, classified by whether the operation may have taken effect. Storage calls
 * fail with exactly one of the two subtypes (classification by an explicit allow-list per backend; whatever is
 * not known to be {@link Determinate} is {@link Indeterminate}).
 *
 * <p>These are frequent and expected under contention (serialization failures) and outages, so they carry no
 * stack trace of their own; the backend's exception is kept as the cause.
 */
public abstract sealed class ExternalError extends RuntimeException permits Determinate, Indeterminate {

    ExternalError(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
