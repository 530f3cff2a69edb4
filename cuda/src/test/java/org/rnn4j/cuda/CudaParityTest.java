package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.ReferenceBackend;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.UnaryOp;
import org.rnn4j.backend.View;

/**
 * CUDA vs ReferenceBackend on seeded random inputs, at the backend contract (views): forward
 * values within 1e-5 + 1e-5*|expected|, gradients within 1e-4 + 1e-4*|expected|. Needs a GPU:
 * every test is skipped, with the backend's reason, where there is none (as in the session that
 * wrote it: none of these has run yet; cuda/device-check.sh runs them).
 */
class CudaParityTest {
    static final double FWD = 1e-5;
    static final double GRAD = 1e-4;
    final Backend ref = ReferenceBackend.INSTANCE;
    CudaBackend cuda;
    Random rnd;

    @BeforeEach
    void needsDevice() {
        cuda = CudaUnavailableTest.cuda();
        assumeTrue(cuda.isAvailable(), () -> "no usable CUDA device: " + cuda.unavailableReason());
        rnd = new Random(42);
    }

    /** The same values on both backends. */
    final class Pair {
        final View r;
        final View c;

        Pair(float[] v, int[] shape, int[] strides, long offset, long storageSize) {
            Storage sr = ref.allocate(storageSize);
            Storage sc = cuda.allocate(storageSize);
            float[] all = new float[(int) storageSize];
            for (int i = 0; i < all.length; i++) {
                all[i] = v == null ? rnd.nextFloat() * 2 - 1 : v[i % v.length];
            }
            ref.write(View.contiguous(sr, 0, (int) storageSize), all, 0);
            cuda.write(View.contiguous(sc, 0, (int) storageSize), all, 0);
            r = View.of(sr, offset, shape, strides);
            c = View.of(sc, offset, shape, strides);
        }

        float[] refValues() {
            float[] o = new float[(int) r.numel()];
            ref.read(r, o, 0);
            return o;
        }

        float[] cudaValues() {
            float[] o = new float[(int) c.numel()];
            cuda.read(c, o, 0);
            return o;
        }
    }

    Pair dense(int... shape) {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        int[] st = new int[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = (int) s;
            s *= shape[d];
        }
        return new Pair(null, shape, st, 0, Math.max(n, 1));
    }

    Pair zeros(int... shape) {
        Pair p = dense(shape);
        ref.fill(p.r, 0f);
        cuda.fill(p.c, 0f);
        return p;
    }

    static void close(String what, Pair p, double tol) {
        float[] e = p.refValues();
        float[] a = p.cudaValues();
        assertEquals(e.length, a.length, what);
        for (int i = 0; i < e.length; i++) {
            if (Float.isNaN(e[i]) && Float.isNaN(a[i])) {
                continue;
            }
            if (!(Math.abs(a[i] - e[i]) <= tol + tol * Math.abs(e[i]))) {
                fail(what + ": element " + i + " expected " + e[i] + ", cuda gave " + a[i]);
            }
        }
    }

    @Test
    void stridedElementwiseAndCopies() {
        // a transposed view and a broadcast view against a dense out
        Pair a = new Pair(null, new int[] {4, 5}, new int[] {1, 4}, 0, 20);
        Pair b = new Pair(null, new int[] {4, 5}, new int[] {0, 1}, 3, 8);
        for (BinaryOp op : BinaryOp.values()) {
            Pair out = zeros(4, 5);
            ref.binary(op, out.r, a.r, b.r);
            cuda.binary(op, out.c, a.c, b.c);
            close("binary " + op, out, FWD);
            ref.binaryScalar(op, out.r, a.r, 0.7f);
            cuda.binaryScalar(op, out.c, a.c, 0.7f);
            close("binaryScalar " + op, out, FWD);
        }
        Pair pos = new Pair(new float[] {0.3f, 1.7f, 2.5f, 0.01f, 4f}, new int[] {4, 5}, new int[] {5, 1}, 0, 20);
        for (UnaryOp op : UnaryOp.values()) {
            Pair out = zeros(4, 5);
            Pair in = op == UnaryOp.LOG || op == UnaryOp.SQRT ? pos : a;
            ref.unary(op, out.r, in.r);
            cuda.unary(op, out.c, in.c);
            close("unary " + op, out, FWD);
        }
        Pair out = zeros(4, 5);
        ref.addScaled(out.r, a.r, b.r, -0.25f);
        cuda.addScaled(out.c, a.c, b.c, -0.25f);
        close("addScaled", out, FWD);
        Pair cond = new Pair(new float[] {0, 1, 0, 0, 1, 1, 0}, new int[] {4, 5}, new int[] {5, 1}, 0, 20);
        ref.where(out.r, cond.r, a.r, b.r);
        cuda.where(out.c, cond.c, a.c, b.c);
        close("where", out, FWD);
        // strided out: write every other column
        Pair wide = zeros(4, 10);
        View wr = View.of(wide.r.storage(), 1, new int[] {4, 5}, new int[] {10, 2});
        View wc = View.of(wide.c.storage(), 1, new int[] {4, 5}, new int[] {10, 2});
        ref.copy(wr, a.r);
        cuda.copy(wc, a.c);
        close("strided copy", wide, 0);
        ref.fill(wr, 3f);
        cuda.fill(wc, 3f);
        close("strided fill", wide, 0);
    }

