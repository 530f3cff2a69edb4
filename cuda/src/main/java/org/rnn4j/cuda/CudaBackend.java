package org.rnn4j.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.rnn4j.Device;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.UnaryOp;
import org.rnn4j.backend.View;

/**
 * The CUDA backend: serves {@code Device.cuda(i)} only (never CPU tensors), i from
 * {@code -Drnn4j.cuda.device=i} (default 0). Kernels come from the fatbin resource built by nvcc
 * ({@code src/main/cuda/rnn4j_kernels.cu}, cell math shared with the CPU backend through
 * {@code cell_math.h}), launched with the driver API; GEMMs are cuBLAS. One stream, one lock:
 * calls from several threads are serialised; every value that reaches Java (read, sumAll,
 * sumSquares) waits for the stream.
 *
 * <p>Recurrent layers: one cuBLAS GEMM for the input projection of all steps, then per step one
 * cuBLAS GEMM with W_hh and one pointwise kernel (plus the projection GEMM and a row copy for
 * LSTM with proj_size); backward per step a prep kernel, (projection GEMM,) the pointwise
 * kernel and the W_hh GEMM, and after the loop one GEMM each for dx, dW_ih, dW_hh, dW_hr and a
 * column sum per bias. cuDNN's RNN API is not used (the faster path for later).
 *
 * <p>Status: compiled and its pure-Java parts unit-tested; never executed on a GPU in the session
 * that wrote it. cuda/device-check.sh runs the parity suite on a GPU machine.
 */
public final class CudaBackend implements Backend {
    public static final String DEVICE_PROPERTY = "rnn4j.cuda.device";

    private final Device device;
    private volatile boolean probed;
    private String reason = "";
    private Cuda cuda;
    private CachingAllocator allocator;

    public CudaBackend() {
        int index = 0;
        String s = System.getProperty(DEVICE_PROPERTY);
        if (s != null && !s.isBlank()) {
            try {
                index = Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                index = -1;
            }
        }
        if (index < 0) {
            reason = "-D" + DEVICE_PROPERTY + "='" + s + "' is not a device index (0, 1, ...)";
            probed = true;
            index = 0;
        }
        this.device = Device.cuda(index);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public boolean isAvailable() {
        probe();
        return cuda != null;
    }

    @Override
    public String unavailableReason() {
        probe();
        return cuda != null ? "" : reason;
    }

    private synchronized void probe() {
        if (probed) {
            return;
        }
        probed = true;
        try {
            Class.forName("org.bytedeco.cuda.global.cudart", false, CudaBackend.class.getClassLoader());
        } catch (Throwable t) {
            reason = "the bytedeco CUDA presets are not on the class path or cannot load (" + t + "); add"
                    + " org.bytedeco:cuda:13.1-9.19-1.5.13 (and its linux-x86_64 jar), see cuda/README.md";
            return;
        }
        try {
            org.bytedeco.javacpp.Loader.load(org.bytedeco.cuda.global.cudart.class);
            org.bytedeco.javacpp.Loader.load(org.bytedeco.cuda.global.cublas.class);
        } catch (Throwable t) {
            // JavaCPP says "no jnicudart in java.library.path" also when the JNI library is there
            // but its dependencies (libcudart.so.13, libcuda.so.1) are not
            reason = "the CUDA libraries could not be loaded (" + rootMessage(t) + "): this needs an NVIDIA driver"
                    + " (libcuda.so.1) and the CUDA 13 runtime and cuBLAS (libcudart.so.13, libcublas.so.13) from a CUDA 13"
                    + " install on the library path or org.bytedeco:cuda-redist on the class path; see cuda/README.md";
            return;
        }
        try {
            Cuda c = new Cuda(device.index());
            allocator = new CachingAllocator(c);
            cuda = c;
        } catch (Throwable t) {
            reason = "CUDA device " + device + " cannot be used: " + rootMessage(t);
        }
    }

    private static String rootMessage(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        String m = r.getMessage();
        return r.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    @Override
    public String description() {
        if (!isAvailable()) {
            return "cuda (unavailable: " + reason + ")";
        }
        return "cuda " + device + ": " + cuda.name + ", compute capability " + cuda.ccMajor + "." + cuda.ccMinor + ", "
                + (cuda.totalBytes >> 20) + " MiB, driver CUDA " + Cuda.version(cuda.driverVersion)
                + "; caching allocator, one stream, cuBLAS GEMMs, rnn4j kernels (no cuDNN)";
    }

    /** Bytes held in the allocator's cache (free blocks kept for reuse), for tests and logs. */
    public long cachedBytes() {
        return allocator == null ? 0 : allocator.cachedBytes();
    }

    // ---- checks ----------------------------------------------------------------------------

    /** The device address of the view's first element; a view of another device is a clear error. */
    private long addr(String op, String arg, View v) {
        Storage s = v.storage();
        if (!(s instanceof CudaStorage cs) || cs.owner != this) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' is on " + v.device() + ", expected " + device
                    + " (the cuda backend computes on its own device only; move it with tensor.to(" + device + "))");
        }
        return cs.address + 4L * v.offset();
    }

