package org.rnn4j.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.rnn4j.Generator;
import org.rnn4j.Shape;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;
import org.rnn4j.nn.rnn.PackedSequence;

/**
 * The configuration and layer stack shared by {@link RNN}, {@link LSTM} and {@link GRU}, with
 * PyTorch's semantics: parameters {@code weight_ih_l{k}[_reverse]}, {@code weight_hh_l{k}},
 * {@code bias_ih_l{k}}, {@code bias_hh_l{k}}, {@code weight_hr_l{k}} (LSTM with proj_size), all
 * initialised U(-1/sqrt(H_cell), 1/sqrt(H_cell)); layer k &gt; 0 reads both directions of layer k-1;
 * h_n is ordered layer*D + direction; dropout between layers in training only.
 *
 * <p>Every forward takes an optional {@link State} and returns the new one
 * ({@link RnnOutput#state()}, {@link PackedRnnOutput#state()}), so code holding "some recurrent
 * layer" runs RNN, LSTM and GRU alike; {@link #builder(String)} configures any of the three with
 * one chain. Dimension letters: see {@link org.rnn4j.nn} (L, N, H_in, H_cell, H_out, D, G, S).
 */
public abstract class RNNBase extends Module {
    /** The cell kind: fixes the gate count G and the step's formula. */
    protected final CellKind kind;
    /** H_in: features per input step ({@code input_size}). */
    protected final int inputSize;
    /** H_cell: features of the hidden (and LSTM cell) state ({@code hidden_size}). */
    protected final int hiddenSize;
    /** Stacked layers ({@code num_layers}). */
    protected final int numLayers;
    /** Whether the layers have the biases b_ih and b_hh ({@code bias}). */
    protected final boolean bias;
    /**
     * Whether batched input and output are (N, L, *) instead of (L, N, *) ({@code batch_first}; the state is not affected).
     */
    protected final boolean batchFirst;
    /** Probability of zeroing an element of each layer's output but the last's, in training only ({@code dropout}). */
    protected final float dropout;
    /** Whether each layer also runs a reverse direction (D = 2; {@code bidirectional}). */
    protected final boolean bidirectional;
    /** LSTM projection size H_out, 0 for none ({@code proj_size}). */
    protected final int projSize;
    private final Generator generator;
    /** [layer][direction] */
    private final RecurrentOp.Weights[][] weights;

    /**
     * Creates the layer from a validated builder and registers its parameters {@code weight_ih_l{k}},
     * {@code weight_hh_l{k}}, optionally {@code bias_ih_l{k}}, {@code bias_hh_l{k}} and
     * {@code weight_hr_l{k}} (suffix {@code _reverse} for the reverse direction), each drawn uniformly
     * from (-1/sqrt(H_cell), 1/sqrt(H_cell)) with the builder's generator, like PyTorch's initialisation.
     *
     * @throws IllegalArgumentException if a weight or the state of one sequence would be too large
     *     ({@link org.rnn4j.Shape#MAX_NUMEL}), checked before anything is allocated
     */
    protected RNNBase(CellKind kind, Builder<?, ?> b) {
        this.kind = kind;
        this.inputSize = b.inputSize;
        this.hiddenSize = b.hiddenSize;
        this.numLayers = b.numLayers;
        this.bias = b.bias;
        this.batchFirst = b.batchFirst;
        this.dropout = b.dropout;
        this.bidirectional = b.bidirectional;
        this.projSize = b.projSize;
        this.generator = b.generator;
        int dirs = directions();
        int g = kind.gates();
        int r = outputSize();
        checkSizes(g, dirs, r);
        float k = (float) (1 / Math.sqrt(hiddenSize));
        weights = new RecurrentOp.Weights[numLayers][dirs];
        try {
            for (int l = 0; l < numLayers; l++) {
                int in = l == 0 ? inputSize : r * dirs;
                for (int d = 0; d < dirs; d++) {
                    String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                    Tensor wIh = param("weight_ih" + sfx, k, g * hiddenSize, in);
                    Tensor wHh = param("weight_hh" + sfx, k, g * hiddenSize, r);
                    Tensor bIh = bias ? param("bias_ih" + sfx, k, g * hiddenSize) : null;
                    Tensor bHh = bias ? param("bias_hh" + sfx, k, g * hiddenSize) : null;
                    Tensor wHr = projSize > 0 ? param("weight_hr" + sfx, k, projSize, hiddenSize) : null;
                    weights[l][d] = new RecurrentOp.Weights(wIh, wHh, bIh, bHh, wHr);
                }
            }
        } catch (RuntimeException | Error e) {
            close();   // the weights made before the failure (e.g. out of memory) are freed, not leaked
            throw e;
        }
    }

