package org.rnn4j.nativecpu;

import org.bytedeco.javacpp.Loader;
import org.rnn4j.Device;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.HostStorage;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.UnaryOp;

/**
 * The CPU backend in native code: C++ kernels (vectorised for AVX2 / AVX-512 with runtime
 * dispatch) and OpenBLAS GEMMs, bound through {@link NativeKernels}. Memory is the same
 * {@link HostStorage} the reference backend uses, so tensors move freely between the two.
 *
 * <p>This class is the only place that turns tensors into addresses. Tensor validates shapes,
 * devices and index ranges before calling a backend; what is checked again here is what would
 * otherwise crash the JVM: that every storage is host memory and not yet freed.
 *
 * <p>Threads: OpenBLAS gets {@code -Drnn4j.threads=N}, else {@code RNN4J_NUM_THREADS}, else the
 * number of available processors. Elementwise kernels run on the calling thread.
 */
public final class NativeBackend implements Backend {
    public static final String THREADS_PROPERTY = "rnn4j.threads";
    public static final String THREADS_ENV = "RNN4J_NUM_THREADS";

    private static final Object LOCK = new Object();
    private static volatile Boolean available;
    private static volatile String reason = "";
    /** Total thread budget of one recurrent layer call (split between concurrent directions). */
    private static volatile int rnnThreads = 1;

