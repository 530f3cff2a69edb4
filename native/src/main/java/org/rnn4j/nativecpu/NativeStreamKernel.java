package org.rnn4j.nativecpu;

import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.rnn4j.backend.RnnStreamSpec;

/**
 * The native backend's streaming kernel: the spec's weights packed once into per-ISA panels in
 * native memory ({@code rnn_stream.h}), one JNI crossing per {@link #run} whatever its rows and
 * steps. The ISA path is fixed when the kernel is packed.
 */
final class NativeStreamKernel implements RnnStreamSpec.Kernel {
    private final long handle;
    private final RnnStreamSpec spec;
    private final Isa isa;
    private final AtomicBoolean closed = new AtomicBoolean();

    NativeStreamKernel(RnnStreamSpec s) {
        this.spec = s;
        int layers = s.numLayers();
        long total = 0;
        long[] offs = new long[5 * layers + 2];
        java.util.Arrays.fill(offs, -1);
        float[][] parts = new float[5 * layers + 2][];
        for (int l = 0; l < layers; l++) {
            parts[5 * l] = s.wIh()[l];
            parts[5 * l + 1] = s.wHh()[l];
            parts[5 * l + 2] = s.bIh()[l];
            parts[5 * l + 3] = s.bHh()[l];
            parts[5 * l + 4] = s.projSize() > 0 ? s.wHr()[l] : null;
        }
        parts[5 * layers] = s.headOut() > 0 ? s.headW() : null;
        parts[5 * layers + 1] = s.headOut() > 0 ? s.headB() : null;
        for (int i = 0; i < parts.length; i++) {
            if (parts[i] != null) {
                offs[i] = total;
                total += parts[i].length;
            }
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("native stream kernel: " + total + " weights is more than one array holds");
        }
        float[] w = new float[(int) Math.max(total, 1)];
        for (int i = 0; i < parts.length; i++) {
            if (parts[i] != null) {
                System.arraycopy(parts[i], 0, w, (int) offs[i], parts[i].length);
            }
        }
        int[] dims = {s.kind().code(), s.inputSize(), s.hiddenSize(), s.projSize(), layers, s.headOut()};
        long h = StreamKernels.stream_model_create(dims, w, offs);
        if (h == 0) {
            throw new OutOfMemoryError("native stream kernel: could not allocate the packed weights");
        }
        this.handle = h;
        this.isa = Isa.fromCode(StreamKernels.stream_model_isa(h));
    }

    @Override
    public String describe() {
        return "native batch-invariant stream kernel, " + isa + " panels, one thread per call";
    }

    private static long address(String arg, FloatBuffer b, long floats) {
        if (!b.isDirect()) {
            throw new IllegalArgumentException("native stream kernel: '" + arg + "' must be a direct buffer");
        }
        if (b.order() != java.nio.ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("native stream kernel: '" + arg + "' must be in native byte order");
        }
        if (b.capacity() < floats) {
            throw new IllegalArgumentException("native stream kernel: '" + arg + "' holds " + b.capacity()
                    + " floats, needs " + floats);
        }
        return NativeKernels.address_of(b);
    }

    @Override
    public void run(int rows, int steps, FloatBuffer x, FloatBuffer state, FloatBuffer out, boolean allSteps) {
        if (closed.get()) {
            throw new IllegalStateException("native stream kernel is closed");
        }
        if (rows < 1 || steps < 1) {
            throw new IllegalArgumentException("native stream kernel: rows and steps must be >= 1, got " + rows + ", " + steps);
        }
        long ax = address("x", x, (long) rows * steps * spec.inputSize());
        long as = address("state", state, (long) rows * spec.stateSize());
        long ao = address("out", out, (long) rows * (allSteps ? steps : 1) * spec.outputSize());
        int rc = StreamKernels.stream_model_run(handle, rows, steps, ax, as, ao, allSteps ? 1 : 0);
        if (rc != 0) {
            throw new OutOfMemoryError("native stream kernel: could not allocate scratch for " + rows + " rows x "
                    + steps + " steps");
        }
        java.lang.ref.Reference.reachabilityFence(x);
        java.lang.ref.Reference.reachabilityFence(state);
        java.lang.ref.Reference.reachabilityFence(out);
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            StreamKernels.stream_model_free(handle);
        }
    }
}
