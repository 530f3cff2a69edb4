/**
 * Control of autograd recording: {@link org.rnn4j.autograd.GradMode}, the per-thread switch that
 * {@code torch.no_grad()} and {@code torch.enable_grad()} are in PyTorch. The graph itself is
 * recorded by {@link org.rnn4j.Tensor}'s operations as {@link org.rnn4j.GradFn} nodes and run by
 * {@link org.rnn4j.Tensor#backward()}.
 *
 * <pre>{@code
 * try (GradMode.Guard g = GradMode.noGrad()) {
 *     Tensor y = x.matmul(w).tanh();   // nothing recorded, no graph kept
 * }
 * }</pre>
 */
package org.rnn4j.autograd;
