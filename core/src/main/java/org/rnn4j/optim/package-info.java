/**
 * Optimizers and learning-rate schedulers with PyTorch's update formulas and defaults.
 *
 * <p>{@link org.rnn4j.optim.SGD}, {@link org.rnn4j.optim.Adam} and {@link org.rnn4j.optim.AdamW}
 * ({@code torch.optim.SGD}, {@code Adam}, {@code AdamW}, one parameter group) extend
 * {@link org.rnn4j.optim.Optimizer}, whose {@link org.rnn4j.optim.Optimizer#step()} runs one fused
 * backend update per parameter; {@link org.rnn4j.optim.StepLR} and
 * {@link org.rnn4j.optim.CosineAnnealingLR} extend {@link org.rnn4j.optim.LRScheduler}
 * ({@code torch.optim.lr_scheduler}); {@link org.rnn4j.optim.GradClip} clips gradients
 * ({@code torch.nn.utils.clip_grad_norm_} / {@code clip_grad_value_}).
 *
 * <pre>{@code
 * Adam opt = Adam.builder(model.parameters()).lr(1e-3).build();
 * StepLR sched = new StepLR(opt, 10, 0.5);
 * // per batch: opt.zeroGrad(); loss.backward(); opt.step();   per epoch: sched.step();
 * }</pre>
 */
package org.rnn4j.optim;
