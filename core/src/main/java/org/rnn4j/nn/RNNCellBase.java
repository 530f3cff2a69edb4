package org.rnn4j.nn;

import java.util.Arrays;
import org.rnn4j.Generator;
import org.rnn4j.Shape;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;

/**
 * Shared by {@link RNNCell}, {@link LSTMCell}, {@link GRUCell}: one step, parameters
 * {@code weight_ih} (G*H_cell, H_in), {@code weight_hh} (G*H_cell, H_cell), {@code bias_ih},
 * {@code bias_hh} (G*H_cell), initialised U(-1/sqrt(H_cell), 1/sqrt(H_cell)).
 * {@link #forward(Tensor, State)} steps any of the three alike (letters: see {@link org.rnn4j.nn}). A step runs through the same fused layer kernel as the
 * full layers (one step, all rows active), so cells can be unrolled by hand and differentiated.
 */
public abstract class RNNCellBase extends Module {
    /** The cell kind: fixes the gate count G and the step's formula. */
    protected final CellKind kind;
    /** H_in ({@code input_size}). */
    protected final int inputSize;
    /** H_cell ({@code hidden_size}). */
    protected final int hiddenSize;
    /** Whether the cell has the biases b_ih and b_hh ({@code bias}). */
    protected final boolean bias;
    private final RecurrentOp.Weights[] weights;

    /**
     * Creates the cell and registers its parameters, drawn uniformly from (-1/sqrt(H_cell), 1/sqrt(H_cell)) with {@code gen}.
     *
     * @throws IllegalArgumentException if a size is below 1, {@code gen} is null, or a weight would be
     *     too large ({@link Shape#MAX_NUMEL}), checked before anything is allocated
     */
    protected RNNCellBase(CellKind kind, int inputSize, int hiddenSize, boolean bias, Generator gen) {
        String name = getClass().getSimpleName();
        if (inputSize < 1) {
            throw new IllegalArgumentException(name + ": input_size must be >= 1, got " + inputSize);
        }
        if (hiddenSize < 1) {
            throw new IllegalArgumentException(name + ": hidden_size must be >= 1, got " + hiddenSize);
        }
        this.kind = kind;
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.bias = bias;
        if (gen == null) {
            throw new IllegalArgumentException(name + ": argument 'gen' is null");
        }
        long rows = (long) kind.gates() * hiddenSize;
        String gh = kind.gates() == 1 ? "hidden_size" : kind.gates() + "*hidden_size";
        Shape.requireFits(name, "input_size=" + inputSize + ", hidden_size=" + hiddenSize,
                "weight_ih (" + gh + ", input_size)", rows, inputSize);
        Shape.requireFits(name, "hidden_size=" + hiddenSize, "weight_hh (" + gh + ", hidden_size)", rows, hiddenSize);
        int g = (int) rows;
        float k = (float) (1 / Math.sqrt(hiddenSize));
        try {
            Tensor wIh = registerParameter("weight_ih", owned(() -> Tensor.uniform(gen, -k, k, g, inputSize)));
            Tensor wHh = registerParameter("weight_hh", owned(() -> Tensor.uniform(gen, -k, k, g, hiddenSize)));
            Tensor bIh = bias ? registerParameter("bias_ih", owned(() -> Tensor.uniform(gen, -k, k, g))) : null;
            Tensor bHh = bias ? registerParameter("bias_hh", owned(() -> Tensor.uniform(gen, -k, k, g))) : null;
            this.weights = new RecurrentOp.Weights[] {new RecurrentOp.Weights(wIh, wHh, bIh, bHh, null)};
        } catch (RuntimeException | Error e) {
            close();   // what was made before the failure is freed, not leaked
            throw e;
        }
    }

    /** H_in ({@code input_size}). */
    public int inputSize() {
        return inputSize;
    }

    /** H_cell ({@code hidden_size}). */
    public int hiddenSize() {
        return hiddenSize;
    }

