package org.rnn4j;

import java.util.Arrays;

/** Shape arithmetic and shape argument checks shared by {@link Tensor} and its op families. */
final class Shapes {
    private Shapes() {
    }

    static int[] broadcastShapes(String op, int[] a, int[] b) {
        int n = Math.max(a.length, b.length);
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            int x = i - (n - a.length) >= 0 ? a[i - (n - a.length)] : 1;
            int y = i - (n - b.length) >= 0 ? b[i - (n - b.length)] : 1;
            if (x != y && x != 1 && y != 1) {
                throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast (dim " + i + ": " + x + " vs " + y + ")");
            }
            r[i] = x == 1 ? y : x;
        }
        return r;
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    static int prod(int[] s, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= s[i];
        }
        return Math.toIntExact(p);
    }

    static int[] contiguousStrides(int[] shape) {
        int[] st = new int[shape.length];
        int acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = acc;
            acc *= Math.max(shape[d], 1);
        }
        return st;
    }

    static int normDim(String op, int dim, int rank) {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= rank) {
            throw new IndexOutOfBoundsException(op + ": dim " + dim + " out of range for a tensor of rank "
                    + (rank) + " (expected " + (-Math.max(rank, 1)) + ".." + (Math.max(rank, 1) - 1) + ")");
        }
        return d;
    }

    /** A shape the caller passed to a factory: sizes >= 0, at most {@link Shape#MAX_NUMEL} elements. */
    static int[] checkShape(String op, int[] shape) {
        Shape.numel(op, "shape", shape);
        return shape.clone();
    }

    /**
     * Whether the product of non-negative sizes is above 2^31-1, without the long overflow of
     * {@link #numel(int[])} (three sizes of 2^21 multiply to 2^63, which wraps negative).
     */
    static boolean exceedsIntElements(int[] shape) {
        long n = 1;
        boolean over = false;
        for (int s : shape) {
            if (s == 0) {
                return false;
            }
            n *= s;
            if (n > Integer.MAX_VALUE) {
                over = true;
                n = (long) Integer.MAX_VALUE + 1;  // stays exact enough to keep the answer, never wraps
            }
        }
        return over;
    }

    static int[] inferShape(String op, int[] newShape, long numel) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(op + ": only one dimension can be -1, got " + Arrays.toString(newShape));
                }
                infer = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException(op + ": invalid size " + s[i] + " in " + Arrays.toString(newShape));
            } else {
                known *= s[i];
            }
        }
        int[] sized = s.clone();
        if (infer >= 0) {
            sized[infer] = 1;
        }
        if (exceedsIntElements(sized)) {
            // known would have wrapped (2^21 * 2^21 * 2^21 * 2 is 0 as a long): refuse before it
            // passes for the element count of an empty tensor
            throw new IllegalArgumentException(op + ": shape " + Arrays.toString(newShape) + " is invalid for " + numel
                    + " elements (more than 2^31-1)");
        }
        if (infer >= 0) {
            if (known == 0 || numel % known != 0) {
                throw new IllegalArgumentException(op + ": shape " + Arrays.toString(newShape) + " is invalid for " + numel + " elements");
            }
            s[infer] = (int) (numel / known);
        } else if (known != numel) {
            throw new IllegalArgumentException(op + ": shape " + Arrays.toString(newShape) + " is invalid for " + numel + " elements");
        }
        return s;
    }
}
