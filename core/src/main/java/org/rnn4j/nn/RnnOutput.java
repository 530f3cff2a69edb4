package org.rnn4j.nn;

import org.rnn4j.Tensor;

/**
 * What a recurrent layer returns: {@code output} (L, N, D*R) — or (N, L, D*R) with batch_first,
 * (L, D*R) unbatched — and the final states {@code hN} (num_layers*D, N, R) and, for LSTM,
 * {@code cN} (num_layers*D, N, H); unbatched states drop the N dim. R is proj_size or hidden_size.
 */
public record RnnOutput(Tensor output, Tensor hN, Tensor cN) {
}
