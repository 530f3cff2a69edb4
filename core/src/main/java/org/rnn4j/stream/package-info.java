/**
 * Streaming inference: many independent sequences stepped one time step (or one chunk) at a
 * time on a frozen model.
 *
 * <p>{@link org.rnn4j.stream.FrozenRnn#freeze} copies a trained unidirectional
 * {@link org.rnn4j.nn.RNN}, {@link org.rnn4j.nn.LSTM} or {@link org.rnn4j.nn.GRU} stack (with an
 * optional {@link org.rnn4j.nn.Linear} head) into an immutable, thread-safe model; each stream
 * keeps its recurrent state in a {@link org.rnn4j.stream.StreamState}, which can be snapshotted
 * to bytes and restored; {@link org.rnn4j.stream.MicroBatcher} gathers the steps submitted by
 * many threads into batched kernel calls. A stream's results are bitwise the same however it is
 * batched (see {@link org.rnn4j.stream.FrozenRnn} for the exact guarantee).
 *
 * <pre>{@code
 * try (FrozenRnn model = FrozenRnn.freeze(lstm, head);
 *      StreamState s = model.newState()) {
 *     float[] y = model.step(s, x);   // x: input_size floats; y: the head's outputs
 * }
 * }</pre>
 */
package org.rnn4j.stream;