    public NativeBackend() {
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public boolean isAvailable() {
        Boolean a = available;
        if (a == null) {
            synchronized (LOCK) {
                if (available == null) {
                    available = load();
                }
                a = available;
            }
        }
        return a;
    }

    private static boolean load() {
        try {
            Loader.load(NativeKernels.class);
            Loader.load(RnnKernels.class);
            rnnThreads = threads();
            NativeKernels.set_num_threads(rnnThreads);
            return true;
        } catch (Throwable t) {
            // UnsatisfiedLinkError (no library for this platform, missing glibc symbol), or a
            // NoClassDefFoundError when javacpp/openblas are not on the class path
            reason = t.getClass().getName() + ": " + t.getMessage();
            return false;
        }
    }

    /** The OpenBLAS thread count chosen at load time. */
    static int threads() {
        String s = System.getProperty(THREADS_PROPERTY);
        if (s == null || s.isBlank()) {
            s = System.getenv(THREADS_ENV);
        }
        if (s != null && !s.isBlank()) {
            try {
                int n = Integer.parseInt(s.trim());
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // fall through to the default: a bad setting must not disable the backend
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** The number of threads OpenBLAS uses now. */
    public static int blasThreads() {
        return NativeKernels.get_num_threads();
    }

    @Override
    public String unavailableReason() {
        isAvailable();
        return reason;
    }

    /**
     * Storage the backend allocates and frees itself (posix_memalign/free): exact and immediate,
     * without the JVM's direct-memory accounting or sun.misc.Unsafe.
     */
    @Override
    public Storage allocate(long numel) {
        long bytes = Math.max(numel, 1) * 4L;
        long address = NativeKernels.host_alloc(bytes);
        if (address == 0) {
            throw new OutOfMemoryError("native backend: could not allocate " + bytes + " bytes of tensor storage");
        }
        return new HostStorage(numel, address, size -> new AddressPointer(address, size).asByteBuffer(),
                () -> NativeKernels.host_free(address));
    }

    /** A JavaCPP pointer at a raw address, only to wrap it in a direct ByteBuffer. */
    private static final class AddressPointer extends org.bytedeco.javacpp.BytePointer {
        AddressPointer(long address, long bytes) {
            super((org.bytedeco.javacpp.Pointer) null);
            this.address = address;
            this.limit = bytes;
            this.capacity = bytes;
        }
    }

    // ---- addresses -----------------------------------------------------------------------

    /** Address of element 0 of the storage, resolved once and cached in the storage. */
    static long base(Storage s) {
        if (!(s instanceof HostStorage h)) {
            throw new IllegalArgumentException("native backend: storage on " + s.device() + " is not host memory");
        }
        if (h.isFreed()) {
            throw new IllegalStateException("native backend: storage already freed");
        }
        long a = h.address();
        if (a == 0) {
            a = NativeKernels.address_of(h.buffer());
            h.cacheAddress(a);
        }
        return a;
    }

    /** Address of the tensor's first element (storage + offset). */
    private static long addr(Tensor t) {
        return base(t.storage()) + 4L * t.offset();
    }

    private static long addrOrZero(Tensor t) {
        return t == null ? 0L : addr(t);
    }

    /** Strides of the given views over one shape, operand-major: (nops * ndim). */
    private static int[] strides(Tensor... ts) {
        int nd = ts[0].dim();
        int[] s = new int[ts.length * nd];
        for (int k = 0; k < ts.length; k++) {
            System.arraycopy(ts[k].strides(), 0, s, k * nd, nd);
        }
        return s;
    }

    // ---- data movement -------------------------------------------------------------------

    @Override
    public void copy(Tensor out, Tensor src) {
        if (out.numel() == 0) {
            return;
        }
        boolean sameView = out.storage() == src.storage() && out.offset() == src.offset()
                && java.util.Arrays.equals(out.strides(), src.strides());
        int overlap = out.storage() == src.storage() && !sameView ? 1 : 0;
        if (NativeKernels.copy(out.dim(), out.shape(), strides(out, src), addr(out), addr(src), overlap) != 0) {
            throw new OutOfMemoryError("native copy: no memory for a " + out.numel() + "-float temporary");
        }
    }

    @Override
    public void fill(Tensor out, float value) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.fill(out.dim(), out.shape(), out.strides(), addr(out), value);
    }

    @Override
    public void read(Tensor src, float[] dst, int dstOffset) {
        long n = src.numel();
        if (n == 0) {
            return;
        }
        java.util.Objects.checkFromIndexSize(dstOffset, (int) n, dst.length);
        if (dstOffset == 0) {
            NativeKernels.read(src.dim(), src.shape(), src.strides(), addr(src), dst);
        } else {
            float[] tmp = new float[(int) n];
            NativeKernels.read(src.dim(), src.shape(), src.strides(), addr(src), tmp);
            System.arraycopy(tmp, 0, dst, dstOffset, (int) n);
        }
    }

    @Override
    public void write(Tensor out, float[] src, int srcOffset) {
        long n = out.numel();
        if (n == 0) {
            return;
        }
        java.util.Objects.checkFromIndexSize(srcOffset, (int) n, src.length);
        float[] dense = src;
        if (srcOffset != 0) {
            dense = java.util.Arrays.copyOfRange(src, srcOffset, srcOffset + (int) n);
        }
        NativeKernels.write(out.dim(), out.shape(), out.strides(), addr(out), dense);
    }

    // ---- elementwise ---------------------------------------------------------------------

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.unary(op.code(), out.dim(), out.shape(), strides(out, x), addr(out), addr(x));
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.binary(op.code(), out.dim(), out.shape(), strides(out, a, b), addr(out), addr(a), addr(b), 0f);
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor out, Tensor a, float scalar) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.binary(op.code(), out.dim(), out.shape(), strides(out, a), addr(out), addr(a), 0L, scalar);
    }

    @Override
    public void addScaled(Tensor out, Tensor a, Tensor b, float alpha) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.add_scaled(out.dim(), out.shape(), strides(out, a, b), addr(out), addr(a), addr(b), alpha);
    }

