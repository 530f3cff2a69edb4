package org.rnn4j.nn;

import java.util.Locale;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;
import org.rnn4j.nn.rnn.PackedSequence;

/** Elman RNN (torch.nn.RNN): h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), or relu. */
public final class RNN extends RNNBase {
    private RNN(Builder b) {
        super(b.nonlinearity, b);
    }

    /** A builder with PyTorch's defaults; input and hidden size must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Single-layer tanh RNN with PyTorch's defaults. */
    public RNN(int inputSize, int hiddenSize) {
        this(builder().inputSize(inputSize).hiddenSize(hiddenSize).validated());
    }

    /**
     * torch.nn.RNN(input_size, hidden_size, num_layers); everything else at PyTorch's defaults
     * ({@link #builder()} sets the rest).
     */
    public RNN(int inputSize, int hiddenSize, int numLayers) {
        this(builder().inputSize(inputSize).hiddenSize(hiddenSize).numLayers(numLayers).validated());
    }

    /** The activation: "tanh" or "relu" (PyTorch's {@code nonlinearity}). */
    public String nonlinearity() {
        return kind == CellKind.RNN_RELU ? "relu" : "tanh";
    }

    /**
     * h0 (D*num_layers, N, H_out), or (D*num_layers, H_out) for unbatched input; null = zeros.
     * Same as {@link #forward(Tensor, State)} with {@code State.of(h0)} (a literal {@code null}
     * second argument is ambiguous between the two: pass {@code (State) null} or use
     * {@link #forward(Tensor)}).
     */
    public RnnOutput forward(Tensor input, Tensor h0) {
        return forwardPadded(input, h0, null);
    }

    /** Packed variable-length batch; h0 (D*num_layers, N, H_out) in the caller's batch order, null = zeros. */
    public PackedRnnOutput forward(PackedSequence input, Tensor h0) {
        return forwardPacked(input, h0, null);
    }

    @Override
    public String toString() {
        String s = super.toString();
        return kind == CellKind.RNN_RELU ? s.substring(0, s.length() - 1) + ", nonlinearity='relu')" : s;
    }

    /**
     * Builder for {@link RNN}: the shared settings of {@link RNNBase.Builder} and {@link Builder#nonlinearity(String)}.
     */
    public static final class Builder extends RNNBase.Builder<Builder, RNN> {
        private CellKind nonlinearity = CellKind.RNN_TANH;

        /** "tanh" (default) or "relu". */
        public Builder nonlinearity(String name) {
            switch (name.toLowerCase(Locale.ROOT)) {
                case "tanh" -> nonlinearity = CellKind.RNN_TANH;
                case "relu" -> nonlinearity = CellKind.RNN_RELU;
                default -> throw new IllegalArgumentException("RNN: unknown nonlinearity '" + name + "', expected 'tanh' or 'relu'");
            }
            return this;
        }

        /** Rejected: projections are LSTM only (PyTorch raises too). */
        @Override
        public Builder projSize(int v) {
            if (v != 0) {
                throw new IllegalArgumentException("RNN: proj_size argument is only supported for LSTM, not RNN (got " + v + ")");
            }
            return this;
        }

        private Builder validated() {
            validate("RNN");
            return this;
        }

        @Override
        public RNN build() {
            return new RNN(validated());
        }
    }
}
