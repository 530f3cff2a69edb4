package org.rnn4j.nn;

import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;

/** h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), torch.nn.RNNCell. */
public final class RNNCell extends RNNCellBase {
    /** A tanh cell with biases, weights from the default generator (torch.nn.RNNCell(input_size, hidden_size)). */
    public RNNCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, "tanh", Generator.defaultGenerator());
    }

    /**
     * An Elman cell with every option (torch.nn.RNNCell).
     *
     * @param nonlinearity "tanh" or "relu"
     */
    public RNNCell(int inputSize, int hiddenSize, boolean bias, String nonlinearity, Generator gen) {
        super(kindOf(nonlinearity), inputSize, hiddenSize, bias, gen);
    }

    private static CellKind kindOf(String nonlinearity) {
        return switch (nonlinearity) {
            case "tanh" -> CellKind.RNN_TANH;
            case "relu" -> CellKind.RNN_RELU;
            default -> throw new IllegalArgumentException("RNNCell: unknown nonlinearity '" + nonlinearity
                    + "', expected 'tanh' or 'relu'");
        };
    }

    /** input (N, H_in) or (H_in); hx (N, H_cell) or (H_cell), null = zeros. Returns h'. */
    public Tensor forward(Tensor input, Tensor hx) {
        return step(input, hx, null).h();
    }

    /** One step from a zero state: {@code forward(input, null)}. */
    public Tensor forward(Tensor input) {
        return forward(input, (Tensor) null);
    }
}