    /**
     * Every tensor the module will make, checked before the first is allocated, in the terms of
     * the builder's arguments: the weights, and the state h_n of a single sequence.
     */
    private void checkSizes(int g, int dirs, int r) {
        String op = name();
        String gh = g == 1 ? "hidden_size" : g + "*hidden_size";
        String hArg = "hidden_size=" + hiddenSize + (projSize > 0 ? ", proj_size=" + projSize : "");
        String rName = projSize > 0 ? "proj_size" : "hidden_size";
        long rows = (long) g * hiddenSize;
        Shape.requireFits(op, "input_size=" + inputSize + ", " + hArg, "weight_ih_l0 (" + gh + ", input_size)", rows, inputSize);
        Shape.requireFits(op, hArg, "weight_hh_l0 (" + gh + ", " + rName + ")", rows, r);
        if (numLayers > 1) {
            Shape.requireFits(op, hArg + ", bidirectional=" + bidirectional + ", num_layers=" + numLayers,
                    "weight_ih_l1 (" + gh + ", " + (dirs == 2 ? "2*" : "") + rName + ")", rows, (long) dirs * r);
        }
        Shape.requireFits(op, "num_layers=" + numLayers + ", " + hArg + ", bidirectional=" + bidirectional,
                "the state h_n (num_layers*" + dirs + ", batch, " + rName + ") of one sequence", (long) numLayers * dirs, 1, r);
    }

    private Tensor param(String name, float k, int... shape) {
        return registerParameter(name, owned(() -> Tensor.uniform(generator, -k, k, shape)));
    }

    /** H_in ({@code input_size}). */
    public int inputSize() {
        return inputSize;
    }

    /** H_cell ({@code hidden_size}). */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** Number of stacked layers ({@code num_layers}). */
    public int numLayers() {
        return numLayers;
    }

    /** Whether each layer runs both directions ({@code bidirectional}). */
    public boolean bidirectional() {
        return bidirectional;
    }

    /** Whether batched input and output are (N, L, *) ({@code batch_first}). */
    public boolean batchFirst() {
        return batchFirst;
    }

    /** LSTM projection size, 0 for none ({@code proj_size}). */
    public int projSize() {
        return projSize;
    }

    /** Dropout probability between layers ({@code dropout}). */
    public float dropout() {
        return dropout;
    }

    /** Whether the layers have biases ({@code bias}). */
    public boolean hasBias() {
        return bias;
    }

    /** D: 2 if bidirectional, else 1. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** H_out: proj_size if set, else hidden_size. */
    public int outputSize() {
        return projSize > 0 ? projSize : hiddenSize;
    }

    /** The name used in error messages and {@link #toString()}: the simple class name. */
    protected String name() {
        return getClass().getSimpleName();
    }

    /** PyTorch's {@code mode}: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU". */
    public String mode() {
        return kind.name();
    }

