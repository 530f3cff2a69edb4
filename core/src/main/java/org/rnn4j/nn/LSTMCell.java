package org.rnn4j.nn;

import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;

/** One LSTM step (torch.nn.LSTMCell), gates i, f, g, o; returns (h', c'). */
public final class LSTMCell extends RNNCellBase {
    /** The pair an LSTM step returns. */
    public record State(Tensor h, Tensor c) {
    }

    public LSTMCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, Generator.defaultGenerator());
    }

    public LSTMCell(int inputSize, int hiddenSize, boolean bias, Generator gen) {
        super(CellKind.LSTM, inputSize, hiddenSize, bias, gen);
    }

    /** input (N, I) or (I); hx, cx (N, H) or (H), null = zeros. */
    public State forward(Tensor input, Tensor hx, Tensor cx) {
        Tensor[] r = step(input, hx, cx);
        return new State(r[0], r[1]);
    }

    public State forward(Tensor input) {
        return forward(input, null, null);
    }
}
