package org.rnn4j.cuda;

import java.util.Arrays;

/**
 * A view as the kernels index it: the device address of its first element and its sizes and
 * strides with size-1 dimensions dropped and adjacent dimensions merged where the strides allow
 * (the row-major linear index maps to the same element), at most {@link Args#MAXD} left.
 */
final class Strided {
    final long address;
    final int ndim;
    final int[] shape;
    final long[] strides;

    Strided(long address, int[] shape, int[] strides) {
        int[] sh = new int[shape.length];
        long[] st = new long[shape.length];
        int nd = 0;
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] == 1) {
                continue;
            }
            if (nd > 0 && st[nd - 1] == (long) shape[d] * strides[d] && (long) sh[nd - 1] * shape[d] <= Integer.MAX_VALUE) {
                sh[nd - 1] *= shape[d];
                st[nd - 1] = strides[d];
            } else {
                sh[nd] = shape[d];
                st[nd] = strides[d];
                nd++;
            }
        }
        if (nd > Args.MAXD) {
            throw new UnsupportedOperationException("cuda: a view of shape " + Arrays.toString(shape) + " with strides "
                    + Arrays.toString(strides) + " has " + nd + " dimensions that cannot be merged; the kernels take at most "
                    + Args.MAXD + " (make it contiguous first)");
        }
        this.address = address;
        this.ndim = nd;
        this.shape = Arrays.copyOf(sh, nd);
        this.strides = Arrays.copyOf(st, nd);
    }

    /** A dense run of {@code n} floats. */
    static Strided dense(long address, long n) {
        if (n > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException("cuda: " + n + " floats in one dense run; at most 2^31-1 are supported");
        }
        return new Strided(address, new int[] {(int) n}, new int[] {1});
    }
}