    @Override
    public void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.where(out.dim(), out.shape(), strides(out, cond, a, b), addr(out), addr(cond), addr(a), addr(b));
    }

    // ---- reductions ----------------------------------------------------------------------

    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        if ((long) outer * inner == 0) {
            return;
        }
        if (n == 0) {
            // PyTorch: the sum of nothing is 0; max/min/arg* of nothing are errors Tensor reports first
            fill(out, 0f);
            return;
        }
        NativeKernels.reduce(op.code(), addr(out), addr(x), outer, n, inner);
    }

    @Override
    public void softmax(Tensor out, Tensor x, int outer, int n, int inner, boolean log) {
        if ((long) outer * n * inner == 0) {
            return;
        }
        NativeKernels.softmax(addr(out), addr(x), outer, n, inner, log ? 1 : 0);
    }

    @Override
    public double sumAll(Tensor x) {
        return x.numel() == 0 ? 0.0 : NativeKernels.sum_all(addr(x), x.numel());
    }

    @Override
    public double sumSquares(Tensor... xs) {
        long[] a = new long[xs.length];
        long[] n = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            n[i] = xs[i].numel();
            a[i] = n[i] == 0 ? 0 : addr(xs[i]);
        }
        return NativeKernels.sum_squares_multi(a, n, xs.length);
    }

    @Override
    public void scale(Tensor[] xs, float factor) {
        long[] a = new long[xs.length];
        long[] n = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            n[i] = xs[i].numel();
            a[i] = n[i] == 0 ? 0 : addr(xs[i]);
        }
        NativeKernels.scale_multi(a, n, xs.length, factor);
    }

    // ---- linear algebra ------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Storage a, long offA, int lda, long strideA,
                     Storage b, long offB, int ldb, long strideB,
                     float beta, Storage c, long offC, int ldc, long strideC, int batch) {
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        NativeKernels.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
                base(a) + 4L * offA, lda, strideA, base(b) + 4L * offB, ldb, strideB,
                beta, base(c) + 4L * offC, ldc, strideC, batch);
    }

    // ---- indexing ------------------------------------------------------------------------

    @Override
    public void indexSelect(Tensor out, Tensor x, int outer, int n, int inner, int[] idx) {
        if ((long) outer * idx.length * inner == 0) {
            return;
        }
        NativeKernels.index_select(addr(out), addr(x), outer, n, inner, idx, idx.length);
    }

    @Override
    public void indexAdd(Tensor out, Tensor g, int outer, int n, int inner, int[] idx) {
        if ((long) outer * idx.length * inner == 0) {
            return;
        }
        NativeKernels.index_add(addr(out), addr(g), outer, n, inner, idx, idx.length);
    }

    @Override
    public void gather(Tensor out, Tensor x, int outer, int n, int inner, int m, int[] idx) {
        if ((long) outer * m * inner == 0) {
            return;
        }
        NativeKernels.gather(addr(out), addr(x), outer, n, inner, m, idx);
    }

    @Override
    public void scatterAdd(Tensor out, Tensor g, int outer, int n, int inner, int m, int[] idx) {
        if ((long) outer * m * inner == 0) {
            return;
        }
        NativeKernels.scatter_add(addr(out), addr(g), outer, n, inner, m, idx);
    }

    // ---- recurrent layers ----------------------------------------------------------------

    @Override
    public void rnnForward(RnnLayerArgs... directions) {
        rnnLayer(directions, false);
    }

    @Override
    public void rnnBackward(RnnLayerArgs... directions) {
        rnnLayer(directions, true);
    }

    /**
     * One JNI crossing for the whole layer: two directions sharing their batch sizes (a
     * bidirectional layer) go in one call and run concurrently in C++; anything else is split.
     */
    private static void rnnLayer(RnnLayerArgs[] dirs, boolean backward) {
        int n = dirs.length;
        if (n == 0) {
            return;
        }
        if (n > 2 || (n == 2 && !java.util.Arrays.equals(dirs[0].batchSizes, dirs[1].batchSizes))) {
            for (RnnLayerArgs a : dirs) {
                rnnLayer(new RnnLayerArgs[] {a}, backward);
            }
            return;
        }
        long[] ptrs = new long[n * RnnKernels.SLOTS]; // (n, SLOTS) addresses, 0 = null
        long[] lds = new long[n * RnnKernels.SLOTS]; // (n, SLOTS) row strides in floats
        int[] dims = new int[n * RnnKernels.DIMS]; // (n, DIMS)
        for (int k = 0; k < n; k++) {
            RnnLayerArgs a = dirs[k];
            int o = k * RnnKernels.SLOTS;
            put(ptrs, lds, o + RnnKernels.X, a.x);
            put(ptrs, lds, o + RnnKernels.H0, a.h0);
            put(ptrs, lds, o + RnnKernels.C0, a.c0);
            put(ptrs, lds, o + RnnKernels.W_IH, a.wIh);
            put(ptrs, lds, o + RnnKernels.W_HH, a.wHh);
            put(ptrs, lds, o + RnnKernels.B_IH, a.bIh);
            put(ptrs, lds, o + RnnKernels.B_HH, a.bHh);
            put(ptrs, lds, o + RnnKernels.W_HR, a.projSize > 0 ? a.wHr : null);
            put(ptrs, lds, o + RnnKernels.Y, a.y);
            put(ptrs, lds, o + RnnKernels.H_N, a.hN);
            put(ptrs, lds, o + RnnKernels.C_N, a.cN);
            put(ptrs, lds, o + RnnKernels.WS, a.workspace);
            if (backward) {
                put(ptrs, lds, o + RnnKernels.DY, a.dy);
                put(ptrs, lds, o + RnnKernels.DH_N, a.dhN);
                put(ptrs, lds, o + RnnKernels.DC_N, a.dcN);
                put(ptrs, lds, o + RnnKernels.DX, a.dx);
                put(ptrs, lds, o + RnnKernels.DH0, a.dh0);
                put(ptrs, lds, o + RnnKernels.DC0, a.dc0);
                put(ptrs, lds, o + RnnKernels.DW_IH, a.dWIh);
                put(ptrs, lds, o + RnnKernels.DW_HH, a.dWHh);
                put(ptrs, lds, o + RnnKernels.DB_IH, a.bIh != null ? a.dBIh : null);
                put(ptrs, lds, o + RnnKernels.DB_HH, a.bHh != null ? a.dBHh : null);
                put(ptrs, lds, o + RnnKernels.DW_HR, a.projSize > 0 ? a.dWHr : null);
            }
            int d = k * RnnKernels.DIMS;
            dims[d] = a.kind.code();
            dims[d + 1] = a.reverse ? 1 : 0;
            dims[d + 2] = a.inputSize;
            dims[d + 3] = a.hiddenSize;
            dims[d + 4] = a.projSize;
        }
        int[] bs = dirs[0].batchSizes;
        int rc = backward
                ? RnnKernels.rnn_layer_backward(n, ptrs, lds, dims, bs, bs.length, rnnThreads)
                : RnnKernels.rnn_layer_forward(n, ptrs, lds, dims, bs, bs.length, rnnThreads);
        if (rc == RnnKernels.OUT_OF_MEMORY) {
            throw new OutOfMemoryError("native rnn layer: could not allocate its scratch memory");
        }
    }

    /** Address and row stride (in floats; 0 for 1-D) of a tensor view, into slot i. */
    private static void put(long[] ptrs, long[] lds, int i, Tensor t) {
        if (t == null) {
            return;
        }
        ptrs[i] = addr(t);
        lds[i] = t.dim() >= 2 ? t.stride(t.dim() - 2) : 0;
    }

    // ---- losses and optimizers -----------------------------------------------------------

    @Override
    public void crossEntropy(Tensor lossPerRow, Tensor dlogits, Tensor logits, int[] target, int ignoreIndex,
                             float gradScale) {
        int rows = logits.size(0);
        int classes = logits.size(1);
        if (rows == 0) {
            return;
        }
        if (classes == 0) {
            throw new IllegalArgumentException("crossEntropy: logits " + java.util.Arrays.toString(logits.shape())
                    + " have no classes");
        }
        NativeKernels.cross_entropy(addr(lossPerRow), addrOrZero(dlogits), addr(logits), target, rows, classes,
                ignoreIndex, gradScale);
    }

    @Override
    public void optimizerStep(OptimizerStep s, Tensor[] params, Tensor[] grads, Tensor[] state1, Tensor[] state2) {
        boolean needs1 = s.kind() != OptimizerStep.Kind.SGD || s.momentum() != 0f;
        boolean needs2 = s.kind() != OptimizerStep.Kind.SGD;
        if ((needs1 && state1 == null) || (needs2 && state2 == null)) {
            throw new IllegalArgumentException("optimizerStep: " + s.kind() + " needs its state tensors");
        }
        int count = params.length;
        long[] p = new long[count];
        long[] g = new long[count];
        long[] m = new long[count];
        long[] v = new long[count];
        long[] n = new long[count];
        for (int i = 0; i < count; i++) {
            n[i] = params[i].numel();
            if (n[i] == 0) {
                continue;
            }
            p[i] = addr(params[i]);
            g[i] = addr(grads[i]);
            m[i] = needs1 ? addr(state1[i]) : 0;
            v[i] = needs2 ? addr(state2[i]) : 0;
        }
        NativeKernels.optimizer_step_multi(s.kind().ordinal(), p, g, m, v, n, count, s.lr(), s.momentum(), s.dampening(),
                s.nesterov() ? 1 : 0, s.weightDecay(), s.beta1(), s.beta2(), s.eps(), s.step(), s.first() ? 1 : 0);
    }
}
