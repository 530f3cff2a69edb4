/**
 * PyTorch's {@code torch.nn.utils.rnn}: {@link org.rnn4j.nn.rnn.PackedSequence},
 * {@link org.rnn4j.nn.rnn.PaddedSequence} and the packing / padding functions of
 * {@link org.rnn4j.nn.rnn.RnnUtils}.
 *
 * <p>Shapes use the dimension legend of {@link org.rnn4j.nn}: L = sequence length (the longest,
 * or {@code totalLength}; L_i = length of sequence i), N = batch (number of sequences),
 * B_t = {@code batchSizes[t]} (sequences still running at step t), S = sum of lengths = packed
 * rows, * = any trailing feature dims. A padded batch is (L, N, *), or (N, L, *) with
 * {@code batchFirst}; packed data is (S, *); {@code batchSizes} is (L,); lengths and the sort
 * indices are (N,).
 */
package org.rnn4j.nn.rnn;
