/**
 * Loss functions with PyTorch's semantics: the functional forms in
 * {@link org.rnn4j.loss.Losses} ({@code F.cross_entropy}, {@code F.nll_loss}, {@code F.mse_loss})
 * and the criterion objects {@link org.rnn4j.loss.CrossEntropyLoss} and
 * {@link org.rnn4j.loss.MSELoss} ({@code torch.nn.CrossEntropyLoss}, {@code torch.nn.MSELoss}),
 * reduced as {@link org.rnn4j.loss.Reduction} says.
 *
 * <pre>{@code
 * Tensor loss = Losses.crossEntropy(logits, targets);   // logits (R, C), targets R class indices
 * loss.backward();
 * }</pre>
 */
package org.rnn4j.loss;
