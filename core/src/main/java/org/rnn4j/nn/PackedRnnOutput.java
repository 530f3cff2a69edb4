package org.rnn4j.nn;

import org.rnn4j.Tensor;
import org.rnn4j.nn.rnn.PackedSequence;

/**
 * What a recurrent layer returns for a packed input: the packed output (same batch sizes and
 * indices as the input, data (S, D*R)) and the final states in the caller's batch order:
 * {@code hN} (num_layers*D, N, R), {@code cN} (num_layers*D, N, H) for LSTM, else null.
 */
public record PackedRnnOutput(PackedSequence output, Tensor hN, Tensor cN) {
}
