/**
 * The tensor core: {@link org.rnn4j.Tensor}, a float32 tensor of any rank over off-heap storage
 * with PyTorch's operations, broadcasting and autograd ({@link org.rnn4j.Tensor#backward()},
 * {@link org.rnn4j.GradFn}); the {@link org.rnn4j.Device} it lives on; {@link org.rnn4j.Scope}
 * for freeing intermediates; the seeded {@link org.rnn4j.Generator}; the off-heap
 * {@link org.rnn4j.Memory} budget; and {@link org.rnn4j.Shape}'s checked element counts.
 *
 * <p>Tensors are {@link java.lang.AutoCloseable}: close them, or create them inside a
 * {@link org.rnn4j.Scope}, rather than leave their memory to the garbage collector.
 *
 * <pre>{@code
 * Tensor w = Tensor.randn(3, 4).requiresGrad(true);
 * try (Scope scope = Scope.open()) {
 *     Tensor loss = Tensor.randn(2, 3).matmul(w).tanh().sum();
 *     loss.backward();                 // w.grad() now holds d loss / d w
 * }
 * }</pre>
 */
package org.rnn4j;
