package org.rnn4j.backend;

import org.rnn4j.Device;

/**
 * The kernel contract. A backend runs coarse operations over whole tensors, so that a native
 * backend pays one JNI crossing per operation, never per element, and one per recurrent layer
 * and direction, never per time step.
 *
 * <p>A backend never sees a tensor: it receives {@link View}s, which checked themselves on
 * construction (bounds, element counts, storage not freed), pinned by the caller for the call's
 * duration ({@link Pins}). The rest of the contract, checked by the tensor API before the call:
 * <ul>
 *   <li>all views live on {@link #device()};</li>
 *   <li>{@code out} tensors are contiguous unless the method says otherwise, and do not overlap
 *       inputs except when they are the very same view (in-place);</li>
 *   <li>inputs may be arbitrary strided views (broadcast dimensions have stride 0) whose shape
 *       equals {@code out}'s shape unless the method says otherwise;</li>
 *   <li>{@code int[]} index arguments are already range-checked.</li>
 * </ul>
 * Backends are found with {@link java.util.ServiceLoader}; see {@link Backends}.
 */
public interface Backend {

    /** Short name used to force a backend: {@code -Drnn4j.backend=NAME} or {@code RNN4J_BACKEND=NAME}. */
    String name();

    /** The device whose memory this backend computes on. */
    Device device();

    /** Higher wins when several backends serve the same device. Reference = 0, native CPU = 100. */
    int priority();

    /**
     * Whether the backend can run here (native library loaded, device present). Called once;
     * must not throw. When false, {@link #unavailableReason()} says why.
     */
    boolean isAvailable();

    /** Why {@link #isAvailable()} is false (for logs and errors); empty by default. */
    default String unavailableReason() {
        return "";
    }

    /**
     * One line for logs and the examples' first line: the name and what this backend runs on
     * (the native CPU backend adds its ISA path, OpenBLAS kernels and thread budget).
     */
    default String description() {
        return name();
    }

    /** Allocates zero-filled storage for {@code numel} floats on {@link #device()}. */
    Storage allocate(long numel);

    // ---- data movement -------------------------------------------------------------------

    /** out[i] = src[i] elementwise over out's shape; out may be a strided view (used by copy_/narrow writes). */
    void copy(View out, View src);

    /** out[i] = value; out may be a strided view. */
    void fill(View out, float value);

    /** Copies the logical elements of {@code src} (any strides) into {@code dst} in row-major order. */
    void read(View src, float[] dst, int dstOffset);

    /** Writes {@code src} in row-major order into {@code out} (contiguous). */
    void write(View out, float[] src, int srcOffset);

    // ---- elementwise ---------------------------------------------------------------------

    /** out = op(x) elementwise. */
    void unary(UnaryOp op, View out, View x);

    /** out = op(a, b) elementwise; {@code a} and {@code b} come broadcast to out's shape (stride-0 dimensions). */
    void binary(BinaryOp op, View out, View a, View b);

    /** out = op(a, scalar). */
    void binaryScalar(BinaryOp op, View out, View a, float scalar);

    /** out = a + alpha * b (axpy over whole tensors; out may alias a). */
    void addScaled(View out, View a, View b, float alpha);

    /** out = cond != 0 ? a : b. */
    void where(View out, View cond, View a, View b);

    // ---- reductions ----------------------------------------------------------------------

    /**
     * Reduces contiguous {@code x} seen as (outer, n, inner) over the middle dimension into
     * contiguous {@code out} of (outer, inner). ARGMAX/ARGMIN store the index as a float.
     */
    void reduce(ReduceOp op, View out, View x, int outer, int n, int inner);

    /** Softmax (or log-softmax) of contiguous {@code x} seen as (outer, n, inner) over n. */
    void softmax(View out, View x, int outer, int n, int inner, boolean log);

    /** Sum of all elements of contiguous {@code x} as double (used by norms, losses). */
    double sumAll(View x);

    /** Sum of squares of all elements of every (contiguous) tensor, as one double: one call for a whole gradient set. */
    double sumSquares(View... xs);

