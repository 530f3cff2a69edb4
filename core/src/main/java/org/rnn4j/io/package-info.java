/**
 * Reading and writing weights and training state in PyTorch's file formats.
 *
 * <ul>
 *   <li>{@link org.rnn4j.io.SafeTensors}: the safetensors format, read and write;</li>
 *   <li>{@link org.rnn4j.io.TorchFiles}: {@code torch.save} zip archives, read only, through a
 *       restricted unpickler that never executes or instantiates anything from the file;</li>
 *   <li>{@link org.rnn4j.io.StateDict}: what either reader returns, with
 *       {@link org.rnn4j.io.StateDict#read(java.nio.file.Path)} telling the format from the file's
 *       first bytes; floating-point entries become float32 {@link org.rnn4j.Tensor}s, integer and
 *       boolean ones {@link org.rnn4j.io.IntTensor}s (element types: {@link org.rnn4j.io.DType});</li>
 *   <li>{@link org.rnn4j.io.Checkpoint}: a training checkpoint folder (model, optimizer state and
 *       a hashed manifest) saved atomically and restored all or nothing, through the
 *       {@link org.rnn4j.io.ModelState} and {@link org.rnn4j.io.OptimizerState} interfaces that
 *       {@link org.rnn4j.nn.Module} and {@link org.rnn4j.optim.Optimizer} implement.</li>
 * </ul>
 *
 * Malformed or hostile files are reported as {@link org.rnn4j.io.SafeTensorsException} or
 * {@link org.rnn4j.io.TorchFileException} (both {@link java.io.IOException}s) naming the problem,
 * within stated size limits.
 */
package org.rnn4j.io;