    private void on(String op, String arg, View v) {
        if (v != null) {
            addr(op, arg, v);
        }
    }

    private Cuda ready(String op) {
        if (!isAvailable()) {
            throw new IllegalStateException(op + ": the cuda backend is not available: " + reason);
        }
        cuda.makeCurrent();
        return cuda;
    }

    private Strided st(String op, String arg, View v) {
        return new Strided(addr(op, arg, v), v.shape(), v.strides());
    }

    /** Scratch device memory for one call, returned to the cache when closed. */
    private final class Scratch implements AutoCloseable {
        private final List<long[]> blocks = new ArrayList<>();

        long floats(long n) {
            long p = allocator.allocate(Math.max(n, 1) * 4L, "cuda scratch buffer of " + n + " floats");
            blocks.add(new long[] {p, Math.max(n, 1) * 4L});
            return p;
        }

        long zeros(long n) {
            long p = floats(n);
            cuda.memsetZero(p, n);
            return p;
        }

        @Override
        public void close() {
            for (long[] b : blocks) {
                allocator.release(b[0], b[1]);
            }
        }
    }

    /** A contiguous device copy of {@code v} (the view itself when already contiguous). */
    private long dense(String op, String arg, View v, Scratch s) {
        long a = addr(op, arg, v);
        if (v.isContiguous()) {
            return a;
        }
        long p = s.floats(v.numel());
        cuda.args().strided(Strided.dense(p, v.numel())).strided(st(op, arg, v)).i64(v.numel());
        cuda.launch(Kernel.COPY, v.numel());
        return p;
    }

    // ---- allocation and data movement --------------------------------------------------------

    @Override
    public synchronized Storage allocate(long numel) {
        if (numel < 0) {
            throw new IllegalArgumentException("allocate: argument 'numel' must be >= 0, got " + numel);
        }
        Cuda c = ready("allocate");
        long p = allocator.allocate(Math.max(numel, 1) * 4L, "tensor of " + numel + " floats on " + device);
        c.memsetZero(p, numel);
        return new CudaStorage(this, device, numel, p, allocator);
    }

    @Override
    public synchronized void copy(View out, View src) {
        src.requireShapeOf("copy", "src", out);
        on("copy", "out", out);
        on("copy", "src", src);
        Cuda c = ready("copy");
        try (Scratch s = new Scratch()) {
            Strided from = st("copy", "src", src);
            if (src.storage() == out.storage() && !src.sameAs(out)) {
                // possibly overlapping: read everything first, as the reference does
                long p = s.floats(src.numel());
                c.args().strided(Strided.dense(p, src.numel())).strided(from).i64(src.numel());
                c.launch(Kernel.COPY, src.numel());
                from = Strided.dense(p, src.numel());
            }
            c.args().strided(st("copy", "out", out)).strided(from).i64(out.numel());
            c.launch(Kernel.COPY, out.numel());
        }
    }

