package org.rnn4j.nn;

import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.backend.CellKind;

/** One GRU step (torch.nn.GRUCell), gates r, z, n with b_hn inside the reset product. */
public final class GRUCell extends RNNCellBase {
    /** A cell with biases, weights from the default generator (torch.nn.GRUCell(input_size, hidden_size)). */
    public GRUCell(int inputSize, int hiddenSize) {
        this(inputSize, hiddenSize, true, Generator.defaultGenerator());
    }

    /**
     * torch.nn.GRUCell(input_size, hidden_size, bias), the weights drawn from {@code gen}.
     *
     * @throws IllegalArgumentException if a size is below 1 or {@code gen} is null
     */
    public GRUCell(int inputSize, int hiddenSize, boolean bias, Generator gen) {
        super(CellKind.GRU, inputSize, hiddenSize, bias, gen);
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
