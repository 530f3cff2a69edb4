package org.rnn4j.nativecpu;

import org.bytedeco.javacpp.Loader;
import org.rnn4j.Device;
import org.rnn4j.Memory;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.HostStorage;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.UnaryOp;
import org.rnn4j.backend.View;
import org.rnn4j.backend.Abi;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnDim;

/**
 * The CPU backend in native code: C++ kernels, each built for AVX-512, AVX2 + FMA and the x86-64
 * baseline and dispatched at run time ({@link #isa()}), and OpenBLAS GEMMs, bound through
 * {@link NativeKernels}. Memory is the same
 * {@link HostStorage} the reference backend uses, so tensors move freely between the two.
 *
 * <p>This class is the only place that turns tensors into addresses. View validates shapes,
 * devices and index ranges before calling a backend; what is checked again here is what would
 * otherwise crash the JVM: that every storage is host memory and not yet freed.
 *
 * <p>Threads: OpenBLAS gets {@code -Drnn4j.threads=N}, else {@code RNN4J_NUM_THREADS}, else the
 * number of available processors. Elementwise kernels run on the calling thread.
 *
 * <p>ISA path: the best the CPU supports ({@link #detectedIsa()}); {@code -Drnn4j.isa=avx2|baseline}
 * (else {@code RNN4J_ISA}) lowers it for the whole process, and asking for a path the CPU lacks
 * gives the best it has. {@link #isa()} is the path in force; {@link #describe()} says it all in
 * one line (the examples print it first).
 */
public final class NativeBackend implements Backend {
    public static final String THREADS_PROPERTY = "rnn4j.threads";
    public static final String THREADS_ENV = "RNN4J_NUM_THREADS";
    public static final String ISA_PROPERTY = "rnn4j.isa";
    public static final String ISA_ENV = "RNN4J_ISA";

