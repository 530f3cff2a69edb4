package org.rnn4j.nativecpu;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.openblas.presets.openblas_nolapack;

/**
 * The JavaCPP binding of the streaming-inference kernel in {@code src/main/cpp/rnn4j/rnn_stream.h}
 * (same {@code libjnirnn4j.so} as {@link NativeKernels}). {@link NativeStreamKernel} is the only
 * caller; it checks every argument.
 */
@Properties(inherit = openblas_nolapack.class,
        value = @Platform(value = "linux-x86_64", include = "rnn4j/rnn_stream.h", library = "jnirnn4j"))
@Namespace("rnn4j")
@NoException
public final class StreamKernels {
    private StreamKernels() {
    }

    /**
     * Packs a model: dims {kind, I, H, P, L, headOut}; w all weights; offs (5L + 2) float offsets
     * into w (-1 = absent): per layer w_ih, w_hh, b_ih, b_hh, w_hr, then head W, head b.
     * Returns the handle, 0 when out of memory.
     */
    public static native @Cast("intptr_t") long stream_model_create(@Cast("const int*") int[] dims,
                                                                    @Cast("const float*") float[] w,
                                                                    @Cast("const long long*") long[] offs);

    public static native void stream_model_free(@Cast("intptr_t") long model);

    /** The ISA path (Isa code) the model was packed for. */
    public static native int stream_model_isa(@Cast("intptr_t") long model);

    /** x (rows, steps, I), state (rows, SF) in place, out (rows, allSteps ? steps : 1, O); 0 or OUT_OF_MEMORY. */
    public static native int stream_model_run(@Cast("intptr_t") long model, int rows, int steps,
                                              @Cast("const float*") long x, @Cast("float*") long state,
                                              @Cast("float*") long out, int allSteps);
}
