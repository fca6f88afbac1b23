package io.stateversions.codec;

import io.stateversions.core.ShardId;
import io.stateversions.core.Version;

/**
 * A shard was written by code too new for this build to read (spec §6.6). Protobuf silently drops unknown fields,
 * so reading it and writing it back could lose data: the shard is refused instead. Run a build at least as new as
 * {@link #dataVersion} (or within the readable window) to serve it.
 */
public final class VersionFenceException extends IllegalStateException {

    private final ShardId shard;
    private final Version dataVersion;
    private final Version buildVersion;

    public VersionFenceException(ShardId shard, String what, Version dataVersion, Version buildVersion,
            int minorVersionsAhead) {
        super(what + " of shard " + shard + " was written by version " + dataVersion + ", which this build ("
                + buildVersion + ") must not read: data is readable up to " + minorVersionsAhead
                + " minor version(s) ahead within the same major version. Upgrade this replica.");
        this.shard = shard;
        this.dataVersion = dataVersion;
        this.buildVersion = buildVersion;
    }

    public ShardId shard() {
        return shard;
    }

    public Version dataVersion() {
        return dataVersion;
    }

    public Version buildVersion() {
        return buildVersion;
    }
}
