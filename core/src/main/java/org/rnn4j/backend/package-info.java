/**
 * The kernel contract under the tensor API, for backend authors and custom fused operations.
 *
 * <p>A {@link org.rnn4j.backend.Backend} computes whole-tensor operations on checked, pinned
 * {@link org.rnn4j.backend.View}s of {@link org.rnn4j.backend.Storage}; op codes
 * ({@link org.rnn4j.backend.UnaryOp}, {@link org.rnn4j.backend.BinaryOp},
 * {@link org.rnn4j.backend.ReduceOp}, {@link org.rnn4j.backend.CellKind},
 * {@link org.rnn4j.backend.OptimizerStep.Kind}) and the recurrent argument block
 * ({@link org.rnn4j.backend.RnnBuffer}, {@link org.rnn4j.backend.RnnDim},
 * {@link org.rnn4j.backend.RnnLayerArgs}) are shared with native kernels and checked when a native
 * library loads ({@link org.rnn4j.backend.Abi}). {@link org.rnn4j.backend.Backends} finds
 * backends with {@link java.util.ServiceLoader} and picks one per device; the pure-Java
 * {@link org.rnn4j.backend.ReferenceBackend} is always there and is the oracle the optimised
 * backends are tested against. {@link org.rnn4j.backend.RnnStreamSpec} describes a frozen
 * recurrent stack for streaming inference.
 *
 * <p>Application code normally uses {@link org.rnn4j.Tensor} and {@link org.rnn4j.nn} and never
 * this package.
 */
package org.rnn4j.backend;
