package org.rnn4j.nativecpu;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * The JavaCPP binding of the recurrent layer kernels in {@code src/main/cpp/rnn4j/rnn_layer.h}.
 * Built into the same {@code libjnirnn4j.so} as {@link NativeKernels} (same library name), so
 * loading either loads both. {@link NativeBackend} is the only caller.
 *
 * <p>One call runs one layer over the whole packed sequence in one or two directions (two run
 * concurrently). Per direction k, {@code ptrs[k*S + slot]} is the address of element 0 of a
 * view (0 = null) and {@code lds[k*S + slot]} its row stride in floats, S = RnnBuffer.COUNT and
 * slot = {@link org.rnn4j.backend.RnnBuffer#code()}; {@code dims[k*D + RnnDim.code()]} the sizes
 * (D = RnnDim.COUNT). Both lists live once per language (RnnBuffer/RnnDim, the shared abi.h) and
 * are compared when the library loads. {@code cancelFlag} is the address of an int the Java side
 * sets to ask the call to stop between two steps (0 = not cancellable). The arrays are copied in by JNI (no critical region:
 * a layer call can run for seconds and must not hold off the GC).
 */
@Properties(inherit = openblas_nolapack.class,
        value = @Platform(value = "linux-x86_64", include = "rnn4j/rnn_layer.h", library = "jnirnn4j"))
@Namespace("rnn4j")
@NoException
public final class RnnKernels {
    /** Return code of the kernels when their scratch could not be allocated (rnn4j::RNN_OUT_OF_MEMORY). */
    public static final int OUT_OF_MEMORY = 1;
    /** Return code when the calling thread was interrupted between two steps (rnn4j::RNN_INTERRUPTED). */
    public static final int INTERRUPTED = 2;

    private RnnKernels() {
    }

    /** Forward of ndirs (1 or 2) directions; returns 0 or {@link #OUT_OF_MEMORY}. */
    public static native int rnn_layer_forward(int ndirs, @Cast("const long long*") long[] ptrs,
                                               @Cast("const long long*") long[] lds, @Cast("const int*") int[] dims,
                                               @Cast("const int*") int[] batchSizes, int steps, int threads,
                                               @Cast("long long") long cancelFlag);

    /** Backward of ndirs (1 or 2) directions; returns 0 or {@link #OUT_OF_MEMORY}. */
    public static native int rnn_layer_backward(int ndirs, @Cast("const long long*") long[] ptrs,
                                                @Cast("const long long*") long[] lds, @Cast("const int*") int[] dims,
                                                @Cast("const int*") int[] batchSizes, int steps, int threads,
                                               @Cast("long long") long cancelFlag);
}
