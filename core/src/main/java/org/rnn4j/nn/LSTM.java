package org.rnn4j.nn;

import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;
import org.rnn4j.nn.rnn.PackedSequence;

/**
 * LSTM (torch.nn.LSTM), gates i, f, g, o; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'), projected by
 * W_hr (proj_size, hidden_size) when proj_size &gt; 0, in which case h has H_out = proj_size
 * features and c keeps H_cell = hidden_size.
 */
public final class LSTM extends RNNBase {
    private LSTM(Builder b) {
        super(CellKind.LSTM, b);
    }

    /**
     * Single-layer LSTM, torch.nn.LSTM(input_size, hidden_size), everything else at PyTorch's defaults.
     *
     * @throws IllegalArgumentException if a size is below 1
     */
    public LSTM(int inputSize, int hiddenSize) {
        this(builder().inputSize(inputSize).hiddenSize(hiddenSize).validated());
    }

    /**
     * torch.nn.LSTM(input_size, hidden_size, num_layers); everything else at PyTorch's defaults
     * ({@link #builder()} sets the rest).
     */
    public LSTM(int inputSize, int hiddenSize, int numLayers) {
        this(builder().inputSize(inputSize).hiddenSize(hiddenSize).numLayers(numLayers).validated());
    }

    /** A builder with PyTorch's defaults; input and hidden size must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * h0 (D*num_layers, N, H_out) and c0 (D*num_layers, N, H_cell); unbatched without N; either
     * null = zeros. Same as {@link #forward(Tensor, State)} with {@code State.of(h0, c0)} when both
     * are given.
     */
    public RnnOutput forward(Tensor input, Tensor h0, Tensor c0) {
        return forwardPadded(input, h0, c0);
    }

    /** Packed variable-length batch; h0/c0 in the caller's batch order, null = zeros. */
    public PackedRnnOutput forward(PackedSequence input, Tensor h0, Tensor c0) {
        return forwardPacked(input, h0, c0);
    }

    /** Builder for {@link LSTM}: the shared settings of {@link RNNBase.Builder} and {@link Builder#projSize(int)}. */
    public static final class Builder extends RNNBase.Builder<Builder, LSTM> {
        /** Size of the projected hidden state H_out (0 = none); must be below hidden_size. */
        @Override
        public Builder projSize(int v) {
            projSize = v;
            return this;
        }

        private Builder validated() {
            validate("LSTM");
            return this;
        }

        @Override
        public LSTM build() {
            return new LSTM(validated());
        }
    }
}