    /** xs[i] *= factor in place for every (contiguous) tensor: one call for a whole gradient set. */
    void scale(View[] xs, float factor);

    // ---- linear algebra ------------------------------------------------------------------

    /**
     * Batched row-major GEMM: for each b in [0, batch):
     * C_b = alpha * op(A_b) * op(B_b) + beta * C_b, where op transposes when asked.
     * Matrices are addressed from each view's storage and offset as offset + b * stride (the
     * view's shape is not used: the geometry is), with leading dimensions
     * lda/ldb/ldc in floats (row-major: element (i, j) at i * ld + j). C must not overlap A or B.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              View a, int lda, long strideA,
              View b, int ldb, long strideB,
              float beta, View c, int ldc, long strideC, int batch);

    // ---- indexing ------------------------------------------------------------------------

    /**
     * Contiguous x seen as (outer, n, inner); out (outer, idx.length, inner):
     * out[o, j, i] = x[o, idx[j], i].
     */
    void indexSelect(View out, View x, int outer, int n, int inner, int[] idx);

    /**
     * Scatter-add, the adjoint of indexSelect: out (outer, n, inner) += g (outer, idx.length, inner)
     * at rows idx (rows may repeat).
     */
    void indexAdd(View out, View g, int outer, int n, int inner, int[] idx);

    /**
     * Contiguous x (outer, n, inner), idx of length outer*m*inner; out (outer, m, inner):
     * out[o, j, i] = x[o, idx[(o*m + j)*inner + i], i].
     */
    void gather(View out, View x, int outer, int n, int inner, int m, int[] idx);

    /** Adjoint of gather: out (outer, n, inner) += g (outer, m, inner) at idx. */
    void scatterAdd(View out, View g, int outer, int n, int inner, int m, int[] idx);

    // ---- recurrent layers ----------------------------------------------------------------

    /**
     * Runs one layer in one or more directions over the whole (packed) sequence. Directions are
     * independent; a backend may run them concurrently. See {@link RnnLayerArgs} for shapes.
     */
    void rnnForward(RnnLayerArgs... directions);

    /** Backward of {@link #rnnForward}, walking the steps in reverse; same arguments plus gradients. */
    void rnnBackward(RnnLayerArgs... directions);

    /**
     * Streaming inference: packs a frozen unidirectional stack (weights copied once, in the
     * backend's own layout) into a kernel that steps many independent streams per call with
     * batch-invariant arithmetic (see {@link RnnStreamSpec}). Used by {@code org.rnn4j.stream}.
     * Backends without streaming support keep this default.
     */
    default RnnStreamSpec.Kernel rnnStreamKernel(RnnStreamSpec spec) {
        throw new UnsupportedOperationException(name() + ": streaming inference is not supported by this backend");
    }

    // ---- losses and optimizers (fused) ---------------------------------------------------

    /**
     * Fused log-softmax + negative log-likelihood over logits (rows, classes), contiguous.
     * lossPerRow[r] = -log_softmax(logits[r])[target[r]], 0 where target == ignoreIndex.
     * If dlogits is not null it receives (softmax(logits[r]) - onehot(target[r])) * gradScale
     * (0 for ignored rows); gradScale folds in the reduction (1/count for mean).
     */
    void crossEntropy(View lossPerRow, View dlogits, View logits, int[] target, int ignoreIndex,
                      float gradScale);

    /**
     * One fused optimizer update of a set of parameters sharing {@code step}'s settings, in one
     * call: params[i] is updated from grads[i] with its state state1[i], state2[i] (arrays
     * aligned, tensors contiguous, each state the shape of its parameter; a state array is null
     * when the kind keeps none). See {@link OptimizerStep} for the rules.
     */
    void optimizerStep(OptimizerStep step, View[] params, View[] grads, View[] state1, View[] state2);

    /** {@link #optimizerStep(OptimizerStep, View[], View[], View[], View[])} for one parameter. */
    default void optimizerStep(OptimizerStep step, View param, View grad, View state1, View state2) {
        optimizerStep(step, new View[] {param}, new View[] {grad}, state1 == null ? null : new View[] {state1},
                state2 == null ? null : new View[] {state2});
    }
}
