package org.rnn4j.nn;

import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;
import org.rnn4j.nn.rnn.PackedSequence;

/**
 * LSTM (torch.nn.LSTM), gates i, f, g, o; c' = f ⊙ c + i ⊙ g; h' = o ⊙ tanh(c'), projected by
 * W_hr (proj_size, hidden_size) when proj_size &gt; 0, in which case h has proj_size features.
 */
public final class LSTM extends RNNBase {
    private LSTM(Builder b) {
        super(CellKind.LSTM, b);
    }

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

    public static Builder builder() {
        return new Builder();
    }

    public RnnOutput forward(Tensor input) {
        return forwardPadded(input, null, null);
    }

    /** h0 (num_layers*D, N, R) and c0 (num_layers*D, N, H); unbatched without N; null = zeros. */
    public RnnOutput forward(Tensor input, Tensor h0, Tensor c0) {
        return forwardPadded(input, h0, c0);
    }

    /** Packed variable-length batch; h0/c0 in the caller's batch order, null = zeros. */
    public PackedRnnOutput forward(PackedSequence input, Tensor h0, Tensor c0) {
        return forwardPacked(input, h0, c0);
    }

    public PackedRnnOutput forward(PackedSequence input) {
        return forwardPacked(input, null, null);
    }

    public static final class Builder extends RNNBase.Builder<Builder, LSTM> {
        /** Size of the projected hidden state (0 = none); must be below hidden_size. */
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
