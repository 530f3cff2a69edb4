package org.rnn4j.backend;

import java.util.Arrays;
import org.rnn4j.Device;

/**
 * What a backend receives instead of a tensor: an immutable strided window onto a
 * {@link Storage} (storage, offset, shape, strides in elements). A view checks itself once, on
 * construction: sizes and offset non-negative, the element count without overflow, strides
 * non-negative (0 = broadcast), every element it reaches inside its storage, and the storage not
 * freed. So a backend indexes a view without checking bounds again; what it checks is only what
 * the method asks beyond that (contiguity, matching shapes), before any native call.
 *
 * <p>A view does not keep its storage alive: made through {@link Pins} it is held for the call;
 * made with {@link #of} the caller keeps the tensor open for as long as the view is used.
 */
public final class View {
    private final Storage storage;
    private final long offset;
    private final int[] shape;
    private final int[] strides;
    private final long numel;
    private final boolean contiguous;

    private View(Storage storage, long offset, int[] shape, int[] strides) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        long n = 1;
        long reach = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException("view: argument 'shape' has a negative size, got " + Arrays.toString(shape));
            }
            if (strides[d] < 0) {
                throw new IllegalArgumentException("view: argument 'strides' must be >= 0, got " + Arrays.toString(strides));
            }
            try {
                n = Math.multiplyExact(n, (long) shape[d]);
                if (shape[d] > 0) {
                    reach = Math.addExact(reach, (long) (shape[d] - 1) * strides[d]);
                }
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("view: shape " + Arrays.toString(shape) + " with strides "
                        + Arrays.toString(strides) + " overflows a 64-bit element count");
            }
        }
        this.numel = n;
        if (offset < 0) {
            throw new IllegalArgumentException("view: argument 'offset' must be >= 0, got " + offset);
        }
        if (n > 0 && (reach < 0 || offset + reach >= storage.numel())) {
            throw new IllegalArgumentException("view: shape " + Arrays.toString(shape) + ", strides " + Arrays.toString(strides)
                    + ", offset " + offset + " reaches element " + (offset + reach) + " of a storage of " + storage.numel()
                    + " elements");
        }
        boolean c = true;
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                c = false;
                break;
            }
            expected *= shape[d];
        }
        this.contiguous = c || n == 0;  // an empty view reads nothing, whatever its strides
    }

    /**
     * A checked view (arrays copied). The caller keeps the storage alive while the view is used;
     * backend calls made by rnn4j itself use {@link Pins#view} instead.
     *
     * @throws IllegalArgumentException if the view is malformed or reaches outside its storage
     * @throws IllegalStateException if the storage was freed
     */
    public static View of(Storage storage, long offset, int[] shape, int[] strides) {
        if (storage == null || shape == null || strides == null) {
            throw new IllegalArgumentException("view: arguments 'storage', 'shape' and 'strides' must not be null");
        }
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("view: argument 'strides' expected " + shape.length + " entries (one per"
                    + " dimension of shape " + Arrays.toString(shape) + "), got " + strides.length);
        }
        if (storage.isFreed()) {
            throw new IllegalStateException("view: storage already freed (its tensors were closed)");
        }
        return new View(storage, offset, shape.clone(), strides.clone());
    }

    /** A contiguous view of {@code shape} starting at {@code offset}. */
    public static View contiguous(Storage storage, long offset, int... shape) {
        int[] st = new int[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = (int) Math.min(s, Integer.MAX_VALUE);
            s *= Math.max(shape[d], 1);
        }
        return of(storage, offset, shape, st);
    }

    /** The storage the view addresses. */
    public Storage storage() {
        return storage;
    }

    /** The device of the storage. */
    public Device device() {
        return storage.device();
    }

    /** Offset of the first element in the storage, in elements. */
    public long offset() {
        return offset;
    }

    /** The rank: number of dimensions. */
    public int dim() {
        return shape.length;
    }

    /** The size of dimension {@code d} (0-based, no negative indexing). */
    public int size(int d) {
        return shape[d];
    }

    /** The stride of dimension {@code d} in elements (0 for a broadcast dimension). */
    public int stride(int d) {
        return strides[d];
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** A copy of the strides. */
    public int[] strides() {
        return strides.clone();
    }

    /** Number of elements: the product of the shape. */
    public long numel() {
        return numel;
    }

    /** Row-major dense (size-1 dimensions may have any stride; an empty view counts as dense). */
    public boolean isContiguous() {
        return contiguous;
    }

    /** Whether both views have the same storage, offset, shape and strides (an in-place operand). */
    public boolean sameAs(View o) {
        return o != null && storage == o.storage && offset == o.offset && Arrays.equals(shape, o.shape)
                && Arrays.equals(strides, o.strides);
    }

    /** Shape equality without copying. */
    public boolean sameShape(View o) {
        return Arrays.equals(shape, o.shape);
    }

    /** Throws naming {@code op} and {@code arg} unless contiguous. */
    public View requireContiguous(String op, String arg) {
        if (!contiguous) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be contiguous, got shape "
                    + Arrays.toString(shape) + " with strides " + Arrays.toString(strides));
        }
        return this;
    }

    /** Throws naming {@code op} and {@code arg} unless contiguous with exactly {@code count} elements. */
    public View requireDense(String op, String arg, long count) {
        requireContiguous(op, arg);
        if (numel != count) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected " + count + " elements, got shape "
                    + Arrays.toString(shape) + " (" + numel + ")");
        }
        return this;
    }

    /** Throws naming {@code op} and {@code arg} unless this view's shape equals {@code like}'s. */
    public View requireShapeOf(String op, String arg, View like) {
        if (!Arrays.equals(shape, like.shape)) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected shape " + Arrays.toString(like.shape)
                    + " (out's), got " + Arrays.toString(shape));
        }
        return this;
    }

    /**
     * Checks a batched GEMM's geometry (see {@link Backend#gemm}): sizes and batch non-negative,
     * leading dimensions at least the row length, and every matrix b in [0, batch) inside its
     * view's storage. Both CPU backends call it before touching memory.
     */
    public static void requireGemm(boolean transA, boolean transB, int m, int n, int k, View a, int lda, long strideA,
                                   View b, int ldb, long strideB, View c, int ldc, long strideC, int batch) {
        if (m < 0 || n < 0 || k < 0 || batch < 0) {
            throw new IllegalArgumentException("gemm: arguments 'm', 'n', 'k', 'batch' must be >= 0, got " + m + ", " + n
                    + ", " + k + ", " + batch);
        }
        requireMatrices("gemm", "a", a, lda, strideA, transA ? k : m, transA ? m : k, batch);
        requireMatrices("gemm", "b", b, ldb, strideB, transB ? n : k, transB ? k : n, batch);
        requireMatrices("gemm", "c", c, ldc, strideC, m, n, batch);
        if (m > 0 && n > 0 && batch > 0 && (c.storage == a.storage || c.storage == b.storage)) {
            throw new IllegalArgumentException("gemm: argument 'c' must not share storage with 'a' or 'b'");
        }
    }

    /** Matrices b in [0, batch) of rows x cols, leading dimension ld, at offset + b * stride lie inside the storage. */
    private static void requireMatrices(String op, String arg, View v, int ld, long stride, int rows, int cols, int batch) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": argument 'ld" + arg + "' must be >= max(1, " + cols + "), got " + ld);
        }
        if (stride < 0) {
            throw new IllegalArgumentException(op + ": argument 'stride" + arg.toUpperCase(java.util.Locale.ROOT)
                    + "' must be >= 0, got " + stride);
        }
        if ((long) rows * cols == 0 || batch == 0) {
            return;
        }
        long last;
        try {
            last = Math.addExact(v.offset, Math.addExact(Math.multiplyExact(batch - 1L, stride),
                    (long) (rows - 1) * ld + cols - 1));
        } catch (ArithmeticException e) {
            last = Long.MAX_VALUE;
        }
        if (last >= v.storage.numel()) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' (" + batch + " x " + rows + " x " + cols
                    + ", ld " + ld + ", stride " + stride + ", offset " + v.offset + ") reaches element " + last
                    + " of a storage of " + v.storage.numel() + " floats");
        }
    }

    @Override
    public String toString() {
        return "View(" + device() + ", offset " + offset + ", shape " + Arrays.toString(shape) + ", strides "
                + Arrays.toString(strides) + ")";
    }
}
