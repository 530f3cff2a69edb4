package org.rnn4j.backend;

import java.nio.FloatBuffer;

/**
 * A frozen unidirectional recurrent stack (plus an optional linear head) for streaming inference,
 * as {@link Backend#rnnStreamKernel} packs it: every weight copied out of its tensor once, in
 * PyTorch's layouts, so the kernel owns its own (packed) copy and no tensor is touched per call.
 *
 * <p>Letters: L layers, I input size, H hidden size, P projection size (LSTM only, 0 = none),
 * R = P or H, G gates of {@link #kind}, O = {@link #outputSize()} (the head's out_features, or R).
 * Layer l reads K_l = I (l = 0) or R (l &gt; 0) inputs: wIh[l] is (G*H, K_l), wHh[l] (G*H, R),
 * bIh[l] / bHh[l] (G*H) or null (bias=False), wHr[l] (P, H) or null. headW (O, R) and headB (O)
 * or null.
 *
 * <p>A kernel may keep the spec's arrays as its copy (the reference kernel does): do not change
 * them after {@link Backend#rnnStreamKernel} (FrozenRnn makes its own and never shares them).
 *
 * <p><b>State layout</b> of one stream, {@link #stateSize()} floats: for each layer l in order,
 * h_l (R) and, for LSTM, c_l (H).
 *
 * <p><b>Batch invariance</b> is the contract of {@link Kernel#run}: the bits of a stream's row
 * (its outputs and new state) depend only on its own inputs and state, never on how many other
 * rows share the call, where its row lies in the batch, how many steps the call runs (a chunk of
 * T steps equals T calls of one step, bit for bit) or which thread calls.
 */
public record RnnStreamSpec(CellKind kind, int inputSize, int hiddenSize, int projSize, int numLayers,
                            float[][] wIh, float[][] wHh, float[][] bIh, float[][] bHh, float[][] wHr,
                            int headOut, float[] headW, float[] headB) {

    /**
     * Checks the sizes and that every array has its layout's length.
     *
     * @throws IllegalArgumentException if a size is out of range (input, hidden and layer count at
     *     least 1, projection and head sizes not negative), a projection is given for a cell other than
     *     LSTM, or an array is missing or of the wrong length
     */
    public RnnStreamSpec {
        if (kind == null || inputSize < 1 || hiddenSize < 1 || numLayers < 1 || projSize < 0 || headOut < 0) {
            throw new IllegalArgumentException("RnnStreamSpec: bad sizes");
        }
        if (projSize > 0 && kind != CellKind.LSTM) {
            throw new IllegalArgumentException("RnnStreamSpec: proj_size is LSTM only");
        }
        int g = kind.gates() * hiddenSize;
        int r = projSize > 0 ? projSize : hiddenSize;
        for (int l = 0; l < numLayers; l++) {
            int k = l == 0 ? inputSize : r;
            need("weight_ih_l" + l, wIh[l], (long) g * k);
            need("weight_hh_l" + l, wHh[l], (long) g * r);
            if (bIh[l] != null || bHh[l] != null) {
                need("bias_ih_l" + l, bIh[l], g);
                need("bias_hh_l" + l, bHh[l], g);
            }
            if (projSize > 0) {
                need("weight_hr_l" + l, wHr[l], (long) projSize * hiddenSize);
            }
        }
        if (headOut > 0) {
            need("head weight", headW, (long) headOut * r);
            if (headB != null) {
                need("head bias", headB, headOut);
            }
        }
    }

    private static void need(String name, float[] v, long n) {
        if (v == null || v.length != n) {
            throw new IllegalArgumentException("RnnStreamSpec: " + name + " expected " + n + " floats, got "
                    + (v == null ? "none" : v.length));
        }
    }

    /** R: proj_size if set, else hidden_size. */
    public int layerOutputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** O: what one step emits per stream, the head's out_features or the last layer's R. */
    public int outputSize() {
        return headOut > 0 ? headOut : layerOutputSize();
    }

    /** Floats of one stream's state: sum over layers of R (+ H for LSTM). */
    public int stateSize() {
        return numLayers * (layerOutputSize() + (kind == CellKind.LSTM ? hiddenSize : 0));
    }

    /**
     * A backend's packed copy of a spec. {@link #run} may be called from any number of threads at
     * once (it keeps no mutable state); {@link #close} must not race with a run (the caller,
     * {@code org.rnn4j.stream.FrozenRnn}, makes sure).
     */
    public interface Kernel extends AutoCloseable {
        /**
         * Runs {@code steps} time steps of {@code rows} independent streams in one call.
         * Buffers are addressed from index 0 whatever their position, float elements, row-major:
         * x (rows, steps, I), state (rows, stateSize) read and updated in place,
         * out (rows, allSteps ? steps : 1, O). The native backend wants direct buffers in
         * native byte order. Arguments are checked by the caller (sizes, capacities).
         */
        void run(int rows, int steps, FloatBuffer x, FloatBuffer state, FloatBuffer out, boolean allSteps);

        /** One line: the backend and path the kernel runs on. */
        String describe();

        /** Frees the packed weights; idempotent. */
        @Override
        void close();
    }
}
