package org.rnn4j.nativecpu;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * The JavaCPP binding of the C++ kernels in {@code src/main/cpp/rnn4j} (one header per family,
 * all included by {@code rnn4j/kernels.h}). The JavaCPP Maven plugin compiles the generated JNI
 * code together with those headers into {@code libjnirnn4j.so}, linked against OpenBLAS, and the
 * jar carries it under {@code org/rnn4j/nativecpu/linux-x86_64/}.
 *
 * <p>Addresses are raw {@code long}s (element 0 of the view, offset already applied), resolved
 * once per storage by {@link NativeBackend}: no Pointer objects per call. Strided views are
 * described by {@code ndim}, {@code shape (ndim)} and {@code strides (nops * ndim)}, operand-major
 * with the output first. No bounds are checked here: {@link NativeBackend} is the only caller.
 * Not loaded by a static initializer: {@link NativeBackend#isAvailable()} loads it once and
 * turns any failure into an "unavailable" verdict.
 */
@Properties(inherit = openblas_nolapack.class,
        value = @Platform(value = "linux-x86_64", include = "rnn4j/kernels.h", library = "jnirnn4j"))
@Namespace("rnn4j")
@NoException
public final class NativeKernels {
    private NativeKernels() {
    }

    /** Address of element 0 of a direct buffer. */
    public static native @Cast("intptr_t") long address_of(@Cast("const float*") FloatBuffer buffer);

    /** 64-byte aligned, zero-filled memory for tensor storage; 0 if it could not be allocated. */
    public static native @Cast("intptr_t") long host_alloc(@Cast("std::int64_t") long bytes);

    public static native void host_free(@Cast("intptr_t") long address);

    /**
     * Sets the byte limit of the cache of freed big blocks (host_memory.h) unless the environment
     * sets {@code RNN4J_HOST_CACHE_MB}, which wins; returns the limit in force.
     */
    public static native long host_cache_set_default(long bytes);

    /** Bytes the cache of freed big blocks holds now. */
    public static native long host_cache_held();

    // ---- elementwise over strided views ------------------------------------------------------

    public static native void unary(int op, int ndim, int[] shape, int[] strides,
                                    @Cast("float*") long out, @Cast("const float*") long x);

    /** {@code b == 0} means binary-with-scalar: b is {@code scalar} everywhere. */
    public static native void binary(int op, int ndim, int[] shape, int[] strides, @Cast("float*") long out,
                                     @Cast("const float*") long a, @Cast("const float*") long b, float scalar);

    public static native void add_scaled(int ndim, int[] shape, int[] strides, @Cast("float*") long out,
                                         @Cast("const float*") long a, @Cast("const float*") long b, float alpha);

    public static native void where(int ndim, int[] shape, int[] strides, @Cast("float*") long out,
                                    @Cast("const float*") long cond, @Cast("const float*") long a,
                                    @Cast("const float*") long b);

    /** Returns 0, or -1 when the temporary for an overlapping copy could not be allocated. */
    public static native int copy(int ndim, int[] shape, int[] strides, @Cast("float*") long out,
                                  @Cast("const float*") long src, int overlap);

    public static native void fill(int ndim, int[] shape, int[] strides, @Cast("float*") long out, float value);

    @CriticalRegion
    public static native void read(int ndim, int[] shape, int[] strides, @Cast("const float*") long src,
                                   @Cast("float*") float[] dense);

    @CriticalRegion
    public static native void write(int ndim, int[] shape, int[] strides, @Cast("float*") long out,
                                    @Cast("const float*") float[] dense);

    // ---- reductions --------------------------------------------------------------------------

    /** Returns 0, or -1 when its accumulators could not be allocated. */
    public static native int reduce(int op, @Cast("float*") long out, @Cast("const float*") long x, int outer, int n,
                                     int inner);

    /** Returns 0, or -1 when its accumulators could not be allocated. */
    public static native int softmax(@Cast("float*") long out, @Cast("const float*") long x, int outer, int n,
                                      int inner, int log);

    public static native double sum_all(@Cast("const float*") long x, long n);

    public static native double sum_squares(@Cast("const float*") long x, long n);

    @CriticalRegion
    public static native void cross_entropy(@Cast("float*") long loss, @Cast("float*") long dlogits,
                                            @Cast("const float*") long logits, @Cast("const int*") int[] target,
                                            int rows, int classes, int ignore, float gradScale);

    // ---- indexing ----------------------------------------------------------------------------

    @CriticalRegion
    public static native void index_select(@Cast("float*") long out, @Cast("const float*") long x, int outer, int n,
                                           int inner, @Cast("const int*") int[] idx, int nidx);

    @CriticalRegion
    public static native void index_add(@Cast("float*") long out, @Cast("const float*") long g, int outer, int n,
                                        int inner, @Cast("const int*") int[] idx, int nidx);

    @CriticalRegion
    public static native void gather(@Cast("float*") long out, @Cast("const float*") long x, int outer, int n,
                                     int inner, int m, @Cast("const int*") int[] idx);

    @CriticalRegion
    public static native void scatter_add(@Cast("float*") long out, @Cast("const float*") long g, int outer, int n,
                                          int inner, int m, @Cast("const int*") int[] idx);

    // ---- linear algebra, optimizers, threads ---------------------------------------------------

    public static native void gemm(int transA, int transB, int m, int n, int k, float alpha,
                                   @Cast("const float*") long a, int lda, long strideA,
                                   @Cast("const float*") long b, int ldb, long strideB,
                                   float beta, @Cast("float*") long c, int ldc, long strideC, int batch);

    public static native void optimizer_step(int kind, @Cast("float*") long param, @Cast("const float*") long grad,
                                             @Cast("float*") long state1, @Cast("float*") long state2, long n,
                                             float lr, float momentum, float dampening, int nesterov, float weightDecay,
                                             float beta1, float beta2, float eps, long step, int first);

    /** {@link #optimizer_step} over {@code count} tensors given by address and size arrays. */
    public static native void optimizer_step_multi(int kind, @Cast("const std::int64_t*") long[] params,
                                                   @Cast("const std::int64_t*") long[] grads,
                                                   @Cast("const std::int64_t*") long[] state1,
                                                   @Cast("const std::int64_t*") long[] state2,
                                                   @Cast("const std::int64_t*") long[] sizes, int count,
                                                   float lr, float momentum, float dampening, int nesterov,
                                                   float weightDecay, float beta1, float beta2, float eps, long step,
                                                   int first);

    public static native double sum_squares_multi(@Cast("const std::int64_t*") long[] xs,
                                                  @Cast("const std::int64_t*") long[] sizes, int count);

    public static native void scale_multi(@Cast("const std::int64_t*") long[] xs,
                                          @Cast("const std::int64_t*") long[] sizes, int count, float factor);

    // ---- ISA paths (rnn4j/isa.h): codes as in Isa ------------------------------------------------

    /** The best path this CPU and OS support: 0 baseline (SSE2), 1 AVX2+FMA, 2 AVX-512. */
    public static native int isa_detect();

    /** The path every kernel takes now. */
    public static native int isa_active();

    /** Asks for a path (clamped to {@link #isa_detect()}); returns the path now in force. Process-wide. */
    public static native int isa_set(int isa);

    /** A register-only multiply-add loop of {@code iters} iterations on a path; returns a checksum. */
    public static native float fma_peak(int isa, long iters);

    /** FLOPs of one {@link #fma_peak} iteration on a path. */
    public static native long fma_peak_flops(int isa);

    /** OpenBLAS's kernel family (openblas_get_corename). */
    public static native @Cast("const char*") String blas_core();

    /** The library's codes and layer-call layout (abi.h's abi_descriptor), compared with Java's at load. */
    public static native @Cast("const char*") String abi();

    public static native void set_num_threads(int n);

    public static native int get_num_threads();

    /**
     * How long OpenBLAS's pool threads spin after a threaded call before they sleep: 2^log2
     * time-stamp ticks, unless the environment sets {@code OPENBLAS_THREAD_TIMEOUT}; restarts the
     * pool. Returns the log2 in force, 0 when the linked OpenBLAS has no such setting.
     */
    public static native int set_blas_pool_spin(int log2);
}
