package org.rnn4j.nativecpu;

import org.bytedeco.javacpp.Loader;
import org.rnn4j.Device;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.HostStorage;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.UnaryOp;

/**
 * The CPU backend in native code: C++ kernels, each built for AVX-512, AVX2 + FMA and the x86-64
 * baseline and dispatched at run time ({@link #isa()}), and OpenBLAS GEMMs, bound through
 * {@link NativeKernels}. Memory is the same
 * {@link HostStorage} the reference backend uses, so tensors move freely between the two.
 *
 * <p>This class is the only place that turns tensors into addresses. Tensor validates shapes,
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
            rnnThreads = threads();
            NativeKernels.set_num_threads(rnnThreads);
            Isa wanted = requestedIsa();
            if (wanted != null) {
                NativeKernels.isa_set(wanted.code());
            }
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
        if (numel < 0 || numel > MAX_STORAGE_FLOATS) {
            // checked before host_alloc: HostStorage refuses these sizes too, but only after the
            // memory was taken, and nothing would free it
            throw new IllegalArgumentException("native backend: argument 'numel' must be in [0, " + MAX_STORAGE_FLOATS
                    + "], got " + numel);
        }
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

    /**
     * Address of the tensor's first element (storage + offset), after checking that every
     * element the view reaches lies inside its storage (a view made by a Tensor subclass, or a
     * storage shorter than the shape, would otherwise be read or written past its end).
     */
    private static long addr(Tensor t) {
        Storage s = t.storage();
        long lo = t.offset();
        long hi = lo;
        boolean empty = false;
        int[] shape = t.shape();
        int[] strides = t.strides();
        for (int d = 0; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException("native backend: tensor has negative size in shape "
                        + java.util.Arrays.toString(shape));
            }
            empty |= shape[d] == 0;
            long reach = (long) (shape[d] - 1) * strides[d];
            if (shape[d] > 0) {
                lo += Math.min(reach, 0);
                hi += Math.max(reach, 0);
            }
        }
        if (t.offset() < 0 || (!empty && (lo < 0 || hi >= s.numel()))) {
            throw new IllegalArgumentException("native backend: view of shape " + java.util.Arrays.toString(shape)
                    + ", strides " + java.util.Arrays.toString(strides) + ", offset " + t.offset()
                    + " reaches elements [" + lo + ", " + hi + "] outside its storage of " + s.numel() + " floats");
        }
        return base(s) + 4L * t.offset();
    }

    // ---- argument checks: the contract Tensor keeps, checked again for direct callers ----------

    private static void sameShape(String op, String arg, Tensor out, Tensor t) {
        if (!java.util.Arrays.equals(out.shape(), t.shape())) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected shape "
                    + java.util.Arrays.toString(out.shape()) + " (out's), got " + java.util.Arrays.toString(t.shape()));
        }
    }

    private static void contiguous(String op, String arg, Tensor t) {
        if (t.numel() != 0 && !t.isContiguous()) {  // an empty view reads nothing, whatever its strides
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be contiguous, got shape "
                    + java.util.Arrays.toString(t.shape()) + " with strides " + java.util.Arrays.toString(t.strides()));
        }
    }

    /** t is contiguous with exactly {@code numel} elements. */
    private static void dense(String op, String arg, Tensor t, long numel) {
        contiguous(op, arg, t);
        if (t.numel() != numel) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected " + numel + " elements, got shape "
                    + java.util.Arrays.toString(t.shape()) + " (" + t.numel() + ")");
        }
    }

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

    /** Matrices b in [0, batch) of rows x cols, leading dim ld, at off + b * stride lie inside s. */
    private static void matrix(String op, String arg, Storage s, long off, int ld, long stride, int rows, int cols,
                               int batch) {
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": argument 'ld" + arg + "' must be >= max(1, " + cols + "), got " + ld);
        }
        if (off < 0 || stride < 0) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' has negative offset " + off + " or stride "
                    + stride);
        }
        if ((long) rows * cols == 0 || batch == 0) {
            return;
        }
        long last = off + (batch - 1) * stride + (long) (rows - 1) * ld + cols - 1;
        if (last >= s.numel()) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' (" + batch + " x " + rows + " x " + cols
                    + ", ld " + ld + ", stride " + stride + ", offset " + off + ") reaches element " + last
                    + " of a storage of " + s.numel() + " floats");
        }
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
        sameShape("copy", "src", out, src);
        boolean sameView = out.storage() == src.storage() && out.offset() == src.offset()
                && java.util.Arrays.equals(out.strides(), src.strides());
        int overlap = out.storage() == src.storage() && !sameView ? 1 : 0;
        if (NativeKernels.copy(out.dim(), out.shape(), strides(out, src), addr(out), addr(src), overlap) != 0) {
            throw new OutOfMemoryError("native copy: no memory for a " + out.numel() + "-float temporary");
        }
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(src);
    }

    @Override
    public void fill(Tensor out, float value) {
        if (out.numel() == 0) {
            return;
        }
        NativeKernels.fill(out.dim(), out.shape(), out.strides(), addr(out), value);
        java.lang.ref.Reference.reachabilityFence(out);
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
        java.lang.ref.Reference.reachabilityFence(src);
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
        java.lang.ref.Reference.reachabilityFence(out);
    }

    // ---- elementwise ---------------------------------------------------------------------

    @Override
    public void unary(UnaryOp op, Tensor out, Tensor x) {
        if (out.numel() == 0) {
            return;
        }
        sameShape("unary", "x", out, x);
        NativeKernels.unary(op.code(), out.dim(), out.shape(), strides(out, x), addr(out), addr(x));
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(x);
    }

    @Override
    public void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        if (out.numel() == 0) {
            return;
        }
        sameShape("binary", "a", out, a);
        sameShape("binary", "b", out, b);
        NativeKernels.binary(op.code(), out.dim(), out.shape(), strides(out, a, b), addr(out), addr(a), addr(b), 0f);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(a);
        java.lang.ref.Reference.reachabilityFence(b);
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor out, Tensor a, float scalar) {
        if (out.numel() == 0) {
            return;
        }
        sameShape("binaryScalar", "a", out, a);
        NativeKernels.binary(op.code(), out.dim(), out.shape(), strides(out, a), addr(out), addr(a), 0L, scalar);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(a);
    }

    @Override
    public void addScaled(Tensor out, Tensor a, Tensor b, float alpha) {
        if (out.numel() == 0) {
            return;
        }
        sameShape("addScaled", "a", out, a);
        sameShape("addScaled", "b", out, b);
        NativeKernels.add_scaled(out.dim(), out.shape(), strides(out, a, b), addr(out), addr(a), addr(b), alpha);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(a);
        java.lang.ref.Reference.reachabilityFence(b);
    }

    @Override
    public void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        if (out.numel() == 0) {
            return;
        }
        sameShape("where", "cond", out, cond);
        sameShape("where", "a", out, a);
        sameShape("where", "b", out, b);
        NativeKernels.where(out.dim(), out.shape(), strides(out, cond, a, b), addr(out), addr(cond), addr(a), addr(b));
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(cond);
        java.lang.ref.Reference.reachabilityFence(a);
        java.lang.ref.Reference.reachabilityFence(b);
    }

    // ---- reductions ----------------------------------------------------------------------

    @Override
    public void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        nonNegative("reduce", "outer", outer);
        nonNegative("reduce", "n", n);
        nonNegative("reduce", "inner", inner);
        dense("reduce", "x", x, (long) outer * n * inner);
        dense("reduce", "out", out, (long) outer * inner);
        if ((long) outer * inner == 0) {
            return;
        }
        if (n == 0) {
            // PyTorch: the sum of nothing is 0; max/min/arg* of nothing are errors Tensor reports first
            fill(out, 0f);
            return;
        }
        if (NativeKernels.reduce(op.code(), addr(out), addr(x), outer, n, inner) != 0) {
            throw new OutOfMemoryError("native reduce: no memory for its (" + inner + ") accumulators");
        }
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(x);
    }

    @Override
    public void softmax(Tensor out, Tensor x, int outer, int n, int inner, boolean log) {
        nonNegative("softmax", "outer", outer);
        nonNegative("softmax", "n", n);
        nonNegative("softmax", "inner", inner);
        dense("softmax", "x", x, (long) outer * n * inner);
        dense("softmax", "out", out, (long) outer * n * inner);
        if ((long) outer * n * inner == 0) {
            return;
        }
        if (NativeKernels.softmax(addr(out), addr(x), outer, n, inner, log ? 1 : 0) != 0) {
            throw new OutOfMemoryError("native softmax: no memory for its (" + inner + ") accumulators");
        }
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(x);
    }

    @Override
    public double sumAll(Tensor x) {
        contiguous("sumAll", "x", x);
        double sum = x.numel() == 0 ? 0.0 : NativeKernels.sum_all(addr(x), x.numel());
        java.lang.ref.Reference.reachabilityFence(x);
        return sum;
    }

    @Override
    public double sumSquares(Tensor... xs) {
        long[] a = new long[xs.length];
        long[] n = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            n[i] = xs[i].numel();
            if (n[i] != 0) {
                contiguous("sumSquares/scale", "xs[" + i + "]", xs[i]);
            }
            a[i] = n[i] == 0 ? 0 : addr(xs[i]);
        }
        double sum = NativeKernels.sum_squares_multi(a, n, xs.length);
        java.lang.ref.Reference.reachabilityFence(xs);
        return sum;
    }

    @Override
    public void scale(Tensor[] xs, float factor) {
        long[] a = new long[xs.length];
        long[] n = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            n[i] = xs[i].numel();
            if (n[i] != 0) {
                contiguous("sumSquares/scale", "xs[" + i + "]", xs[i]);
            }
            a[i] = n[i] == 0 ? 0 : addr(xs[i]);
        }
        NativeKernels.scale_multi(a, n, xs.length, factor);
        java.lang.ref.Reference.reachabilityFence(xs);
    }

    // ---- linear algebra ------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Storage a, long offA, int lda, long strideA,
                     Storage b, long offB, int ldb, long strideB,
                     float beta, Storage c, long offC, int ldc, long strideC, int batch) {
        nonNegative("gemm", "m", m);
        nonNegative("gemm", "n", n);
        nonNegative("gemm", "k", k);
        nonNegative("gemm", "batch", batch);
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if (k > 0) {
            matrix("gemm", "a", a, offA, lda, strideA, transA ? k : m, transA ? m : k, batch);
            matrix("gemm", "b", b, offB, ldb, strideB, transB ? n : k, transB ? k : n, batch);
        }
        matrix("gemm", "c", c, offC, ldc, strideC, m, n, batch);
        NativeKernels.gemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
                base(a) + 4L * offA, lda, strideA, base(b) + 4L * offB, ldb, strideB,
                beta, base(c) + 4L * offC, ldc, strideC, batch);
        java.lang.ref.Reference.reachabilityFence(a);
        java.lang.ref.Reference.reachabilityFence(b);
        java.lang.ref.Reference.reachabilityFence(c);
    }

    // ---- indexing ------------------------------------------------------------------------

    @Override
    public void indexSelect(Tensor out, Tensor x, int outer, int n, int inner, int[] idx) {
        nonNegative("indexSelect", "outer", outer);
        nonNegative("indexSelect", "inner", inner);
        indices("indexSelect", idx, idx.length, n);
        dense("indexSelect", "x", x, (long) outer * n * inner);
        dense("indexSelect", "out", out, (long) outer * idx.length * inner);
        if ((long) outer * idx.length * inner == 0) {
            return;
        }
        NativeKernels.index_select(addr(out), addr(x), outer, n, inner, idx, idx.length);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(x);
    }

    @Override
    public void indexAdd(Tensor out, Tensor g, int outer, int n, int inner, int[] idx) {
        nonNegative("indexAdd", "outer", outer);
        nonNegative("indexAdd", "inner", inner);
        indices("indexAdd", idx, idx.length, n);
        dense("indexAdd", "out", out, (long) outer * n * inner);
        dense("indexAdd", "g", g, (long) outer * idx.length * inner);
        if ((long) outer * idx.length * inner == 0) {
            return;
        }
        NativeKernels.index_add(addr(out), addr(g), outer, n, inner, idx, idx.length);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(g);
    }

    @Override
    public void gather(Tensor out, Tensor x, int outer, int n, int inner, int m, int[] idx) {
        nonNegative("gather", "outer", outer);
        nonNegative("gather", "inner", inner);
        nonNegative("gather", "m", m);
        indices("gather", idx, (long) outer * m * inner, n);
        dense("gather", "x", x, (long) outer * n * inner);
        dense("gather", "out", out, (long) outer * m * inner);
        if ((long) outer * m * inner == 0) {
            return;
        }
        NativeKernels.gather(addr(out), addr(x), outer, n, inner, m, idx);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(x);
    }

    @Override
    public void scatterAdd(Tensor out, Tensor g, int outer, int n, int inner, int m, int[] idx) {
        nonNegative("scatterAdd", "outer", outer);
        nonNegative("scatterAdd", "inner", inner);
        nonNegative("scatterAdd", "m", m);
        indices("scatterAdd", idx, (long) outer * m * inner, n);
        dense("scatterAdd", "out", out, (long) outer * n * inner);
        dense("scatterAdd", "g", g, (long) outer * m * inner);
        if ((long) outer * m * inner == 0) {
            return;
        }
        NativeKernels.scatter_add(addr(out), addr(g), outer, n, inner, m, idx);
        java.lang.ref.Reference.reachabilityFence(out);
        java.lang.ref.Reference.reachabilityFence(g);
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
            validate(op + " direction " + k, dirs[k], backward);
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
        // the tensors must stay reachable until the call returns: a temporary (a contiguous copy
        // of x) referenced only from here would otherwise be freed by its Cleaner mid-call
        java.lang.ref.Reference.reachabilityFence(dirs);
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
        if (t.dim() == 2 && t.size(0) <= 1 && lds[i] < Math.max(t.size(1), 1)) {
            // one row (e.g. a batch-1 state expanded with stride 0): only row 0 is read, but
            // OpenBLAS refuses a leading dimension below the row length
            lds[i] = Math.max(t.size(1), 1);
        }
    }

    /**
     * Checks one direction against {@link RnnLayerArgs}: the kernel reads and writes every buffer
     * by the sizes and batch sizes given, so a missing tensor, a wrong shape, a column stride
     * other than 1 or bad batch sizes would read or write outside the buffers.
     */
    private static void validate(String op, RnnLayerArgs a, boolean backward) {
        if (a == null || a.kind == null) {
            throw new IllegalArgumentException(op + ": arguments and their 'kind' must not be null");
        }
        int[] bs = a.batchSizes;
        if (bs == null || bs.length == 0) {
            throw new IllegalArgumentException(op + ": argument 'batchSizes' must have at least one step, got "
                    + (bs == null ? "null" : "[]"));
        }
        long rows = 0;
        for (int t = 0; t < bs.length; t++) {
            if (bs[t] <= 0 || (t > 0 && bs[t] > bs[t - 1])) {
                throw new IllegalArgumentException(op + ": argument 'batchSizes' must be positive and non-increasing, got "
                        + java.util.Arrays.toString(bs));
            }
            rows += bs[t];
        }
        if (rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": argument 'batchSizes' sums to " + rows + ", more than 2^31-1 rows");
        }
        boolean lstm = a.kind == CellKind.LSTM;
        if (a.inputSize < 1 || a.hiddenSize < 1 || a.projSize < 0 || (a.projSize > 0 && !lstm)) {
            throw new IllegalArgumentException(op + ": sizes must be inputSize >= 1, hiddenSize >= 1, projSize >= 0 (LSTM"
                    + " only), got " + a.inputSize + ", " + a.hiddenSize + ", " + a.projSize);
        }
        int s = (int) rows;
        int n = bs[0];
        int i = a.inputSize;
        int h = a.hiddenSize;
        int p = a.projSize;
        int r = a.outputSize();
        long gh = (long) a.kind.gates() * h;
        long w = a.kind.workspaceRow(h, p);
        if (gh > Integer.MAX_VALUE || w > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": hiddenSize " + h + " is too large");
        }
        rnnArg(op, "x", a.x, true, s, i);
        rnnArg(op, "h0", a.h0, true, n, r);
        rnnArg(op, "c0", a.c0, lstm, n, h);
        rnnArg(op, "wIh", a.wIh, true, gh, i);
        rnnArg(op, "wHh", a.wHh, true, gh, r);
        rnnArg(op, "bIh", a.bIh, false, gh, -1);
        rnnArg(op, "bHh", a.bHh, false, gh, -1);
        rnnArg(op, "wHr", p > 0 ? a.wHr : null, p > 0, p, h);
        rnnArg(op, "y", a.y, true, s, r);
        rnnArg(op, "hN", a.hN, true, n, r);
        rnnArg(op, "cN", a.cN, lstm, n, h);
        rnnArg(op, "workspace", a.workspace, backward, s, w);
        if (backward) {
            rnnArg(op, "dy", a.dy, true, s, r);
            rnnArg(op, "dhN", a.dhN, false, n, r);
            rnnArg(op, "dcN", lstm ? a.dcN : null, false, n, h);
            rnnArg(op, "dx", a.dx, false, s, i);
            rnnArg(op, "dh0", a.dh0, false, n, r);
            rnnArg(op, "dc0", lstm ? a.dc0 : null, false, n, h);
            rnnArg(op, "dWIh", a.dWIh, false, gh, i);
            rnnArg(op, "dWHh", a.dWHh, false, gh, r);
            rnnArg(op, "dBIh", a.bIh != null ? a.dBIh : null, false, gh, -1);
            rnnArg(op, "dBHh", a.bHh != null ? a.dBHh : null, false, gh, -1);
            rnnArg(op, "dWHr", p > 0 ? a.dWHr : null, false, p, h);
        }
    }

    /**
     * A recurrent layer buffer: 2-D (rows, cols) with unit column stride and a row stride of at
     * least cols, or 1-D (rows) with unit stride when cols is -1; null only when not required.
     */
    private static void rnnArg(String op, String arg, Tensor t, boolean required, long rows, long cols) {
        if (t == null) {
            if (required) {
                throw new IllegalArgumentException(op + ": argument '" + arg + "' is required, got null");
            }
            return;
        }
        int[] shape = t.shape();
        int[] st = t.strides();
        boolean ok;
        if (cols < 0) {
            ok = shape.length == 1 && shape[0] == rows && (st[0] == 1 || rows <= 1);
        } else {
            ok = shape.length == 2 && shape[0] == rows && shape[1] == cols && (st[1] == 1 || cols <= 1)
                    && (rows <= 1 || st[0] >= cols);
        }
        if (!ok) {
            String want = cols < 0 ? "[" + rows + "]" : "[" + rows + ", " + cols + "]";
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected shape " + want
                    + " with unit column stride and rows at least a row apart, got shape " + java.util.Arrays.toString(shape)
                    + " with strides " + java.util.Arrays.toString(st));
        }
    }

    // ---- losses and optimizers -----------------------------------------------------------

    @Override
    public void crossEntropy(Tensor lossPerRow, Tensor dlogits, Tensor logits, int[] target, int ignoreIndex,
                             float gradScale) {
        if (logits.dim() != 2) {
            throw new IllegalArgumentException("crossEntropy: argument 'logits' must be 2-D (rows, classes), got shape "
                    + java.util.Arrays.toString(logits.shape()));
        }
        int rows = logits.size(0);
        int classes = logits.size(1);
        contiguous("crossEntropy", "logits", logits);
        dense("crossEntropy", "lossPerRow", lossPerRow, rows);
        if (dlogits != null) {
            contiguous("crossEntropy", "dlogits", dlogits);
            sameShape("crossEntropy", "dlogits", logits, dlogits);
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
        java.lang.ref.Reference.reachabilityFence(lossPerRow);
        java.lang.ref.Reference.reachabilityFence(dlogits);
        java.lang.ref.Reference.reachabilityFence(logits);
    }

    @Override
    public void optimizerStep(OptimizerStep s, Tensor[] params, Tensor[] grads, Tensor[] state1, Tensor[] state2) {
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
            contiguous("optimizerStep", "params[" + i + "]", params[i]);
            dense("optimizerStep", "grads[" + i + "]", grads[i], numel);
            if (needs1) {
                dense("optimizerStep", "state1[" + i + "]", state1[i], numel);
            }
            if (needs2) {
                dense("optimizerStep", "state2[" + i + "]", state2[i], numel);
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
        NativeKernels.optimizer_step_multi(s.kind().ordinal(), p, g, m, v, n, count, s.lr(), s.momentum(), s.dampening(),
                s.nesterov() ? 1 : 0, s.weightDecay(), s.beta1(), s.beta2(), s.eps(), s.step(), s.first() ? 1 : 0);
        java.lang.ref.Reference.reachabilityFence(params);
        java.lang.ref.Reference.reachabilityFence(grads);
        java.lang.ref.Reference.reachabilityFence(state1);
        java.lang.ref.Reference.reachabilityFence(state2);
    }
}
