package io.stateversions.location.s3;

import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Failures;
import io.stateversions.location.Indeterminate;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Classifies S3 failures (spec §7.3). A 4xx answer, or a 503 "slow down", is S3 refusing the request before
 * acting on it: determinate. Every other failure (a 5xx, a timeout, a connection lost after the request went out,
 * anything unknown) may have taken effect: indeterminate. The SDK's own retries can hide an earlier attempt that
 * was sent, so client-side failures are never treated as "not sent".
 */
final class S3Errors {

    private S3Errors() {}


    /** The HTTP status of an S3 error answer, or -1. */
    static int status(Throwable error) {
        return Failures.unwrap(error) instanceof S3Exception s3 ? s3.statusCode() : -1;
    }

    static RuntimeException classify(String op, Throwable error) {
        Throwable cause = Failures.unwrap(error);
        if (cause instanceof ExternalError || cause instanceof ContractViolation) {
            return (RuntimeException) cause;
        }
        String message = "s3 " + op + " failed: " + cause.getMessage();
        if (cause instanceof S3Exception s3) {
            int status = s3.statusCode();
            boolean refused = (status >= 400 && status < 500) || status == 503;
            return refused ? new Determinate(message, s3) : new Indeterminate(message, s3);
        }
        if (cause instanceof ApiCallTimeoutException || cause instanceof ApiCallAttemptTimeoutException) {
            return new Indeterminate("s3 " + op + " failed: timeout: " + cause.getMessage(), cause);
        }
        return new Indeterminate(message, cause);
    }
}
