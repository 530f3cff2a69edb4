package org.rnn4j.nn;

import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;

/** One LSTM step (torch.nn.LSTMCell), gates i, f, g, o; returns (h', c'). */
public final class LSTMCell extends RNNCellBase {
    /**
     * The pair {@link #forward(Tensor, Tensor, Tensor)} returns. {@link org.rnn4j.nn.State} is the
     * same pair for every cell and layer kind ({@link #forward(Tensor, org.rnn4j.nn.State)}).
     */
    public record State(Tensor h, Tensor c) {
        /** As the shared {@link org.rnn4j.nn.State}. */
        public org.rnn4j.nn.State toState() {
            return org.rnn4j.nn.State.of(h, c);
        }
    }

    /** A cell with biases, weights from the default generator (torch.nn.LSTMCell(input_size, hidden_size)). */
    public LSTMCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, Generator.defaultGenerator());
    }

    /**
     * torch.nn.LSTMCell(input_size, hidden_size, bias), the weights drawn from {@code gen}.
     *
     * @throws IllegalArgumentException if a size is below 1 or {@code gen} is null
     */
    public LSTMCell(int inputSize, int hiddenSize, boolean bias, Generator gen) {
        super(CellKind.LSTM, inputSize, hiddenSize, bias, gen);
    }

    /** input (N, H_in) or (H_in); hx, cx (N, H_cell) or (H_cell), null = zeros. */
    public State forward(Tensor input, Tensor hx, Tensor cx) {
        org.rnn4j.nn.State r = step(input, hx, cx);
        return new State(r.h(), r.c());
    }

    /** One step from a zero state: {@code forward(input, null, null)}. */
    public State forward(Tensor input) {
        return forward(input, null, null);
    }
}
