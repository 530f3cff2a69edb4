package org.rnn4j;

import java.util.Objects;

/** Where a tensor's memory lives. */
public final class Device {
    public enum Type { CPU, CUDA }

    public static final Device CPU = new Device(Type.CPU, 0);

    private final Type type;
    private final int index;

    private Device(Type type, int index) {
        this.type = type;
        this.index = index;
    }

    public static Device cuda(int index) {
        if (index < 0) {
            throw new IllegalArgumentException("cuda device index must be >= 0, got " + index);
        }
        return new Device(Type.CUDA, index);
    }

    /** Parses "cpu", "cuda", "cuda:1". */
    public static Device of(String spec) {
        String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.equals("cuda")) {
            return cuda(0);
        }
        if (s.startsWith("cuda:")) {
            return cuda(Integer.parseInt(s.substring(5)));
        }
        throw new IllegalArgumentException("device: expected cpu, cuda or cuda:N, got '" + spec + "'");
    }

    public Type type() {
        return type;
    }

    public int index() {
        return index;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.type == type && d.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, index);
    }

    @Override
    public String toString() {
        return type == Type.CPU ? "cpu" : "cuda:" + index;
    }
}