    @Override
    public synchronized void fill(View out, float value) {
        on("fill", "out", out);
        Cuda c = ready("fill");
        c.args().strided(st("fill", "out", out)).f32(value).i64(out.numel());
        c.launch(Kernel.FILL, out.numel());
    }

    @Override
    public synchronized void read(View src, float[] dst, int dstOffset) {
        on("read", "src", src);
        if (dstOffset < 0 || dstOffset + src.numel() > dst.length) {
            throw new IllegalArgumentException("read: " + src.numel() + " floats do not fit in an array of " + dst.length
                    + " at offset " + dstOffset);
        }
        Cuda c = ready("read");
        try (Scratch s = new Scratch()) {
            c.download(dense("read", "src", src, s), dst, dstOffset, (int) src.numel());
        }
    }

    @Override
    public synchronized void write(View out, float[] src, int srcOffset) {
        on("write", "out", out);
        if (srcOffset < 0 || srcOffset + out.numel() > src.length) {
            throw new IllegalArgumentException("write: " + out.numel() + " floats are not in an array of " + src.length
                    + " at offset " + srcOffset);
        }
        Cuda c = ready("write");
        int n = (int) out.numel();
        if (out.isContiguous()) {
            c.upload(addr("write", "out", out), src, srcOffset, n);
            return;
        }
        try (Scratch s = new Scratch()) {
            long p = s.floats(n);
            c.upload(p, src, srcOffset, n);
            c.args().strided(st("write", "out", out)).strided(Strided.dense(p, n)).i64(n);
            c.launch(Kernel.COPY, n);
        }
    }

    // ---- elementwise -------------------------------------------------------------------------

    @Override
    public synchronized void unary(UnaryOp op, View out, View x) {
        x.requireShapeOf("unary", "x", out);
        on("unary", "out", out);
        on("unary", "x", x);
        Cuda c = ready("unary");
        c.args().i32(op.code()).strided(st("unary", "out", out)).strided(st("unary", "x", x)).i64(out.numel());
        c.launch(Kernel.UNARY, out.numel());
    }

    @Override
    public synchronized void binary(BinaryOp op, View out, View a, View b) {
        a.requireShapeOf("binary", "a", out);
        b.requireShapeOf("binary", "b", out);
        on("binary", "out", out);
        on("binary", "a", a);
        on("binary", "b", b);
        Cuda c = ready("binary");
        c.args().i32(op.code()).strided(st("binary", "out", out)).strided(st("binary", "a", a))
                .strided(st("binary", "b", b)).i64(out.numel());
        c.launch(Kernel.BINARY, out.numel());
    }

    @Override
    public synchronized void binaryScalar(BinaryOp op, View out, View a, float scalar) {
        a.requireShapeOf("binaryScalar", "a", out);
        on("binaryScalar", "out", out);
        on("binaryScalar", "a", a);
        Cuda c = ready("binaryScalar");
        c.args().i32(op.code()).strided(st("binaryScalar", "out", out)).strided(st("binaryScalar", "a", a)).f32(scalar)
                .i64(out.numel());
        c.launch(Kernel.BINARY_SCALAR, out.numel());
    }

    @Override
    public synchronized void addScaled(View out, View a, View b, float alpha) {
        a.requireShapeOf("addScaled", "a", out);
        b.requireShapeOf("addScaled", "b", out);
        on("addScaled", "out", out);
        on("addScaled", "a", a);
        on("addScaled", "b", b);
        Cuda c = ready("addScaled");
        c.args().strided(st("addScaled", "out", out)).strided(st("addScaled", "a", a)).strided(st("addScaled", "b", b))
                .f32(alpha).i64(out.numel());
        c.launch(Kernel.ADD_SCALED, out.numel());
    }

    @Override
    public synchronized void where(View out, View cond, View a, View b) {
        cond.requireShapeOf("where", "cond", out);
        a.requireShapeOf("where", "a", out);
        b.requireShapeOf("where", "b", out);
        on("where", "out", out);
        on("where", "cond", cond);
        on("where", "a", a);
        on("where", "b", b);
        Cuda c = ready("where");
        c.args().strided(st("where", "out", out)).strided(st("where", "cond", cond)).strided(st("where", "a", a))
                .strided(st("where", "b", b)).i64(out.numel());
        c.launch(Kernel.WHERE, out.numel());
    }