    /**
     * A builder for the layer of {@code mode}, as PyTorch's {@code nn.RNNBase(mode, ...)}: "LSTM",
     * "GRU", "RNN_TANH" or "RNN_RELU" (any case; "RNN" means "RNN_TANH"). One chain configures any
     * of the three:
     *
     * <pre>{@code
     * RNNBase rnn = RNNBase.builder(mode).inputSize(8).hiddenSize(32).numLayers(2).dropout(0.2f).build();
     * }</pre>
     *
     * {@code projSize} other than 0 is rejected unless the mode is LSTM, as PyTorch does.
     */
    public static Builder<?, ? extends RNNBase> builder(String mode) {
        Objects.requireNonNull(mode, "mode");
        return switch (mode.toUpperCase(Locale.ROOT)) {
            case "LSTM" -> LSTM.builder();
            case "GRU" -> GRU.builder();
            case "RNN", "RNN_TANH" -> RNN.builder();
            case "RNN_RELU" -> RNN.builder().nonlinearity("relu");
            default -> throw new IllegalArgumentException("RNNBase: unknown mode '" + mode
                    + "', expected 'LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU'");
        };
    }

    /** input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in); the state starts at zeros. */
    public RnnOutput forward(Tensor input) {
        return forwardPadded(input, null, null);
    }

    /**
     * input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in). {@code state}: h
     * (D*num_layers, N, H_out) and, for an LSTM only, c (D*num_layers, N, H_cell) — both required
     * for an LSTM, c null otherwise; unbatched input drops the N dim; a null state means zeros.
     * The output carries the final state, {@link RnnOutput#state()}, ready to pass back in.
     *
     * @throws IllegalArgumentException naming {@code state.h} or {@code state.c} and the expected
     *     and actual shapes when the state does not fit this layer and input
     */
    public RnnOutput forward(Tensor input, State state) {
        String op = name() + ".forward";
        checkStateKind(op, state);
        return padded(op, input, state == null ? null : state.h(), state == null ? null : state.c(), "state.h", "state.c");
    }

    /** A packed variable-length batch; the state starts at zeros. */
    public PackedRnnOutput forward(PackedSequence input) {
        return forwardPacked(input, null, null);
    }

    /**
     * A packed variable-length batch; {@code state} as in {@link #forward(Tensor, State)}, in the
     * caller's batch order (N = input.batchSize()); null means zeros. The final state comes back
     * in the caller's batch order too.
     */
    public PackedRnnOutput forward(PackedSequence input, State state) {
        String op = name() + ".forward";
        checkStateKind(op, state);
        Objects.requireNonNull(input, "input");
        Stack r = packed(op, input.data(), input.batchSizes(), input.sortedIndices(), input.unsortedIndices(),
                state == null ? null : state.h(), state == null ? null : state.c(), "state.h", "state.c");
        return new PackedRnnOutput(input.withData(r.y()), r.state());
    }

    /** An LSTM state has h and c; an RNN or GRU state has h only. */
    private void checkStateKind(String op, State state) {
        if (state == null) {
            return;
        }
        if (kind == CellKind.LSTM && state.c() == null) {
            throw new IllegalArgumentException(op + ": argument 'state.c' is null, but an LSTM state needs both h and c "
                    + "(PyTorch's (h_0, c_0)); pass a null State for zeros");
        }
        if (kind != CellKind.LSTM && state.c() != null) {
            throw new IllegalArgumentException(op + ": argument 'state.c' must be null: " + name() + " has no cell state "
                    + "(only LSTM does), got shape " + State.shape(state.c().shape()));
        }
    }

    /**
     * The layer stack on a padded input: (L, N, H_in), (N, L, H_in) with batch_first, or unbatched
     * (L, H_in). h0 (D*num_layers, N, H_out) or unbatched (D*num_layers, H_out); null means zeros.
     * Same for c0 with H_cell (LSTM only).
     */
    protected RnnOutput forwardPadded(Tensor input, Tensor h0, Tensor c0) {
        String op = name() + ".forward";
        if (kind != CellKind.LSTM && c0 != null) {
            throw new IllegalArgumentException(op + ": argument 'c0' is only for LSTM");
        }
        return padded(op, input, h0, c0, "h0", "c0");
    }

