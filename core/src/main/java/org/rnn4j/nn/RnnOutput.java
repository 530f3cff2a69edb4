package org.rnn4j.nn;

import org.rnn4j.Tensor;

/**
 * What a recurrent layer returns: {@code output} (L, N, D*H_out) — or (N, L, D*H_out) with
 * batch_first, (L, D*H_out) unbatched — and the final states {@code hN} (D*num_layers, N, H_out)
 * and, for LSTM, {@code cN} (D*num_layers, N, H_cell), else null; unbatched states drop the N
 * dim. {@link #state()} is the final state as one value, to pass to the next
 * {@link RNNBase#forward(Tensor, State)}.
 */
public record RnnOutput(Tensor output, Tensor hN, Tensor cN) {
    /** The output and the final state split into {@code hN} and {@code cN}. */
    public RnnOutput(Tensor output, State state) {
        this(output, state.h(), state.c());
    }

    /** The final state (h_n, c_n); c is null for RNN and GRU. */
    public State state() {
        return new State(hN, cN);
    }
}