    /**
     * One step for any cell kind: input (N, H_in) or unbatched (H_in); {@code state} h (N, H_cell)
     * and, for {@link LSTMCell} only, c (N, H_cell) — both required for an LSTMCell, c null
     * otherwise; unbatched drops N; a null state means zeros. Returns the new state (h', c').
     *
     * @throws IllegalArgumentException naming {@code state.h} or {@code state.c} when the state
     *     does not fit this cell and input
     */
    public State forward(Tensor input, State state) {
        String op = getClass().getSimpleName() + ".forward";
        if (state != null && kind == CellKind.LSTM && state.c() == null) {
            throw new IllegalArgumentException(op + ": argument 'state.c' is null, but an LSTMCell state needs both h and c "
                    + "(PyTorch's (h_0, c_0)); pass a null State for zeros");
        }
        if (state != null && kind != CellKind.LSTM && state.c() != null) {
            throw new IllegalArgumentException(op + ": argument 'state.c' must be null: " + getClass().getSimpleName()
                    + " has no cell state (only LSTMCell does), got shape " + State.shape(state.c().shape()));
        }
        return step(input, state == null ? null : state.h(), state == null ? null : state.c(), "state.h", "state.c");
    }

    /** One step: input (N, H_in) or (H_in); h, c (N, H_cell) or (H_cell), null = zeros. Returns (h', c' or null). */
    protected State step(Tensor input, Tensor h, Tensor c) {
        return step(input, h, c, "hx", "cx");
    }

    private State step(Tensor input, Tensor h, Tensor c, String hArg, String cArg) {
        String op = getClass().getSimpleName() + ".forward";
        java.util.Objects.requireNonNull(input, "input");
        input.ensureOpen(op);
        if (input.dim() != 1 && input.dim() != 2) {
            throw new IllegalArgumentException(op + ": expected input to be 1-D or 2-D but received " + input.dim()
                    + "-D tensor of shape " + Arrays.toString(input.shape()));
        }
        boolean unbatched = input.dim() == 1;
        requireParameterDevice(op, "input", input);
        if (input.size(-1) != inputSize) {
            throw new IllegalArgumentException(op + ": argument 'input' expected input_size " + inputSize
                    + " in its last dim, got shape " + Arrays.toString(input.shape()));
        }
        Tensor x = unbatched ? input.unsqueeze(0) : input;
        int n = x.size(0);
        if (n == 0) {
            throw new IllegalArgumentException(op + ": argument 'input' has batch size 0");
        }
        Tensor h0 = state(op, hArg, h, unbatched, n, input);
        Tensor c0 = kind == CellKind.LSTM ? state(op, cArg, c, unbatched, n, input) : null;
        RecurrentOp.Result r = RecurrentOp.apply(kind, new int[] {n}, hiddenSize, 0, x, h0.unsqueeze(0),
                c0 == null ? null : c0.unsqueeze(0), weights);
        Tensor hNew = r.y();
        Tensor cNew = r.cN() == null ? null : r.cN().select(0, 0);
        if (unbatched) {
            hNew = hNew.squeeze(0);
            cNew = cNew == null ? null : cNew.squeeze(0);
        }
        return new State(hNew, cNew);
    }

    private Tensor state(String op, String arg, Tensor s, boolean unbatched, int n, Tensor input) {
        if (s == null) {
            return Tensor.zeros(input.device(), n, hiddenSize);
        }
        s.ensureOpen(op);
        requireParameterDevice(op, arg, s);
        int want = unbatched ? 1 : 2;
        if (s.dim() != want) {
            throw new IllegalArgumentException(op + ": for " + (unbatched ? "unbatched 1-D" : "batched 2-D") + " input, "
                    + arg + " should also be " + want + "-D but got " + s.dim() + "-D tensor of shape " + Arrays.toString(s.shape()));
        }
        Tensor s2 = unbatched ? s.unsqueeze(0) : s;
        if (s2.size(0) != n) {
            throw new IllegalArgumentException(op + ": input batch size " + n + " doesn't match " + arg + " batch size " + s2.size(0));
        }
        if (s2.size(1) != hiddenSize) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected hidden_size " + hiddenSize
                    + " in its last dim, got shape " + Arrays.toString(s.shape()));
        }
        return s2;
    }

    private void requireParameterDevice(String op, String arg, Tensor t) {
        Tensor w = weights[0].wIh();
        if (!t.device().equals(w.device())) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' is on " + t.device()
                    + " but the module's parameters are on " + w.device() + " (move one with to(device))");
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + inputSize + ", " + hiddenSize + (bias ? "" : ", bias=False") + ")";
    }
}
