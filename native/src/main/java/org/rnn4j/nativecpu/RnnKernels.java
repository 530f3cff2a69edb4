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
 * concurrently). Per direction k, {@code ptrs[k*SLOTS + slot]} is the address of element 0 of a
 * tensor view (0 = null) and {@code lds[k*SLOTS + slot]} its row stride in floats; slots in the
 * order of {@code rnn4j::RnnSlot}. {@code dims[k*DIMS + ...]}: cell kind code, reverse (0/1),
 * input size, hidden size, projection size. The arrays are copied in by JNI (no critical region:
 * a layer call can run for seconds and must not hold off the GC).
 */
@Properties(inherit = openblas_nolapack.class,
        value = @Platform(value = "linux-x86_64", include = "rnn4j/rnn_layer.h", library = "jnirnn4j"))
@Namespace("rnn4j")
@NoException
public final class RnnKernels {
    /** Slots per direction in ptrs/lds: rnn4j::RNN_NUM_SLOTS. */
    public static final int SLOTS = 23;
    /** Ints per direction in dims: rnn4j::RNN_NUM_DIMS. */
    public static final int DIMS = 5;

    // slot indices, as rnn4j::RnnSlot
    public static final int X = 0, H0 = 1, C0 = 2, W_IH = 3, W_HH = 4, B_IH = 5, B_HH = 6, W_HR = 7;
    public static final int Y = 8, H_N = 9, C_N = 10, WS = 11;
    public static final int DY = 12, DH_N = 13, DC_N = 14;
    public static final int DX = 15, DH0 = 16, DC0 = 17, DW_IH = 18, DW_HH = 19, DB_IH = 20, DB_HH = 21, DW_HR = 22;

    /** Return code of the kernels when their scratch could not be allocated (rnn4j::RNN_OUT_OF_MEMORY). */
    public static final int OUT_OF_MEMORY = 1;

    private RnnKernels() {
    }

    /** Forward of ndirs (1 or 2) directions; returns 0 or {@link #OUT_OF_MEMORY}. */
    public static native int rnn_layer_forward(int ndirs, @Cast("const long long*") long[] ptrs,
                                               @Cast("const long long*") long[] lds, @Cast("const int*") int[] dims,
                                               @Cast("const int*") int[] batchSizes, int steps, int threads);

    /** Backward of ndirs (1 or 2) directions; returns 0 or {@link #OUT_OF_MEMORY}. */
    public static native int rnn_layer_backward(int ndirs, @Cast("const long long*") long[] ptrs,
                                                @Cast("const long long*") long[] lds, @Cast("const int*") int[] dims,
                                                @Cast("const int*") int[] batchSizes, int steps, int threads);
}