    @Test
    void reductionsSoftmaxAndSums() {
        Pair x = dense(3, 7, 4);
        for (ReduceOp op : ReduceOp.values()) {
            Pair out = zeros(3, 4);
            ref.reduce(op, out.r, x.r, 3, 7, 4);
            cuda.reduce(op, out.c, x.c, 3, 7, 4);
            close("reduce " + op, out, FWD);
        }
        for (boolean log : new boolean[] {false, true}) {
            Pair out = zeros(3, 7, 4);
            ref.softmax(out.r, x.r, 3, 7, 4, log);
            cuda.softmax(out.c, x.c, 3, 7, 4, log);
            close("softmax log=" + log, out, FWD);
        }
        Pair big = dense(100_003);
        assertEquals(ref.sumAll(big.r), cuda.sumAll(big.c), 1e-9 * 100_003);
        assertEquals(ref.sumSquares(big.r, x.r), cuda.sumSquares(big.c, x.c), 1e-9 * 100_003);
        ref.scale(new View[] {x.r, big.r}, 0.5f);
        cuda.scale(new View[] {x.c, big.c}, 0.5f);
        close("scale", x, FWD);
    }

    @Test
    void gemmAllTranspositionsBatchedAndStrided() {
        int m = 37, n = 19, k = 23, batch = 3;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int lda = (ta ? m : k) + 2;
                int ldb = (tb ? k : n) + 1;
                int ldc = n + 3;
                long sa = (long) lda * (ta ? k : m) + 5;
                long sb = (long) ldb * (tb ? n : k);
                long sc = (long) ldc * m + 7;
                Pair a = new Pair(null, new int[] {(int) (sa * batch)}, new int[] {1}, 0, sa * batch);
                Pair b = new Pair(null, new int[] {(int) (sb * batch)}, new int[] {1}, 0, sb * batch);
                Pair c = new Pair(null, new int[] {(int) (sc * batch)}, new int[] {1}, 0, sc * batch);
                ref.gemm(ta, tb, m, n, k, 0.5f, a.r, lda, sa, b.r, ldb, sb, 0.25f, c.r, ldc, sc, batch);
                cuda.gemm(ta, tb, m, n, k, 0.5f, a.c, lda, sa, b.c, ldb, sb, 0.25f, c.c, ldc, sc, batch);
                close("gemm ta=" + ta + " tb=" + tb, c, FWD);
            }
        }
    }

    @Test
    void indexingLossAndOptimizers() {
        int[] idx = {2, 0, 2, 4};
        Pair x = dense(3, 5, 2);
        Pair sel = zeros(3, 4, 2);
        ref.indexSelect(sel.r, x.r, 3, 5, 2, idx);
        cuda.indexSelect(sel.c, x.c, 3, 5, 2, idx);
        close("indexSelect", sel, 0);
        Pair acc = dense(3, 5, 2);
        ref.indexAdd(acc.r, sel.r, 3, 5, 2, idx);
        cuda.indexAdd(acc.c, sel.c, 3, 5, 2, idx);
        close("indexAdd", acc, GRAD);
        int[] gidx = new int[3 * 4 * 2];
        for (int i = 0; i < gidx.length; i++) {
            gidx[i] = rnd.nextInt(5);
        }
        Pair g = zeros(3, 4, 2);
        ref.gather(g.r, x.r, 3, 5, 2, 4, gidx);
        cuda.gather(g.c, x.c, 3, 5, 2, 4, gidx);
        close("gather", g, 0);
        ref.scatterAdd(acc.r, g.r, 3, 5, 2, 4, gidx);
        cuda.scatterAdd(acc.c, g.c, 3, 5, 2, 4, gidx);
        close("scatterAdd", acc, GRAD);

        Pair logits = dense(6, 11);
        Pair loss = zeros(6);
        Pair dl = zeros(6, 11);
        int[] target = {3, 0, -100, 10, 5, 5};
        ref.crossEntropy(loss.r, dl.r, logits.r, target, -100, 0.2f);
        cuda.crossEntropy(loss.c, dl.c, logits.c, target, -100, 0.2f);
        close("crossEntropy loss", loss, FWD);
        close("crossEntropy dlogits", dl, GRAD);

        for (OptimizerStep.Kind kind : OptimizerStep.Kind.values()) {
            for (int step = 1; step <= 3; step++) {
                OptimizerStep s = new OptimizerStep(kind, 0.01f, kind == OptimizerStep.Kind.SGD ? 0.9f : 0f, 0.1f, true,
                        0.01f, 0.9f, 0.999f, 1e-8f, step, step == 1);
                Pair p = dense(33);
                Pair gr = dense(33);
                Pair m1 = dense(33);
                Pair m2 = new Pair(new float[] {0.01f, 0.2f, 0.03f}, new int[] {33}, new int[] {1}, 0, 33);
                ref.optimizerStep(s, p.r, gr.r, m1.r, kind == OptimizerStep.Kind.SGD ? null : m2.r);
                cuda.optimizerStep(s, p.c, gr.c, m1.c, kind == OptimizerStep.Kind.SGD ? null : m2.c);
                close(kind + " param step " + step, p, FWD);
                close(kind + " state1 step " + step, m1, FWD);
            }
        }
    }

    static Stream<Arguments> layers() {
        Stream.Builder<Arguments> b = Stream.builder();
        int[][] batches = {{3, 3, 3, 3}, {4, 3, 3, 1, 1}};
        for (CellKind kind : CellKind.values()) {
            for (int[] bs : batches) {
                for (boolean reverse : new boolean[] {false, true}) {
                    b.add(Arguments.of(kind, bs, reverse, 0));
                    if (kind == CellKind.LSTM) {
                        b.add(Arguments.of(kind, bs, reverse, 3));
                    }
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} batchSizes={1} reverse={2} proj={3}")
    @MethodSource("layers")
    void recurrentLayerForwardAndBackward(CellKind kind, int[] batchSizes, boolean reverse, int proj) {
        int in = 5, hid = 6;
        RnnLayerArgs ar = new RnnLayerArgs();
        RnnLayerArgs ac = new RnnLayerArgs();
        for (RnnLayerArgs a : new RnnLayerArgs[] {ar, ac}) {
            a.kind = kind;
            a.reverse = reverse;
            a.batchSizes = batchSizes;
            a.inputSize = in;
            a.hiddenSize = hid;
            a.projSize = proj;
        }
        Pair[] bufs = new Pair[RnnBuffer.COUNT];
        for (RnnBuffer buf : RnnBuffer.values()) {
            if (!buf.used(ar, true) && buf != RnnBuffer.B_IH && buf != RnnBuffer.B_HH) {
                continue;
            }
            long rows = buf.rows(ar);
            long cols = buf.cols(ar);
            Pair p;
            if (cols < 0) {
                p = dense((int) rows);
            } else if (buf == RnnBuffer.DY) {
                // a column slice of a wider (bidirectional-like) gradient: row stride 2R
                p = new Pair(null, new int[] {(int) rows, (int) cols}, new int[] {(int) (2 * cols), 1}, cols, rows * 2 * cols);
            } else {
                p = dense((int) rows, (int) cols);
            }
            bufs[buf.ordinal()] = p;
            ar.set(buf, p.r);
            ac.set(buf, p.c);
        }
        // outputs of the forward start as garbage; gradients accumulate into random values
        ref.rnnForward(ar);
        cuda.rnnForward(ac);
        for (RnnBuffer o : new RnnBuffer[] {RnnBuffer.Y, RnnBuffer.H_N, RnnBuffer.C_N, RnnBuffer.WS}) {
            if (bufs[o.ordinal()] != null) {
                close("forward " + o.argName(), bufs[o.ordinal()], FWD);
            }
        }
        // backward from the reference's forward values on both sides (ws and y equal within FWD)
        float[] y = bufs[RnnBuffer.Y.ordinal()].refValues();
        cuda.write(bufs[RnnBuffer.Y.ordinal()].c, y, 0);
        float[] ws = bufs[RnnBuffer.WS.ordinal()].refValues();
        cuda.write(bufs[RnnBuffer.WS.ordinal()].c, ws, 0);
        ref.rnnBackward(ar);
        cuda.rnnBackward(ac);
        for (RnnBuffer o : new RnnBuffer[] {RnnBuffer.DX, RnnBuffer.DH0, RnnBuffer.DC0, RnnBuffer.DW_IH, RnnBuffer.DW_HH,
                RnnBuffer.DB_IH, RnnBuffer.DB_HH, RnnBuffer.DW_HR}) {
            if (bufs[o.ordinal()] != null) {
                close("backward " + o.argName(), bufs[o.ordinal()], GRAD);
            }
        }
    }
}