    private RnnOutput padded(String op, Tensor input, Tensor h0, Tensor c0, String hArg, String cArg) {
        Objects.requireNonNull(input, "input");
        input.ensureOpen(op);
        if (input.dim() != 2 && input.dim() != 3) {
            throw new IllegalArgumentException(op + ": argument 'input' must be 3-D (batched) or 2-D (unbatched), got shape "
                    + Arrays.toString(input.shape()));
        }
        boolean unbatched = input.dim() == 2;
        if (input.size(-1) != inputSize) {
            throw new IllegalArgumentException(op + ": argument 'input' expected input_size " + inputSize
                    + " in its last dim, got shape " + Arrays.toString(input.shape()));
        }
        Tensor x3 = unbatched ? input.unsqueeze(1) : (batchFirst ? input.transpose(0, 1) : input);
        int steps = x3.size(0);
        int n = x3.size(1);
        if (steps == 0) {
            throw new IllegalArgumentException(op + ": expected sequence length to be larger than 0, got input shape "
                    + Arrays.toString(input.shape()));
        }
        if (n == 0) {
            throw new IllegalArgumentException(op + ": expected batch size to be larger than 0, got input shape "
                    + Arrays.toString(input.shape()));
        }
        requireParameterDevice(op, "input", input);
        Tensor h = checkState(op, hArg, "hidden", h0, unbatched, n, outputSize(), input.device());
        Tensor c = kind == CellKind.LSTM ? checkState(op, cArg, "cell", c0, unbatched, n, hiddenSize, input.device()) : null;
        int[] batchSizes = new int[steps];
        Arrays.fill(batchSizes, n);
        Tensor data = x3.reshape(steps * n, inputSize);
        Stack r = runLayers(data, batchSizes, h, c);
        Tensor out = r.y().reshape(steps, n, directions() * outputSize());
        Tensor hN = r.state().h();
        Tensor cN = r.state().c();
        if (unbatched) {
            out = out.squeeze(1);
            hN = hN.squeeze(1);
            cN = cN == null ? null : cN.squeeze(1);
        } else if (batchFirst) {
            out = out.transpose(0, 1);
        }
        return new RnnOutput(out, hN, cN);
    }

    /** The layer stack on a PackedSequence; h0/c0 in the caller's batch order, null = zeros. */
    protected PackedRnnOutput forwardPacked(PackedSequence input, Tensor h0, Tensor c0) {
        String op = name() + ".forward";
        if (kind != CellKind.LSTM && c0 != null) {
            throw new IllegalArgumentException(op + ": argument 'c0' is only for LSTM");
        }
        Objects.requireNonNull(input, "input");
        Stack r = packed(op, input.data(), input.batchSizes(), input.sortedIndices(), input.unsortedIndices(), h0, c0, "h0", "c0");
        return new PackedRnnOutput(input.withData(r.y()), r.state());
    }

    /**
     * The layer stack on packed data (S, H_in) with batch sizes B_t; h0/c0 in the caller's batch
     * order, reordered with {@code sortedIndices}; h_n/c_n come back in the caller's order.
     */
    private Stack packed(String op, Tensor data, int[] batchSizes, int[] sortedIndices, int[] unsortedIndices,
                         Tensor h0, Tensor c0, String hArg, String cArg) {
        data.ensureOpen(op);
        if (data.dim() != 2 || data.size(1) != inputSize) {
            throw new IllegalArgumentException(op + ": packed data expected shape (S, " + inputSize + "), got "
                    + Arrays.toString(data.shape()));
        }
        int n = batchSizes[0];
        requireParameterDevice(op, "input", data);
        Tensor h = checkState(op, hArg, "hidden", h0, false, n, outputSize(), data.device());
        Tensor c = kind == CellKind.LSTM ? checkState(op, cArg, "cell", c0, false, n, hiddenSize, data.device()) : null;
        if (sortedIndices != null) {
            h = h.indexSelect(1, sortedIndices);
            c = c == null ? null : c.indexSelect(1, sortedIndices);
        }
        Stack r = runLayers(data, batchSizes, h, c);
        if (unsortedIndices == null) {
            return r;
        }
        Tensor hN = r.state().h().indexSelect(1, unsortedIndices);
        Tensor cN = r.state().c() == null ? null : r.state().c().indexSelect(1, unsortedIndices);
        return new Stack(r.y(), new State(hN, cN));
    }

