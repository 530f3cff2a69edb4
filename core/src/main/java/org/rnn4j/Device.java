package org.rnn4j;

import java.util.Objects;

/** Where a tensor's memory lives. */
public final class Device {
    /** The kinds of device. */
    public enum Type { /** Host memory. */ CPU, /** An NVIDIA GPU driven through CUDA. */ CUDA }

    /** The host: memory in the Java process, off-heap. */
    public static final Device CPU = new Device(Type.CPU, 0);

    private final Type type;
    private final int index;

    private Device(Type type, int index) {
        this.type = type;
        this.index = index;
    }

    /**
     * CUDA device {@code index} ({@code torch.device("cuda", index)}).
     *
     * @throws IllegalArgumentException if {@code index} is negative
     */
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

    /** The kind of device. */
    public Type type() {
        return type;
    }

    /** The device number within its type (0 for the CPU). */
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
