package org.rnn4j.nn;

import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;
import org.rnn4j.nn.rnn.PackedSequence;

/**
 * GRU (torch.nn.GRU), gates r, z, n:
 * r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 */
public final class GRU extends RNNBase {
    private GRU(Builder b) {
        super(CellKind.GRU, b);
    }

    /**
     * Single-layer GRU, torch.nn.GRU(input_size, hidden_size), everything else at PyTorch's defaults.
     *
     * @throws IllegalArgumentException if a size is below 1
     */
    public GRU(int inputSize, int hiddenSize) {
        this(builder().inputSize(inputSize).hiddenSize(hiddenSize).validated());
    }

    /**
     * torch.nn.GRU(input_size, hidden_size, num_layers); everything else at PyTorch's defaults
     * ({@link #builder()} sets the rest).
     */
    public GRU(int inputSize, int hiddenSize, int numLayers) {
        this(builder().inputSize(inputSize).hiddenSize(hiddenSize).numLayers(numLayers).validated());
    }

    /** A builder with PyTorch's defaults; input and hidden size must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * h0 (D*num_layers, N, H_out), or (D*num_layers, H_out) for unbatched input; null = zeros.
     * Same as {@link #forward(Tensor, State)} with {@code State.of(h0)}.
     */
    public RnnOutput forward(Tensor input, Tensor h0) {
        return forwardPadded(input, h0, null);
    }

    /** Packed variable-length batch; h0 (D*num_layers, N, H_out) in the caller's batch order, null = zeros. */
    public PackedRnnOutput forward(PackedSequence input, Tensor h0) {
        return forwardPacked(input, h0, null);
    }

    /** Builder for {@link GRU}: the shared settings of {@link RNNBase.Builder}. */
    public static final class Builder extends RNNBase.Builder<Builder, GRU> {
        /** Rejected: projections are LSTM only (PyTorch raises too). */
        @Override
        public Builder projSize(int v) {
            if (v != 0) {
                throw new IllegalArgumentException("GRU: proj_size argument is only supported for LSTM, not GRU (got " + v + ")");
            }
            return this;
        }

        private Builder validated() {
            validate("GRU");
            return this;
        }

        @Override
        public GRU build() {
            return new GRU(validated());
        }
    }
}
