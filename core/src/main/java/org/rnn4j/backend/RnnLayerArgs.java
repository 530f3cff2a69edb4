package org.rnn4j.backend;

import java.util.Arrays;

/**
 * Everything one recurrent layer needs for one direction over a whole (packed) sequence: the
 * sizes ({@link RnnDim}) and one {@link View} per {@link RnnBuffer} (null = absent). The
 * buffers' shapes and when each is used are stated once, in {@link RnnBuffer};
 * {@link #validate} checks a call against them before any kernel runs.
 *
 * <p>Rows are packed time-major: step t owns rows [off_t, off_t + batchSizes[t]) with
 * off_t = sum(batchSizes[0..t)); batchSizes is non-increasing, so at every step the active
 * sequences are the first rows. A padded batch is the packed case with batchSizes all N.
 * Forward direction: sequence b's h_n is its state after its own last step. Reverse direction:
 * steps run from T-1 down to 0, a sequence starts from h0 at its own last element, and h_n is
 * its state after step 0. Parameter gradients and dx accumulate (+=, so both directions of a
 * layer add into one dx), dh0/dc0 are assigned (=).
 */
public final class RnnLayerArgs {
    /** The cell kind. */
    public CellKind kind;
    /** True for the reverse direction (steps run from T-1 down to 0). */
    public boolean reverse;
    /** (T) rows active at each step; non-increasing, positive. */
    public int[] batchSizes;
    /** Input size I. */
    public int inputSize;
    /** Hidden size H. */
    public int hiddenSize;
    /** LSTM projection size, 0 for none. */
    public int projSize;

    private final View[] buffers = new View[RnnBuffer.COUNT];

    /** The view set for buffer {@code b}, or null if absent. */
    public View get(RnnBuffer b) {
        return buffers[b.ordinal()];
    }

    /** Sets (or clears, with null) one buffer; returns this. */
    public RnnLayerArgs set(RnnBuffer b, View v) {
        buffers[b.ordinal()] = v;
        return this;
    }

    /** Number of time steps T: the length of {@link #batchSizes}. */
    public int steps() {
        return batchSizes.length;
    }

    /** Batch size N: {@code batchSizes[0]}, the rows active at the first step. */
    public int batch() {
        return batchSizes[0];
    }

    /** Packed rows S: the sum of {@link #batchSizes}. */
    public int rows() {
        int s = 0;
        for (int b : batchSizes) {
            s += b;
        }
        return s;
    }

    /** R: {@link #projSize} if above 0, else {@link #hiddenSize}. */
    public int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** A buffer the kernel uses in this call, else null (an unused buffer is ignored, whatever it holds). */
    public View used(RnnBuffer b, boolean backward) {
        return b.used(this, backward) ? buffers[b.ordinal()] : null;
    }

    /**
     * Checks the call against {@link RnnBuffer}'s shapes: the kernel reads and writes every
     * buffer by the sizes and batch sizes given, so a missing buffer, a wrong shape, a column
     * stride other than 1 or bad batch sizes would reach outside the buffers.
     *
     * @throws IllegalArgumentException naming {@code op}, the argument, the expected and the actual value
     */
    public void validate(String op, boolean backward) {
        if (kind == null) {
            throw new IllegalArgumentException(op + ": argument 'kind' must not be null");
        }
        int[] bs = batchSizes;
        if (bs == null || bs.length == 0) {
            throw new IllegalArgumentException(op + ": argument 'batchSizes' must have at least one step, got "
                    + (bs == null ? "null" : "[]"));
        }
        long rows = 0;
        for (int t = 0; t < bs.length; t++) {
            if (bs[t] <= 0 || (t > 0 && bs[t] > bs[t - 1])) {
                throw new IllegalArgumentException(op + ": argument 'batchSizes' must be positive and non-increasing, got "
                        + Arrays.toString(bs));
            }
            rows += bs[t];
        }
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": argument 'batchSizes' sums to " + rows + ", more than 2^31-1 rows");
        }
        boolean lstm = kind == CellKind.LSTM;
        if (inputSize < 1 || hiddenSize < 1 || projSize < 0 || (projSize > 0 && !lstm)) {
            throw new IllegalArgumentException(op + ": sizes must be inputSize >= 1, hiddenSize >= 1, projSize >= 0 (LSTM"
                    + " only), got " + inputSize + ", " + hiddenSize + ", " + projSize);
        }
        long gh = (long) kind.gates() * hiddenSize;
        long w = (long) kind.workspaceRow(hiddenSize, projSize);
        if (gh > Integer.MAX_VALUE || w > Integer.MAX_VALUE || (long) 6 * hiddenSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": argument 'hiddenSize' is too large, got " + hiddenSize);
        }
        for (RnnBuffer b : RnnBuffer.values()) {
            View v = used(b, backward);
            if (v == null) {
                if (b.required(this, backward)) {
                    throw new IllegalArgumentException(op + ": argument '" + b.argName() + "' is required, got null");
                }
                continue;
            }
            check(op, b, v, b.rows(this), b.cols(this));
        }
    }

    private static void check(String op, RnnBuffer b, View t, long rows, long cols) {
        boolean ok;
        if (cols < 0) {
            ok = t.dim() == 1 && t.size(0) == rows && (t.stride(0) == 1 || rows <= 1);
        } else {
            ok = t.dim() == 2 && t.size(0) == rows && t.size(1) == cols && (t.stride(1) == 1 || cols <= 1)
                    && (rows <= 1 || t.stride(0) >= cols);
        }
        if (!ok) {
            String want = cols < 0 ? "[" + rows + "]" : "[" + rows + ", " + cols + "]";
            throw new IllegalArgumentException(op + ": argument '" + b.argName() + "' expected shape " + want
                    + " with unit column stride and rows at least a row apart, got shape " + Arrays.toString(t.shape())
                    + " with strides " + Arrays.toString(t.strides()));
        }
    }
}