    // ---- reductions --------------------------------------------------------------------------

    private static void requireGeometry(String op, View out, View x, int outer, int n, int inner, long outCount) {
        if (outer < 0 || n < 0 || inner < 0) {
            throw new IllegalArgumentException(op + ": outer, n, inner must be >= 0, got " + outer + ", " + n + ", " + inner);
        }
        if (x.numel() != (long) outer * n * inner) {
            throw new IllegalArgumentException(op + ": argument 'x' expected " + (long) outer * n * inner + " elements, got "
                    + x.numel());
        }
        out.requireDense(op, "out", outCount);
    }

    private static void requireCount(String op, String arg, View v, long count) {
        if (v.numel() != count) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected " + count + " elements, got shape "
                    + java.util.Arrays.toString(v.shape()));
        }
    }

    @Override
    public synchronized void reduce(ReduceOp op, View out, View x, int outer, int n, int inner) {
        requireGeometry("reduce", out, x, outer, n, inner, (long) outer * inner);
        if (n == 0 && (long) outer * inner > 0) {
            throw new IllegalArgumentException("reduce: argument 'n' must be >= 1 for a non-empty output");
        }
        on("reduce", "out", out);
        on("reduce", "x", x);
        Cuda c = ready("reduce");
        try (Scratch s = new Scratch()) {
            long px = dense("reduce", "x", x, s);
            c.args().i32(op.code()).ptr(addr("reduce", "out", out)).ptr(px).i32(outer).i32(n).i32(inner);
            c.launch(Kernel.REDUCE, (long) outer * inner);
        }
    }

    @Override
    public synchronized void softmax(View out, View x, int outer, int n, int inner, boolean log) {
        requireGeometry("softmax", out, x, outer, n, inner, (long) outer * n * inner);
        on("softmax", "out", out);
        on("softmax", "x", x);
        Cuda c = ready("softmax");
        try (Scratch s = new Scratch()) {
            long px = dense("softmax", "x", x, s);
            c.args().ptr(addr("softmax", "out", out)).ptr(px).i32(outer).i32(n).i32(inner).bool(log);
            c.launch(Kernel.SOFTMAX, (long) outer * inner);
        }
    }

    private double sum(String op, View[] xs, boolean squares) {
        for (int i = 0; i < xs.length; i++) {
            on(op, "xs[" + i + "]", xs[i]);
        }
        Cuda c = ready(op);
        try (Scratch s = new Scratch()) {
            long acc = s.zeros(2);  // one double
            for (int i = 0; i < xs.length; i++) {
                long p = dense(op, "xs[" + i + "]", xs[i], s);
                c.args().ptr(p).i64(xs[i].numel()).bool(squares).ptr(acc);
                c.launch(Kernel.SUM, xs[i].numel());
            }
            return c.downloadDouble(acc);
        }
    }

    @Override
    public synchronized double sumAll(View x) {
        return sum("sumAll", new View[] {x}, false);
    }

    @Override
    public synchronized double sumSquares(View... xs) {
        return sum("sumSquares", xs, true);
    }

    @Override
    public synchronized void scale(View[] xs, float factor) {
        for (int i = 0; i < xs.length; i++) {
            on("scale", "xs[" + i + "]", xs[i]);
        }
        Cuda c = ready("scale");
        for (int i = 0; i < xs.length; i++) {
            View x = xs[i];
            if (x.isContiguous()) {
                c.args().ptr(addr("scale", "xs", x)).i64(x.numel()).f32(factor);
                c.launch(Kernel.SCALE, x.numel());
            } else {
                Strided sx = st("scale", "xs", x);
                c.args().i32(BinaryOp.MUL.code()).strided(sx).strided(sx).f32(factor).i64(x.numel());
                c.launch(Kernel.BINARY_SCALAR, x.numel());
            }
        }
    }

    // ---- gemm --------------------------------------------------------------------------------

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, View a, int lda,
                                  long strideA, View b, int ldb, long strideB, float beta, View c, int ldc, long strideC,
                                  int batch) {
        View.requireGemm(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch);
        long pa = addr("gemm", "a", a);
        long pb = addr("gemm", "b", b);
        long pc = addr("gemm", "c", c);
        Cuda cu = ready("gemm");
        if (m == 0 || n == 0 || batch == 0) {
            return;
        }
        if (k == 0) {
            // C = beta * C (beta 0: zeros, NaN dropped, as the reference)
            for (int p = 0; p < batch; p++) {
                Strided sc = new Strided(pc + 4L * p * strideC, new int[] {m, n}, new int[] {ldc, 1});
                if (beta == 0f) {
                    cu.args().strided(sc).f32(0f).i64((long) m * n);
                    cu.launch(Kernel.FILL, (long) m * n);
                } else {
                    cu.args().i32(BinaryOp.MUL.code()).strided(sc).strided(sc).f32(beta).i64((long) m * n);
                    cu.launch(Kernel.BINARY_SCALAR, (long) m * n);
                }
            }
            return;
        }
        cu.gemm(transA, transB, m, n, k, alpha, pa, lda, strideA, pb, ldb, strideB, beta, pc, ldc, strideC, batch);
    }

    // ---- indexing ----------------------------------------------------------------------------

    private static void requireIndex(String op, int[] idx, int n) {
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= n) {
                throw new IndexOutOfBoundsException(op + ": index " + idx[i] + " at position " + i + " is out of range [0, "
                        + n + ")");
            }
        }
    }

    @Override
    public synchronized void indexSelect(View out, View x, int outer, int n, int inner, int[] idx) {
        requireGeometry("indexSelect", out, x, outer, n, inner, (long) outer * idx.length * inner);
        requireIndex("indexSelect", idx, n);
        on("indexSelect", "out", out);
        on("indexSelect", "x", x);
        Cuda c = ready("indexSelect");
        try (Scratch s = new Scratch()) {
            long px = dense("indexSelect", "x", x, s);
            long pi = s.floats(idx.length);
            c.upload(pi, idx);
            c.args().ptr(addr("indexSelect", "out", out)).ptr(px).i32(outer).i32(n).i32(inner).ptr(pi).i32(idx.length);
            c.launch(Kernel.INDEX_SELECT, out.numel());
        }
    }

    @Override
    public synchronized void indexAdd(View out, View g, int outer, int n, int inner, int[] idx) {
        requireCount("indexAdd", "out", out, (long) outer * n * inner);
        requireCount("indexAdd", "g", g, (long) outer * idx.length * inner);
        out.requireContiguous("indexAdd", "out");
        requireIndex("indexAdd", idx, n);
        on("indexAdd", "out", out);
        on("indexAdd", "g", g);
        Cuda c = ready("indexAdd");
        try (Scratch s = new Scratch()) {
            long pg = dense("indexAdd", "g", g, s);
            long pi = s.floats(idx.length);
            c.upload(pi, idx);
            c.args().ptr(addr("indexAdd", "out", out)).ptr(pg).i32(outer).i32(n).i32(inner).ptr(pi).i32(idx.length);
            c.launch(Kernel.INDEX_ADD, g.numel());
        }
    }

    @Override
    public synchronized void gather(View out, View x, int outer, int n, int inner, int m, int[] idx) {
        requireGeometry("gather", out, x, outer, n, inner, (long) outer * m * inner);
        if (idx.length != (long) outer * m * inner) {
            throw new IllegalArgumentException("gather: argument 'idx' expected " + (long) outer * m * inner
                    + " entries, got " + idx.length);
        }
        requireIndex("gather", idx, n);
        on("gather", "out", out);
        on("gather", "x", x);
        Cuda c = ready("gather");
        try (Scratch s = new Scratch()) {
            long px = dense("gather", "x", x, s);
            long pi = s.floats(idx.length);
            c.upload(pi, idx);
            c.args().ptr(addr("gather", "out", out)).ptr(px).i32(outer).i32(n).i32(inner).i32(m).ptr(pi);
            c.launch(Kernel.GATHER, out.numel());
        }
    }

    @Override
    public synchronized void scatterAdd(View out, View g, int outer, int n, int inner, int m, int[] idx) {
        requireCount("scatterAdd", "out", out, (long) outer * n * inner);
        requireCount("scatterAdd", "g", g, (long) outer * m * inner);
        out.requireContiguous("scatterAdd", "out");
        if (idx.length != (long) outer * m * inner) {
            throw new IllegalArgumentException("scatterAdd: argument 'idx' expected " + (long) outer * m * inner
                    + " entries, got " + idx.length);
        }
        requireIndex("scatterAdd", idx, n);
        on("scatterAdd", "out", out);
        on("scatterAdd", "g", g);
        Cuda c = ready("scatterAdd");
        try (Scratch s = new Scratch()) {
            long pg = dense("scatterAdd", "g", g, s);
            long pi = s.floats(idx.length);
            c.upload(pi, idx);
            c.args().ptr(addr("scatterAdd", "out", out)).ptr(pg).i32(outer).i32(n).i32(inner).i32(m).ptr(pi);
            c.launch(Kernel.SCATTER_ADD, g.numel());
        }
    }

    // ---- losses and optimizers ---------------------------------------------------------------

    @Override
    public synchronized void crossEntropy(View lossPerRow, View dlogits, View logits, int[] target, int ignoreIndex,
                                          float gradScale) {
        if (logits.dim() != 2) {
            throw new IllegalArgumentException("crossEntropy: argument 'logits' must be 2-D (rows, classes), got "
                    + java.util.Arrays.toString(logits.shape()));
        }
        int rows = logits.size(0);
        int classes = logits.size(1);
        lossPerRow.requireDense("crossEntropy", "lossPerRow", rows);
        if (dlogits != null) {
            dlogits.requireDense("crossEntropy", "dlogits", (long) rows * classes);
        }
        if (target.length != rows) {
            throw new IllegalArgumentException("crossEntropy: argument 'target' expected " + rows + " entries, got "
                    + target.length);
        }
        for (int r = 0; r < rows; r++) {
            if (target[r] != ignoreIndex && (target[r] < 0 || target[r] >= classes)) {
                throw new IndexOutOfBoundsException("crossEntropy: target " + target[r] + " at row " + r
                        + " is out of range [0, " + classes + ")");
            }
        }
        on("crossEntropy", "lossPerRow", lossPerRow);
        on("crossEntropy", "dlogits", dlogits);
        on("crossEntropy", "logits", logits);
        Cuda c = ready("crossEntropy");
        try (Scratch s = new Scratch()) {
            long pz = dense("crossEntropy", "logits", logits, s);
            long pt = s.floats(rows);
            c.upload(pt, target);
            c.args().ptr(addr("crossEntropy", "lossPerRow", lossPerRow))
                    .ptr(dlogits == null ? 0 : addr("crossEntropy", "dlogits", dlogits)).ptr(pz).ptr(pt).i32(rows)
                    .i32(classes).i32(ignoreIndex).f32(gradScale);
            c.launch(Kernel.CROSS_ENTROPY, rows);
        }
    }

    @Override
    public synchronized void optimizerStep(OptimizerStep s, View[] params, View[] grads, View[] state1, View[] state2) {
        boolean needs1 = s.kind() != OptimizerStep.Kind.SGD || s.momentum() != 0f;
        boolean needs2 = s.kind() != OptimizerStep.Kind.SGD;
        if (grads.length != params.length || (needs1 && (state1 == null || state1.length != params.length))
                || (needs2 && (state2 == null || state2.length != params.length))) {
            throw new IllegalArgumentException("optimizerStep: params, grads and the states " + s.kind() + " keeps must be"
                    + " arrays of the same length");
        }
        for (int i = 0; i < params.length; i++) {
            long n = params[i].numel();
            params[i].requireContiguous("optimizerStep", "params[" + i + "]");
            grads[i].requireDense("optimizerStep", "grads[" + i + "]", n);
            on("optimizerStep", "params[" + i + "]", params[i]);
            on("optimizerStep", "grads[" + i + "]", grads[i]);
            if (needs1) {
                state1[i].requireDense("optimizerStep", "state1[" + i + "]", n);
                on("optimizerStep", "state1[" + i + "]", state1[i]);
            }
            if (needs2) {
                state2[i].requireDense("optimizerStep", "state2[" + i + "]", n);
                on("optimizerStep", "state2[" + i + "]", state2[i]);
            }
        }
        Cuda c = ready("optimizerStep");
        double bc1 = 1 - Math.pow(s.beta1(), s.step());
        double bc2 = 1 - Math.pow(s.beta2(), s.step());
        for (int i = 0; i < params.length; i++) {
            long n = params[i].numel();
            long pp = addr("optimizerStep", "params", params[i]);
            long pg = addr("optimizerStep", "grads", grads[i]);
            if (s.kind() == OptimizerStep.Kind.SGD) {
                c.args().ptr(pp).ptr(pg).ptr(needs1 ? addr("optimizerStep", "state1", state1[i]) : 0).i64(n).f32(s.lr())
                        .f32(s.momentum()).f32(s.dampening()).bool(s.nesterov()).f32(s.weightDecay()).bool(s.first());
                c.launch(Kernel.SGD, n);
            } else {
                c.args().ptr(pp).ptr(pg).ptr(addr("optimizerStep", "state1", state1[i]))
                        .ptr(addr("optimizerStep", "state2", state2[i])).i64(n).f32(s.lr()).f32(s.beta1()).f32(s.beta2())
                        .f32(s.eps()).f32(s.weightDecay()).bool(s.kind() == OptimizerStep.Kind.ADAMW).f64(bc1).f64(bc2);
                c.launch(Kernel.ADAM, n);
            }
        }
    }

    // ---- recurrent layers --------------------------------------------------------------------

    @Override
    public synchronized void rnnForward(RnnLayerArgs... directions) {
        for (RnnLayerArgs a : directions) {
            a.validate("rnnForward", false);
            onAll("rnnForward", a, false);
        }
        Cuda c = ready("rnnForward");
        for (RnnLayerArgs a : directions) {
            new CudaRnn(c, this, a, false).forward();
        }
    }

    @Override
    public synchronized void rnnBackward(RnnLayerArgs... directions) {
        for (RnnLayerArgs a : directions) {
            a.validate("rnnBackward", true);
            onAll("rnnBackward", a, true);
        }
        Cuda c = ready("rnnBackward");
        for (RnnLayerArgs a : directions) {
            new CudaRnn(c, this, a, true).backward();
        }
    }

    private void onAll(String op, RnnLayerArgs a, boolean backward) {
        for (RnnBuffer b : RnnBuffer.values()) {
            View v = a.used(b, backward);
            if (v != null) {
                addr(op, b.argName(), v);
            }
        }
    }

    // for CudaRnn
    long address(String op, RnnBuffer b, View v) {
        return addr(op, b.argName(), v);
    }

    long scratch(List<long[]> blocks, long floats, boolean zero) {
        long bytes = Math.max(floats, 1) * 4L;
        long p = allocator.allocate(bytes, "cuda recurrent-layer scratch of " + floats + " floats");
        blocks.add(new long[] {p, bytes});
        if (zero) {
            cuda.memsetZero(p, floats);
        }
        return p;
    }

    void releaseAll(List<long[]> blocks) {
        for (long[] b : blocks) {
            allocator.release(b[0], b[1]);
        }
    }

    static void checkInterrupt(String op) {
        if (Thread.currentThread().isInterrupted()) {
            throw new CancellationException(op + ": interrupted between time steps (Thread.interrupt); outputs incomplete");
        }
    }

    static boolean isLstm(RnnLayerArgs a) {
        return a.kind == CellKind.LSTM;
    }
}
