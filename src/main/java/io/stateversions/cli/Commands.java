package io.stateversions.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/** What the commands share: the JSON mapper, and the error of a version that is not live. */
final class Commands {

    /** Prints views as the REST API does (records by their components), indented for people. */
    static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private Commands() {}

    /** {@code seqno} is not a live version of {@code shard}, whose live versions are {@code [earliest, current]}. */
    static CliException noSuchVersion(String shard, long seqno, long earliest, long current) {
        return new CliException(seqno < earliest
                ? "410 version_truncated: version " + seqno + " of shard " + shard + " was garbage-collected; the"
                        + " earliest live version is " + earliest
                : "404 version_not_found: shard " + shard + " has no version " + seqno + "; its current version is "
                        + current);
    }
}
