package io.stateversions.core;

/** The shard commands, by persist's metric names (spec §18.2). */
public enum Command {
    INIT_STATE("init_state"),
    REGISTER("register"),
    COMPARE_AND_APPEND("compare_and_append"),
    DOWNGRADE_SINCE("downgrade_since"),
    COMPARE_AND_DOWNGRADE_SINCE("compare_and_downgrade_since"),
    HEARTBEAT_READER("heartbeat_reader"),
    HEARTBEAT_WRITER("heartbeat_writer"),
    EXPIRE_READER("expire_reader"),
    EXPIRE_CRITICAL_READER("expire_critical_reader"),
    EXPIRE_WRITER("expire_writer"),
    MERGE_RES("merge_res"),
    ADD_ROLLUP("add_rollup"),
    REMOVE_ROLLUPS("remove_rollups"),
    BECOME_TOMBSTONE("become_tombstone"),
    REGISTER_SCHEMA("register_schema"),
    COMPARE_AND_EVOLVE_SCHEMA("compare_and_evolve_schema"),
    /** Not persist's: the maintenance sweep's commit that only expires lapsed handles of a quiet shard. */
    EXPIRE_LEASES("expire_leases");

    private final String metricName;

    Command(String metricName) {
        this.metricName = metricName;
    }

    public String metricName() {
        return metricName;
    }

    /** Only these may commit a new version on top of a tombstone (spec §4.2). */
    public boolean allowedOnTombstone() {
        return this == ADD_ROLLUP || this == BECOME_TOMBSTONE;
    }

    /** Writes are preferred for GC assignment (spec §11.1). */
    public boolean isWrite() {
        return this == COMPARE_AND_APPEND;
    }
}
