package org.rnn4j.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * An integer or boolean tensor read from a file (PyTorch's int64 {@code lengths}, token ids,
 * masks): its {@link DType}, shape and values, held on the Java heap in row-major order. rnn4j
 * tensors are float32, so such entries are kept apart from the float tensors of a
 * {@link StateDict} and read with {@link #toLongArray()} / {@link #toIntArray()}. Immutable.
 */
public final class IntTensor {
    private final DType dtype;
    private final int[] shape;
    private final long[] values;

    /**
     * An immutable integer tensor of {@code shape}.
     *
     * @param dtype an integer or boolean dtype
     * @param values row-major values (copied), each in the range of {@code dtype}
     */
    public IntTensor(DType dtype, long[] values, int... shape) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(shape, "shape");
        if (dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("IntTensor: argument 'dtype' must be an integer or boolean dtype, got " + dtype);
        }
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("IntTensor: shape[" + i + "] must be >= 0, got " + shape[i]
                        + " in " + Arrays.toString(shape));
            }
            numel *= shape[i];
            if (numel > Integer.MAX_VALUE) {
                numel = Long.MAX_VALUE;
            }
        }
        if (numel != values.length) {
            throw new IllegalArgumentException("IntTensor: argument 'values' has " + values.length + " elements, expected "
                    + numel + " for shape " + Arrays.toString(shape));
        }
        for (int i = 0; i < values.length; i++) {
            checkRange(dtype, values[i], i);
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.values = values.clone();
    }

    /** Wraps {@code values} without copying or checking (the readers' own arrays). */
    private IntTensor(DType dtype, int[] shape, long[] values, boolean trusted) {
        this.dtype = dtype;
        this.shape = shape;
        this.values = values;
    }

    static IntTensor wrap(DType dtype, int[] shape, long[] values) {
        return new IntTensor(dtype, shape.clone(), values, true);
    }

    private static void checkRange(DType dtype, long v, int i) {
        long lo;
        long hi;
        switch (dtype) {
            case I32 -> { lo = Integer.MIN_VALUE; hi = Integer.MAX_VALUE; }
            case I16 -> { lo = Short.MIN_VALUE; hi = Short.MAX_VALUE; }
            case I8 -> { lo = Byte.MIN_VALUE; hi = Byte.MAX_VALUE; }
            case U8 -> { lo = 0; hi = 255; }
            case BOOL -> { lo = 0; hi = 1; }
            default -> { lo = Long.MIN_VALUE; hi = Long.MAX_VALUE; }
        }
        if (v < lo || v > hi) {
            throw new IllegalArgumentException("IntTensor: values[" + i + "] = " + v + " is outside the range of " + dtype
                    + " [" + lo + ", " + hi + "]");
        }
    }

    /** The element type: an integer or boolean dtype. */
    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    /** The rank: number of dimensions. */
    public int dim() {
        return shape.length;
    }

    /** Number of elements. */
    public int numel() {
        return values.length;
    }

    /** The values, row-major (a copy). */
    public long[] toLongArray() {
        return values.clone();
    }

    /**
     * The values as ints, row-major; an {@link ArithmeticException} naming the first element
     * that does not fit.
     */
    public int[] toIntArray() {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            long v = values[i];
            if (v != (int) v) {
                throw new ArithmeticException("IntTensor.toIntArray: element " + i + " = " + v + " does not fit an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** The values as booleans (non-zero is true), row-major. */
    public boolean[] toBooleanArray() {
        boolean[] out = new boolean[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i] != 0;
        }
        return out;
    }

    /** The element at {@code index} (one index per dimension). */
    public long get(int... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("IntTensor.get: expected " + shape.length + " indices, got " + index.length);
        }
        long flat = 0;
        for (int d = 0; d < shape.length; d++) {
            if (index[d] < 0 || index[d] >= shape[d]) {
                throw new IndexOutOfBoundsException("IntTensor.get: index " + index[d] + " out of range for dimension " + d
                        + " of size " + shape[d]);
            }
            flat = flat * shape[d] + index[d];
        }
        return values[(int) flat];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IntTensor t && t.dtype == dtype && Arrays.equals(t.shape, shape) && Arrays.equals(t.values, values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(dtype, Arrays.hashCode(shape), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        String v = values.length <= 16 ? Arrays.toString(values)
                : Arrays.toString(Arrays.copyOf(values, 16)).replace("]", ", ...]");
        return "IntTensor(" + dtype + ", shape=" + Arrays.toString(shape) + ", " + v + ")";
    }
}