    /**
     * A state tensor checked against this layer: (D*num_layers, N, size), or (D*num_layers, size)
     * for unbatched input; zeros if null. Returned 3-D.
     *
     * @param what "hidden" or "cell", for the message (PyTorch: "Expected hidden size (2, 3, 20), got (2, 4, 20)")
     */
    private Tensor checkState(String op, String arg, String what, Tensor s, boolean unbatched, int n, int size,
                              org.rnn4j.Device device) {
        int layers = numLayers * directions();
        if (s == null) {
            return Tensor.zeros(device, layers, n, size);
        }
        s.ensureOpen(op);
        requireParameterDevice(op, arg, s);
        int[] expected = unbatched ? new int[] {layers, size} : new int[] {layers, n, size};
        if (s.dim() != expected.length) {
            throw new IllegalArgumentException(op + ": for " + (unbatched ? "unbatched 2-D" : "batched 3-D") + " input, argument '"
                    + arg + "' should also be " + expected.length + "-D " + State.shape(expected) + " but got " + s.dim()
                    + "-D tensor of shape " + State.shape(s.shape()));
        }
        if (!Arrays.equals(s.shape(), expected)) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "': expected " + what + " size "
                    + State.shape(expected) + ", got " + State.shape(s.shape()));
        }
        return unbatched ? s.unsqueeze(1) : s;
    }

    /** Inputs and states must live where the weights do: a kernel is never handed mixed memory. */
    private void requireParameterDevice(String op, String arg, Tensor t) {
        Tensor w = weights[0][0].wIh();
        if (!t.device().equals(w.device())) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' is on " + t.device()
                    + " but the module's parameters are on " + w.device() + " (move one with to(device))");
        }
    }

    /** What the layer stack returns: y (S, D*H_out) and the final state h_n, c_n (D*num_layers, N, ...). */
    private record Stack(Tensor y, State state) {
    }

    /** data (S, H_in) → y (S, D*H_out), h_n (D*num_layers, N, H_out), c_n (D*num_layers, N, H_cell) or null. */
    private Stack runLayers(Tensor data, int[] batchSizes, Tensor h0, Tensor c0) {
        int dirs = directions();
        Tensor in = data;
        List<Tensor> hs = new ArrayList<>();
        List<Tensor> cs = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            Tensor h0l = h0.narrow(0, l * dirs, dirs);
            Tensor c0l = c0 == null ? null : c0.narrow(0, l * dirs, dirs);
            RecurrentOp.Result r = RecurrentOp.apply(kind, batchSizes, hiddenSize, projSize, in, h0l, c0l, weights[l]);
            hs.add(r.hN());
            if (r.cN() != null) {
                cs.add(r.cN());
            }
            in = r.y();
            if (l < numLayers - 1 && dropout > 0 && isTraining()) {
                in = Dropout.dropout(in, dropout, true, generator);
            }
        }
        Tensor hN = numLayers == 1 ? hs.get(0) : Tensor.concat(hs, 0);
        Tensor cN = cs.isEmpty() ? null : (numLayers == 1 ? cs.get(0) : Tensor.concat(cs, 0));
        return new Stack(in, new State(hN, cN));
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name()).append('(').append(inputSize).append(", ").append(hiddenSize);
        if (numLayers != 1) {
            sb.append(", num_layers=").append(numLayers);
        }
        if (!bias) {
            sb.append(", bias=False");
        }
        if (batchFirst) {
            sb.append(", batch_first=True");
        }
        if (dropout != 0) {
            sb.append(", dropout=").append(dropout);
        }
        if (bidirectional) {
            sb.append(", bidirectional=True");
        }
        if (projSize != 0) {
            sb.append(", proj_size=").append(projSize);
        }
        return sb.append(')').toString();
    }

    /** Builder with PyTorch's defaults; {@link #build()} validates and names the bad value. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<B extends Builder<B, M>, M extends RNNBase> {
        /** H_in; -1 until set, which {@link #validate} rejects. */
        protected int inputSize = -1;
        /** H_cell; -1 until set, which {@link #validate} rejects. */
        protected int hiddenSize = -1;
        /** Stacked layers; default 1. */
        protected int numLayers = 1;
        /** Whether to have biases; default true. */
        protected boolean bias = true;
        /** Batch-first input and output; default false. */
        protected boolean batchFirst;
        /** Dropout between layers; default 0. */
        protected float dropout;
        /** Both directions; default false. */
        protected boolean bidirectional;
        /** LSTM projection size; default 0 (none). */
        protected int projSize;
        /** Generator for the initial weights and dropout masks; default {@link Generator#defaultGenerator()}. */
        protected Generator generator = Generator.defaultGenerator();

        /** Sets H_in ({@code input_size}, required, at least 1); returns this builder. */
        public B inputSize(int v) {
            inputSize = v;
            return (B) this;
        }

        /** Sets H_cell ({@code hidden_size}, required, at least 1); returns this builder. */
        public B hiddenSize(int v) {
            hiddenSize = v;
            return (B) this;
        }

        /** Sets the number of stacked layers ({@code num_layers}, at least 1, default 1); returns this builder. */
        public B numLayers(int v) {
            numLayers = v;
            return (B) this;
        }

        /** Sets whether the layers have biases ({@code bias}, default true); returns this builder. */
        public B bias(boolean v) {
            bias = v;
            return (B) this;
        }

        /** Sets batch-first input and output ({@code batch_first}, default false); returns this builder. */
        public B batchFirst(boolean v) {
            batchFirst = v;
            return (B) this;
        }

        /**
         * Sets the dropout probability between layers ({@code dropout}, in [0, 1], default 0); returns this builder.
         */
        public B dropout(float v) {
            dropout = v;
            return (B) this;
        }

        /**
         * Sets whether each layer runs both directions ({@code bidirectional}, default false); returns this builder.
         */
        public B bidirectional(boolean v) {
            bidirectional = v;
            return (B) this;
        }

        /**
         * Size of the projected hidden state H_out (0 = none, the default); must be below
         * hidden_size. LSTM only: the RNN and GRU builders reject anything but 0.
         */
        public B projSize(int v) {
            projSize = v;
            return (B) this;
        }

        /** Seeded generator for the initial weights and the dropout masks. */
        public B generator(Generator g) {
            generator = java.util.Objects.requireNonNull(g, "generator");
            return (B) this;
        }

        /**
         * Checks the settings, PyTorch's messages prefixed with {@code name}.
         *
         * @throws IllegalArgumentException if input_size, hidden_size or num_layers is below 1, dropout
         *     is outside [0, 1], or proj_size is negative or not below hidden_size
         */
        protected void validate(String name) {
            if (inputSize < 1) {
                throw new IllegalArgumentException(name + ": input_size must be >= 1, got " + inputSize);
            }
            if (hiddenSize < 1) {
                throw new IllegalArgumentException(name + ": hidden_size must be >= 1, got " + hiddenSize);
            }
            if (numLayers < 1) {
                throw new IllegalArgumentException(name + ": num_layers must be >= 1, got " + numLayers);
            }
            if (!(dropout >= 0 && dropout <= 1)) {
                throw new IllegalArgumentException(name + ": dropout should be a number in range [0, 1] representing the "
                        + "probability of an element being zeroed, got " + dropout);
            }
            if (projSize < 0) {
                throw new IllegalArgumentException(name + ": proj_size should be a positive integer or zero to disable "
                        + "projections, got " + projSize);
            }
            if (projSize >= hiddenSize) {
                throw new IllegalArgumentException(name + ": proj_size has to be smaller than hidden_size, got proj_size "
                        + projSize + " and hidden_size " + hiddenSize);
            }
        }

        /**
         * Validates the settings and creates the layer.
         *
         * @throws IllegalArgumentException naming the first bad setting
         */
        public abstract M build();
    }
}
