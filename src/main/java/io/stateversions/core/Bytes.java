package io.stateversions.core;

import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/** An immutable byte string with value equality and unsigned lexicographic order, for opaque fields of state. */
public final class Bytes implements Comparable<Bytes> {

    public static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] bytes;

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
    }

    /** A copy of {@code bytes}. */
    public static Bytes copyOf(byte[] bytes) {
        return bytes.length == 0 ? EMPTY : new Bytes(bytes.clone());
    }

    /**
     * Takes ownership of {@code bytes} without copying; the caller must never modify the array again. For
     * decoders that just allocated it.
     */
    public static Bytes wrap(byte[] bytes) {
        return bytes.length == 0 ? EMPTY : new Bytes(bytes);
    }

    public int size() {
        return bytes.length;
    }

    public boolean isEmpty() {
        return bytes.length == 0;
    }

    public byte[] toByteArray() {
        return bytes.clone();
    }

    public String toBase64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Override
    public int compareTo(Bytes other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** Hex for short values, else the size: state is printed in diffs and invariant messages. */
    @Override
    public String toString() {
        return bytes.length <= 32 ? "0x" + HexFormat.of().formatHex(bytes) : bytes.length + " bytes";
    }
}
