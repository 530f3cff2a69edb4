/**
 * Layers with PyTorch's semantics: {@link org.rnn4j.nn.RNN}, {@link org.rnn4j.nn.LSTM},
 * {@link org.rnn4j.nn.GRU} (one API on their base {@link org.rnn4j.nn.RNNBase}), their cells
 * ({@link org.rnn4j.nn.RNNCellBase}), {@link org.rnn4j.nn.Linear}, {@link org.rnn4j.nn.Embedding},
 * {@link org.rnn4j.nn.Dropout}, and the recurrent {@link org.rnn4j.nn.State}.
 *
 * <h2>Dimension legend</h2>
 *
 * Every shape in this package and in {@link org.rnn4j.nn.rnn} is written with these letters
 * (PyTorch's own, from the {@code torch.nn.RNN} / {@code LSTM} / {@code GRU} documentation):
 *
 * <table>
 * <caption>Dimension letters</caption>
 * <tr><th>Letter</th><th>Meaning</th></tr>
 * <tr><td>L</td><td>sequence length: time steps (for a packed batch, the longest length; L_i is the length of sequence i)</td></tr>
 * <tr><td>N</td><td>batch size: number of sequences</td></tr>
 * <tr><td>H_in</td><td>{@code input_size}</td></tr>
 * <tr><td>H_cell</td><td>{@code hidden_size}</td></tr>
 * <tr><td>H_out</td><td>{@code proj_size} if it is above 0 (LSTM only), else {@code hidden_size}</td></tr>
 * <tr><td>D</td><td>2 if bidirectional, else 1</td></tr>
 * <tr><td>G</td><td>gates per step: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)</td></tr>
 * <tr><td>B_t</td><td>{@code batchSizes[t]}: sequences still running at step t of a packed batch (B_0 = N)</td></tr>
 * <tr><td>S</td><td>packed rows: sum of the lengths, = B_0 + B_1 + ... + B_{L-1}</td></tr>
 * <tr><td>V, E</td><td>{@link org.rnn4j.nn.Embedding}: {@code num_embeddings}, {@code embedding_dim}</td></tr>
 * <tr><td>*</td><td>any number of further feature dims, including none</td></tr>
 * </table>
 *
 * So a layer maps input (L, N, H_in) — (N, L, H_in) with {@code batchFirst}, (L, H_in) unbatched,
 * (S, H_in) packed — to output (L, N, D*H_out), with state h (D*num_layers, N, H_out) and, for an
 * LSTM, c (D*num_layers, N, H_cell); parameters {@code weight_ih_l{k}} are (G*H_cell, H_in) for
 * k = 0 and (G*H_cell, D*H_out) above, {@code weight_hh_l{k}} (G*H_cell, H_out),
 * {@code weight_hr_l{k}} (H_out, H_cell). A cell maps (N, H_in) and state (N, H_cell) to the next
 * state.
 *
 * <h2>One recurrent API</h2>
 *
 * <pre>{@code
 * RNNBase rnn = RNNBase.builder("GRU").inputSize(8).hiddenSize(32).numLayers(2).build();
 * RnnOutput out = rnn.forward(x, null);          // null state: zeros
 * RnnOutput next = rnn.forward(x2, out.state()); // carry (h, c) on, for any kind
 * }</pre>
 */
package org.rnn4j.nn;
