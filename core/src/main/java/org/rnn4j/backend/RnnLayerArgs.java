package org.rnn4j.backend;

import org.rnn4j.Tensor;

/**
 * Everything one recurrent layer needs for one direction over a whole (packed) sequence.
 *
 * <p>Dimension letters: T = steps, N = batch (= batchSizes[0]), S = sum(batchSizes) packed rows,
 * I = input size, H = hidden size, P = projection size (LSTM only; 0 = none),
 * R = output size (P if P &gt; 0 else H), G = gate count of {@link CellKind}.
 *
 * <p>Rows are packed time-major: step t owns rows [off_t, off_t + batchSizes[t]) with
 * off_t = sum(batchSizes[0..t)); batchSizes is non-increasing, so at every step the active
 * sequences are the first rows. A padded batch is the packed case with batchSizes all N.
 * Forward direction: sequence b's h_n is its state after its own last step. Reverse direction:
 * steps run from T-1 down to 0, a sequence starts from h0 at its own last element, and h_n is
 * its state after step 0.
 *
 * <p>All 2-D tensors have unit column stride; their row stride may be larger (y and dy may be
 * column slices of a bidirectional output). Parameter gradients accumulate (+=), dx accumulates
 * (+=, so both directions of a layer add into one buffer), dh0/dc0 are assigned (=).
 */
public final class RnnLayerArgs {
    public CellKind kind;
    public boolean reverse;
    /** (T) rows active at each step; non-increasing, positive. */
    public int[] batchSizes;
    public int inputSize;
    public int hiddenSize;
    /** LSTM projection size, 0 for none. */
    public int projSize;

    // ---- forward inputs
    /** (S, I) */
    public Tensor x;
    /** (N, R) initial hidden state, sorted batch order. */
    public Tensor h0;
    /** (N, H) initial cell state (LSTM only). */
    public Tensor c0;
    /** (G*H, I) */
    public Tensor wIh;
    /** (G*H, R) */
    public Tensor wHh;
    /** (G*H) or null for bias=False. */
    public Tensor bIh;
    /** (G*H) or null for bias=False. */
    public Tensor bHh;
    /** (P, H) projection (LSTM with projSize &gt; 0), else null. */
    public Tensor wHr;

    // ---- forward outputs
    /** (S, R) output for every packed row. */
    public Tensor y;
    /** (N, R) final hidden state. */
    public Tensor hN;
    /** (N, H) final cell state (LSTM only). */
    public Tensor cN;
    /**
     * (S, kind.workspaceRow(H, P)) saved activations written by forward and read by backward;
     * null in inference, where the backend uses scratch of its own.
     */
    public Tensor workspace;

    // ---- backward inputs
    /** (S, R) gradient of y. */
    public Tensor dy;
    /** (N, R) gradient of hN, or null for zero. */
    public Tensor dhN;
    /** (N, H) gradient of cN, or null for zero (LSTM only). */
    public Tensor dcN;

    // ---- backward outputs
    /** (S, I) += gradient of x. Null to skip. */
    public Tensor dx;
    /** (N, R) = gradient of h0. Null to skip. */
    public Tensor dh0;
    /** (N, H) = gradient of c0 (LSTM only). Null to skip. */
    public Tensor dc0;
    /** Parameter gradients, += ; null to skip (or when the parameter is absent). */
    public Tensor dWIh;
    public Tensor dWHh;
    public Tensor dBIh;
    public Tensor dBHh;
    public Tensor dWHr;

    public int steps() {
        return batchSizes.length;
    }

    public int batch() {
        return batchSizes[0];
    }

    public int rows() {
        int s = 0;
        for (int b : batchSizes) {
            s += b;
        }
        return s;
    }

    public int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }
}
