package org.rnn4j.nn;

import org.rnn4j.Tensor;
import org.rnn4j.nn.rnn.PackedSequence;

/**
 * What a recurrent layer returns for a packed input: the packed output (same batch sizes and
 * indices as the input, data (S, D*H_out)) and the final states in the caller's batch order:
 * {@code hN} (D*num_layers, N, H_out), {@code cN} (D*num_layers, N, H_cell) for LSTM, else null.
 * {@link #state()} is the final state as one value, to pass to the next
 * {@link RNNBase#forward(PackedSequence, State)}.
 */
public record PackedRnnOutput(PackedSequence output, Tensor hN, Tensor cN) {
    /** The packed output and the final state split into {@code hN} and {@code cN}. */
    public PackedRnnOutput(PackedSequence output, State state) {
        this(output, state.h(), state.c());
    }

    /** The final state (h_n, c_n) in the caller's batch order; c is null for RNN and GRU. */
    public State state() {
        return new State(hN, cN);
    }
}
