package org.rnn4j.backend;


/**
 * Walks the storage offsets of a strided tensor in row-major logical order, for the reference
 * backend: {@code for (int i = 0; i < n; i++) { long off = it.next(); ... }}.
 */
final class Strided {
    private final int[] shape;
    private final int[] strides;
    private final int[] counter;
    private long offset;
    private boolean started;

    Strided(View t) {
        this.shape = t.shape();
        this.strides = t.strides();
        this.counter = new int[shape.length];
        this.offset = t.offset();
    }

    long next() {
        if (!started) {
            started = true;
            return offset;
        }
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++counter[d] < shape[d]) {
                offset += strides[d];
                return offset;
            }
            offset -= (long) strides[d] * (shape[d] - 1);
            counter[d] = 0;
        }
        return offset;
    }
}