    private static final Object LOCK = new Object();
    private static volatile Boolean available;
    private static volatile String reason = "";
    /** The largest storage HostStorage accepts, in floats. */
    private static final long MAX_STORAGE_FLOATS = (Integer.MAX_VALUE - 128) / 4;
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
            Loader.load(StreamKernels.class);
            Abi.check("libjnirnn4j", NativeKernels.abi());
            rnnThreads = threads();
            NativeKernels.set_num_threads(rnnThreads);
            blasPoolSpin = NativeKernels.set_blas_pool_spin(BLAS_POOL_SPIN_LOG2);
            hostCacheLimit = NativeKernels.host_cache_set_default(defaultHostCacheBytes(Memory.budgetBytes()));
            Isa wanted = requestedIsa();
            if (wanted != null) {
                NativeKernels.isa_set(wanted.code());
            }
            return true;
        } catch (IllegalStateException e) {
            // a library built from other sources than these classes: never run its kernels
            reason = e.getMessage();
            return false;
        } catch (Throwable t) {
            // UnsatisfiedLinkError (no library for this platform, missing glibc symbol), or a
            // NoClassDefFoundError when javacpp/openblas are not on the class path
            reason = t.getClass().getName() + ": " + t.getMessage();
            return false;
        }
    }

    /**
     * OpenBLAS's pool threads spin 2^this time-stamp ticks (a few microseconds) for more work
     * after a threaded call, then sleep; OpenBLAS's own default, 2^28 (about 0.1 s), kept a core
     * busy beside rnn4j's step worker after every OpenBLAS call (blas_count.h has the numbers).
     * {@code OPENBLAS_THREAD_TIMEOUT} in the environment takes precedence.
     */
    static final int BLAS_POOL_SPIN_LOG2 = 14;

    private static volatile int blasPoolSpin;

    /**
     * The log2 of the time-stamp ticks OpenBLAS's pool threads spin after a threaded call before
     * they sleep ({@value #BLAS_POOL_SPIN_LOG2} unless {@code OPENBLAS_THREAD_TIMEOUT} says
     * otherwise); 0 when the linked OpenBLAS cannot be told.
     */
    public static int blasPoolSpin() {
        requireLoaded();
        return blasPoolSpin;
    }

    private static volatile long hostCacheLimit;

    /**
     * The default byte limit of the native cache of freed big blocks: a sixteenth of the off-heap
     * budget, at least 256 MiB and at most 1 GiB. A training step of config C (two bidirectional
     * LSTM layers, H = 512) frees more than 256 MiB of blocks at once; with 256 MiB every other
     * step mapped and faulted them again (1.77-2.44 s a step, 1.65 s with 1 GiB).
     */
    static long defaultHostCacheBytes(long budget) {
        return Math.max(256L << 20, Math.min(1L << 30, budget / 16));
    }

    /**
     * The byte limit of the native cache of freed big blocks (1 MiB and more), which the next
     * allocations of a similar size reuse instead of mapping fresh pages: {@code RNN4J_HOST_CACHE_MB}
     * (MiB, 0 = no cache) when the environment sets it, else a sixteenth of
     * {@link Memory#budgetBytes()} between 256 MiB and 1 GiB.
     */
    public static long hostCacheBytes() {
        requireLoaded();
        return hostCacheLimit;
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

    /**
     * The path asked for by {@code rnn4j.isa} / {@code RNN4J_ISA}, or null. A value that names no
     * path is reported on stderr and ignored (isAvailable must not throw).
     */
    static Isa requestedIsa() {
        String what = ISA_PROPERTY;
        String s = System.getProperty(ISA_PROPERTY);
        if (s == null || s.isBlank()) {
            what = ISA_ENV;
            s = System.getenv(ISA_ENV);
        }
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return Isa.parse(what, s);
        } catch (IllegalArgumentException e) {
            System.err.println("rnn4j: " + e.getMessage() + "; using the best path of this CPU");
            return null;
        }
    }

    private static void requireLoaded() {
        if (!new NativeBackend().isAvailable()) {
            throw new IllegalStateException("native backend not available: " + reason);
        }
    }

    /**
     * The ISA path every native kernel takes now.
     *
     * @throws IllegalStateException when the native library cannot be loaded here
     */
    public static Isa isa() {
        requireLoaded();
        return Isa.fromCode(NativeKernels.isa_active());
    }

    /** The best ISA path this CPU and its OS support (what {@link #isa()} is unless lowered). */
    public static Isa detectedIsa() {
        requireLoaded();
        return Isa.fromCode(NativeKernels.isa_detect());
    }

    /**
     * Switches every native kernel to {@code isa} (clamped to {@link #detectedIsa()}) for the whole
     * process, as {@code -Drnn4j.isa} does at start-up; returns the path now in force. A layer
     * call already running finishes on the path it started with. Meant for tests and benchmarks
     * that compare paths in one JVM.
     */
    public static Isa setIsa(Isa isa) {
        if (isa == null) {
            throw new IllegalArgumentException("argument 'isa': expected one of " + java.util.Arrays.toString(Isa.values())
                    + ", got null");
        }
        requireLoaded();
        return Isa.fromCode(NativeKernels.isa_set(isa.code()));
    }

    /** OpenBLAS's kernel family for the GEMMs it runs (e.g. {@code Haswell}, {@code SkylakeX}, {@code Zen}). */
    public static String blasCore() {
        requireLoaded();
        String s = NativeKernels.blas_core();
        return s == null ? "unknown" : s.trim();
    }

    /** One line: kernels' path, the CPU's best, OpenBLAS's kernels, the thread budget. */
    public static String describe() {
        Isa active = isa();
        Isa best = detectedIsa();
        return "native kernels " + active + (active == best ? "" : " (forced; CPU supports " + best + ")")
                + ", OpenBLAS " + blasCore() + ", " + rnnThreads + " thread" + (rnnThreads == 1 ? "" : "s");
    }

    @Override
    public String description() {
        return isAvailable() ? describe() : name() + " (unavailable: " + reason + ")";
    }

    /** The number of threads the calling thread's next OpenBLAS GEMM runs with (the configured budget outside a layer call). */
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
        if (numel < 0 || numel > MAX_STORAGE_FLOATS) {
            // checked before host_alloc: HostStorage refuses these sizes too, but only after the
            // memory was taken, and nothing would free it
            throw new IllegalArgumentException("native backend: argument 'numel' must be in [0, " + MAX_STORAGE_FLOATS
                    + "], got " + numel);
        }
        long bytes = Math.max(numel, 1) * 4L;
        // the budget counts numel * 4 (what HostStorage returns on free); a zero-element tensor
        // still takes 4 bytes of allocator memory, not counted
        Memory.reserve(numel * 4L, "tensor of " + numel + " floats");
        long address = NativeKernels.host_alloc(bytes);
        if (address == 0) {
            Memory.freed(numel * 4L);
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

    /** Address of element 0 of the storage. */
    static long base(Storage s) {
        if (!(s instanceof HostStorage h)) {
            throw new IllegalArgumentException("native backend: storage on " + s.device() + " is not host memory");
        }
        if (h.isFreed()) {
            throw new IllegalStateException("native backend: storage already freed");
        }
        long a = h.address();
        return a != 0 ? a : NativeKernels.address_of(h.buffer());  // a JVM direct buffer (reference-made storage)
    }

    /** Address of the view's first element (storage + offset); the view checked its bounds when it was made. */
    private static long addr(View t) {
        return base(t.storage()) + 4L * t.offset();
    }

    // ---- argument checks: each method's contract between its views (shapes that must agree,
    // contiguity, index ranges), before any native call; bounds were checked by the views ----




    private static void nonNegative(String op, String what, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(op + ": argument '" + what + "' must be >= 0, got " + v);
        }
    }

    private static void indices(String op, int[] idx, long count, int n) {
        if (idx.length != count) {
            throw new IllegalArgumentException(op + ": argument 'idx' expected " + count + " entries, got " + idx.length);
        }
        for (int j = 0; j < idx.length; j++) {
            if (idx[j] < 0 || idx[j] >= n) {
                throw new IndexOutOfBoundsException(op + ": argument 'idx' has idx[" + j + "] = " + idx[j]
                        + ", expected 0.." + (n - 1));
            }
        }
    }

    private static long addrOrZero(View t) {
        return t == null ? 0L : addr(t);
    }

    /** Strides of the given views over one shape, operand-major: (nops * ndim). */
    private static int[] strides(View... ts) {
        int nd = ts[0].dim();
        int[] s = new int[ts.length * nd];
        for (int k = 0; k < ts.length; k++) {
            System.arraycopy(ts[k].strides(), 0, s, k * nd, nd);
        }
        return s;
    }

    // ---- data movement -------------------------------------------------------------------

    @Override
    public void copy(View out, View src) {
        if (out.numel() == 0) {
            return;
        }
        src.requireShapeOf("copy", "src", out);
        boolean sameView = out.storage() == src.storage() && out.offset() == src.offset()
                && java.util.Arrays.equals(out.strides(), src.strides());
        int overlap = out.storage() == src.storage() && !sameView ? 1 : 0;
        if (NativeKernels.copy(out.dim(), out.shape(), strides(out, src), addr(out), addr(src), overlap) != 0) {
            throw new OutOfMemoryError("native copy: no memory for a " + out.numel() + "-float temporary");
        }
    }

    @Override
    public void fill(View out, float value) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.fill(out.dim(), out.shape(), out.strides(), addr(out), value);
    }

    @Override
    public void read(View src, float[] dst, int dstOffset) {
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
    public void write(View out, float[] src, int srcOffset) {
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
    public void unary(UnaryOp op, View out, View x) {
        if (out.numel() == 0) {
            return;
        }
        x.requireShapeOf("unary", "x", out);
        NativeKernels.unary(op.code(), out.dim(), out.shape(), strides(out, x), addr(out), addr(x));
    }

    @Override
    public void binary(BinaryOp op, View out, View a, View b) {
        if (out.numel() == 0) {
            return;
        }
        a.requireShapeOf("binary", "a", out);
        b.requireShapeOf("binary", "b", out);
        NativeKernels.binary(op.code(), out.dim(), out.shape(), strides(out, a, b), addr(out), addr(a), addr(b), 0f);
    }

    @Override
    public void binaryScalar(BinaryOp op, View out, View a, float scalar) {
        if (out.numel() == 0) {
            return;
        }
        a.requireShapeOf("binaryScalar", "a", out);
        NativeKernels.binary(op.code(), out.dim(), out.shape(), strides(out, a), addr(out), addr(a), 0L, scalar);
    }

    @Override
    public void addScaled(View out, View a, View b, float alpha) {
        if (out.numel() == 0) {
            return;
        }
        a.requireShapeOf("addScaled", "a", out);
        b.requireShapeOf("addScaled", "b", out);
        NativeKernels.add_scaled(out.dim(), out.shape(), strides(out, a, b), addr(out), addr(a), addr(b), alpha);
    }

    @Override
    public void where(View out, View cond, View a, View b) {
        if (out.numel() == 0) {
            return;
        }
        cond.requireShapeOf("where", "cond", out);
        a.requireShapeOf("where", "a", out);
        b.requireShapeOf("where", "b", out);
        NativeKernels.where(out.dim(), out.shape(), strides(out, cond, a, b), addr(out), addr(cond), addr(a), addr(b));
    }

    // ---- reductions ----------------------------------------------------------------------

    @Override
    public void reduce(ReduceOp op, View out, View x, int outer, int n, int inner) {
        nonNegative("reduce", "outer", outer);
        nonNegative("reduce", "n", n);
        nonNegative("reduce", "inner", inner);
        x.requireDense("reduce", "x", (long) outer * n * inner);
        out.requireDense("reduce", "out", (long) outer * inner);
        if ((long) outer * inner == 0) {
            return;
        }
        if (n == 0) {
            // PyTorch: the sum of nothing is 0; max/min/arg* of nothing are errors View reports first
            fill(out, 0f);
            return;
        }
        if (NativeKernels.reduce(op.code(), addr(out), addr(x), outer, n, inner) != 0) {
            throw new OutOfMemoryError("native reduce: no memory for its (" + inner + ") accumulators");
        }
    }

    @Override
    public void softmax(View out, View x, int outer, int n, int inner, boolean log) {
        nonNegative("softmax", "outer", outer);
        nonNegative("softmax", "n", n);
        nonNegative("softmax", "inner", inner);
        x.requireDense("softmax", "x", (long) outer * n * inner);
        out.requireDense("softmax", "out", (long) outer * n * inner);
        if ((long) outer * n * inner == 0) {
            return;
        }
        if (NativeKernels.softmax(addr(out), addr(x), outer, n, inner, log ? 1 : 0) != 0) {
            throw new OutOfMemoryError("native softmax: no memory for its (" + inner + ") accumulators");
        }
    }

    @Override
    public double sumAll(View x) {
        x.requireContiguous("sumAll", "x");
        double sum = x.numel() == 0 ? 0.0 : NativeKernels.sum_all(addr(x), x.numel());
        return sum;
    }

    @Override
    public double sumSquares(View... xs) {
        long[] a = new long[xs.length];
        long[] n = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            n[i] = xs[i].numel();
            if (n[i] != 0) {
                xs[i].requireContiguous("sumSquares/scale", "xs[" + i + "]");
            }
            a[i] = n[i] == 0 ? 0 : addr(xs[i]);
        }
        double sum = NativeKernels.sum_squares_multi(a, n, xs.length);
        return sum;
    }

    @Override
    public void scale(View[] xs, float factor) {
        long[] a = new long[xs.length];
        long[] n = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            n[i] = xs[i].numel();
            if (n[i] != 0) {
                xs[i].requireContiguous("sumSquares/scale", "xs[" + i + "]");
            }
            a[i] = n[i] == 0 ? 0 : addr(xs[i]);
        }
        NativeKernels.scale_multi(a, n, xs.length, factor);
    }

    // ---- linear algebra ------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     View a, int lda, long strideA,
                     View b, int ldb, long strideB,
                     float beta, View c, int ldc, long strideC, int batch) {
        View.requireGemm(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        NativeKernels.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, addr(a), lda, strideA, addr(b), ldb, strideB,
                beta, addr(c), ldc, strideC, batch);
    }

    // ---- indexing ------------------------------------------------------------------------

    @Override
    public void indexSelect(View out, View x, int outer, int n, int inner, int[] idx) {
        nonNegative("indexSelect", "outer", outer);
        nonNegative("indexSelect", "inner", inner);
        indices("indexSelect", idx, idx.length, n);
        x.requireDense("indexSelect", "x", (long) outer * n * inner);
        out.requireDense("indexSelect", "out", (long) outer * idx.length * inner);
        if ((long) outer * idx.length * inner == 0) {
            return;
        }
        NativeKernels.index_select(addr(out), addr(x), outer, n, inner, idx, idx.length);
    }

    @Override
    public void indexAdd(View out, View g, int outer, int n, int inner, int[] idx) {
        nonNegative("indexAdd", "outer", outer);
        nonNegative("indexAdd", "inner", inner);
        indices("indexAdd", idx, idx.length, n);
        out.requireDense("indexAdd", "out", (long) outer * n * inner);
        g.requireDense("indexAdd", "g", (long) outer * idx.length * inner);
        if ((long) outer * idx.length * inner == 0) {
            return;
        }
        NativeKernels.index_add(addr(out), addr(g), outer, n, inner, idx, idx.length);
    }

    @Override
    public void gather(View out, View x, int outer, int n, int inner, int m, int[] idx) {
        nonNegative("gather", "outer", outer);
        nonNegative("gather", "inner", inner);
        nonNegative("gather", "m", m);
        indices("gather", idx, (long) outer * m * inner, n);
        x.requireDense("gather", "x", (long) outer * n * inner);
        out.requireDense("gather", "out", (long) outer * m * inner);
        if ((long) outer * m * inner == 0) {
            return;
        }
        NativeKernels.gather(addr(out), addr(x), outer, n, inner, m, idx);
    }

    @Override
    public void scatterAdd(View out, View g, int outer, int n, int inner, int m, int[] idx) {
        nonNegative("scatterAdd", "outer", outer);
        nonNegative("scatterAdd", "inner", inner);
        nonNegative("scatterAdd", "m", m);
        indices("scatterAdd", idx, (long) outer * m * inner, n);
        out.requireDense("scatterAdd", "out", (long) outer * n * inner);
        g.requireDense("scatterAdd", "g", (long) outer * m * inner);
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

    @Override
    public org.rnn4j.backend.RnnStreamSpec.Kernel rnnStreamKernel(org.rnn4j.backend.RnnStreamSpec spec) {
        requireLoaded();
        return new NativeStreamKernel(spec);
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
        String op = backward ? "rnnBackward" : "rnnForward";
        for (int k = 0; k < n; k++) {
            dirs[k].validate(op + " direction " + k, backward);
        }
        if (n > 2 || (n == 2 && !java.util.Arrays.equals(dirs[0].batchSizes, dirs[1].batchSizes))) {
            for (RnnLayerArgs a : dirs) {
                rnnLayer(new RnnLayerArgs[] {a}, backward);
            }
            return;
        }
        final int slots = RnnBuffer.COUNT;
        final int ndims = RnnDim.COUNT;
        long[] ptrs = new long[n * slots]; // (n, slots) addresses, 0 = null
        long[] lds = new long[n * slots]; // (n, slots) row strides in floats
        int[] dims = new int[n * ndims]; // (n, dims)
        for (int k = 0; k < n; k++) {
            RnnLayerArgs a = dirs[k];
            for (RnnBuffer b : RnnBuffer.values()) {
                View v = a.used(b, backward);
                if (v != null) {
                    int i = k * slots + b.code();
                    ptrs[i] = addr(v);
                    lds[i] = rowStride(v);
                }
            }
            for (RnnDim d : RnnDim.values()) {
                dims[k * ndims + d.code()] = d.of(a);
            }
        }
        int[] bs = dirs[0].batchSizes;
        int rc;
        try (Cancellation.Ticket ticket = Cancellation.enter()) {
            rc = backward
                    ? RnnKernels.rnn_layer_backward(n, ptrs, lds, dims, bs, bs.length, rnnThreads, ticket.flagAddress())
                    : RnnKernels.rnn_layer_forward(n, ptrs, lds, dims, bs, bs.length, rnnThreads, ticket.flagAddress());
        }
        if (rc == RnnKernels.OUT_OF_MEMORY) {
            throw new OutOfMemoryError("native rnn layer: could not allocate its scratch memory");
        }
        if (rc == RnnKernels.INTERRUPTED) {
            throw Cancellation.interrupted(op);
        }
    }

    /** Row stride in floats of a layer buffer (0 for 1-D). */
    private static long rowStride(View t) {
        long ld = t.dim() >= 2 ? t.stride(t.dim() - 2) : 0;
        if (t.dim() == 2 && t.size(0) <= 1 && ld < Math.max(t.size(1), 1)) {
            // one row (e.g. a batch-1 state expanded with stride 0): only row 0 is read, but
            // OpenBLAS refuses a leading dimension below the row length
            ld = Math.max(t.size(1), 1);
        }
        return ld;
    }

    // ---- losses and optimizers -----------------------------------------------------------

    @Override
    public void crossEntropy(View lossPerRow, View dlogits, View logits, int[] target, int ignoreIndex,
                             float gradScale) {
        if (logits.dim() != 2) {
            throw new IllegalArgumentException("crossEntropy: argument 'logits' must be 2-D (rows, classes), got shape "
                    + java.util.Arrays.toString(logits.shape()));
        }
        int rows = logits.size(0);
        int classes = logits.size(1);
        logits.requireContiguous("crossEntropy", "logits");
        lossPerRow.requireDense("crossEntropy", "lossPerRow", rows);
        if (dlogits != null) {
            dlogits.requireContiguous("crossEntropy", "dlogits");
            dlogits.requireShapeOf("crossEntropy", "dlogits", logits);
        }
        if (target.length != rows) {
            throw new IllegalArgumentException("crossEntropy: argument 'target' expected " + rows + " entries, got "
                    + target.length);
        }
        for (int r = 0; r < rows; r++) {
            if (target[r] != ignoreIndex && (target[r] < 0 || target[r] >= classes)) {
                throw new IndexOutOfBoundsException("crossEntropy: argument 'target' has target[" + r + "] = " + target[r]
                        + ", expected 0.." + (classes - 1) + " or ignoreIndex " + ignoreIndex);
            }
        }
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
    public void optimizerStep(OptimizerStep s, View[] params, View[] grads, View[] state1, View[] state2) {
        boolean needs1 = s.kind() != OptimizerStep.Kind.SGD || s.momentum() != 0f;
        boolean needs2 = s.kind() != OptimizerStep.Kind.SGD;
        if ((needs1 && state1 == null) || (needs2 && state2 == null)) {
            throw new IllegalArgumentException("optimizerStep: " + s.kind() + " needs its state tensors");
        }
        int count = params.length;
        if (grads.length != count || (needs1 && state1.length != count) || (needs2 && state2.length != count)) {
            throw new IllegalArgumentException("optimizerStep: arrays 'grads', 'state1', 'state2' expected " + count
                    + " entries (one per param), got " + grads.length + ", " + (state1 == null ? "null" : state1.length)
                    + ", " + (state2 == null ? "null" : state2.length));
        }
        for (int i = 0; i < count; i++) {
            long numel = params[i].numel();
            params[i].requireContiguous("optimizerStep", "params[" + i + "]");
            grads[i].requireDense("optimizerStep", "grads[" + i + "]", numel);
            if (needs1) {
                state1[i].requireDense("optimizerStep", "state1[" + i + "]", numel);
            }
            if (needs2) {
                state2[i].requireDense("optimizerStep", "state2[" + i + "]", numel);
            }
        }
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
        NativeKernels.optimizer_step_multi(s.kind().code(), p, g, m, v, n, count, s.lr(), s.momentum(), s.dampening(),
                s.nesterov() ? 1 : 0, s.weightDecay(), s.beta1(), s.beta2(), s.eps(), s.step(), s.first() ? 1 : 0);
    }
}
