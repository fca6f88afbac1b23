package io.stateversions.core;

import java.util.Objects;

/** A registered (key schema, value schema) pair and their data types, opaque to this service. */
public record EncodedSchemas(Bytes key, Bytes keyDataType, Bytes val, Bytes valDataType) {

    public EncodedSchemas {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(keyDataType, "keyDataType");
        Objects.requireNonNull(val, "val");
        Objects.requireNonNull(valDataType, "valDataType");
    }
}
