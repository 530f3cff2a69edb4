package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.ReferenceBackend;
import org.rnn4j.backend.UnaryOp;

/**
 * Every Backend operation of the native backend against the reference backend on seeded random
 * inputs, over contiguous and non-contiguous views (transpose, narrow, expand), size-1 and empty
 * dims. Tolerances: elementwise 1e-5 relative (the native exp/tanh/sigmoid are <= 3 ulp, the
 * reference rounds a double result), reductions 1e-5 relative with an atol scaled by the
 * magnitude of the terms, GEMM 1e-4 * sqrt(K) relative to the size of the products.
 */
class NativeParityTest {
    static Backend nat;
    static final Backend REF = ReferenceBackend.INSTANCE;

    /** Shapes of the outputs: vector runs with remainders, size-1 and empty dims, a scalar. */
    static final int[][] SHAPES = {{3, 5, 4}, {2, 1, 37}, {1000}, {17, 33}, {4, 0, 3}, {}, {1, 1}, {6, 130}};

    @BeforeAll
    static void load() {
        nat = Backends.byName("native");
    }

    interface Op {
        void run(Backend be, Tensor out);
    }

    /** Runs op on both backends into fresh zero tensors of {@code shape} and compares. */
    static void parity(String name, int[] shape, Op op, double rtol, double atol) {
        try (Scope s = Scope.open()) {
            Tensor outN = Tensor.zeros(shape);
            Tensor outR = Tensor.zeros(shape);
            op.run(nat, outN);
            op.run(REF, outR);
            assertClose(outN, outR, rtol, atol, name);
        }
    }

    /** Views of logical shape {@code s}: contiguous, transposed, narrowed, broadcast (stride 0), permuted. */
    static List<Tensor> views(Generator g, int[] s, float lo, float hi) {
        List<Tensor> v = new ArrayList<>();
        v.add(Tensor.uniform(g, lo, hi, s));
        int r = s.length;
        if (r >= 2) {
            int[] t = s.clone();
            t[r - 2] = s[r - 1];
            t[r - 1] = s[r - 2];
            v.add(Tensor.uniform(g, lo, hi, t).transpose(r - 2, r - 1));
        }
        if (r >= 1) {
            int[] w = s.clone();
            w[r - 1] = s[r - 1] + 3;
            v.add(Tensor.uniform(g, lo, hi, w).narrow(r - 1, 2, s[r - 1]));
            int[] one = s.clone();
            one[0] = 1;
            v.add(Tensor.uniform(g, lo, hi, one).expand(s));
        }
        if (r >= 3) {
            int[] p = {s[2], s[0], s[1]};
            v.add(Tensor.uniform(g, lo, hi, p).permute(1, 2, 0));
        }
        return v;
    }

    static String name(Object op, int[] shape, int variant) {
        return op + " " + java.util.Arrays.toString(shape) + " view " + variant;
    }

    @Test
    void unaryOps() {
        Generator g = new Generator(1);
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RECIPROCAL;
            float lo = positive ? 0.05f : -6f;
            for (int[] s : SHAPES) {
                try (Scope sc = Scope.open()) {
                    List<Tensor> xs = views(g, s, lo, 6f);
                    for (int i = 0; i < xs.size(); i++) {
                        Tensor x = xs.get(i);
                        parity(name(op, s, i), s, (be, out) -> Direct.on(be).unary(op, out, x), 1e-5, 1e-6);
                    }
                }
            }
        }
    }

    @Test
    void unaryInPlaceAndStridedOut() {
        Generator g = new Generator(2);
        try (Scope sc = Scope.open()) {
            Tensor base = Tensor.randn(g, 6, 9);
            Tensor n = base.copy();
            Tensor r = base.copy();
            Direct.on(nat).unary(UnaryOp.TANH, n.narrow(1, 1, 5), n.narrow(1, 1, 5));
            Direct.on(REF).unary(UnaryOp.TANH, r.narrow(1, 1, 5), r.narrow(1, 1, 5));
            assertClose(n, r, 1e-5, 1e-6, "tanh in place on a narrowed view");
            Tensor tn = Tensor.zeros(9, 6);
            Tensor tr = Tensor.zeros(9, 6);
            Direct.on(nat).unary(UnaryOp.EXP, tn.transpose(0, 1), base);
            Direct.on(REF).unary(UnaryOp.EXP, tr.transpose(0, 1), base);
            assertClose(tn, tr, 1e-5, 1e-6, "exp into a transposed out");
        }
    }

    @Test
    void binaryOps() {
        Generator g = new Generator(3);
        for (BinaryOp op : BinaryOp.values()) {
            boolean positive = op == BinaryOp.POW || op == BinaryOp.DIV || op == BinaryOp.RDIV;
            float lo = positive ? 0.1f : -3f;
            for (int[] s : SHAPES) {
                try (Scope sc = Scope.open()) {
                    List<Tensor> as = views(g, s, lo, 3f);
                    List<Tensor> bs = views(g, s, lo, 3f);
                    for (int i = 0; i < as.size(); i++) {
                        Tensor a = as.get(i);
                        Tensor b = bs.get((i + 1) % bs.size());
                        parity(name(op, s, i), s, (be, out) -> Direct.on(be).binary(op, out, a, b), 1e-5, 1e-6);
                        parity(name(op, s, i) + " scalar", s, (be, out) -> Direct.on(be).binaryScalar(op, out, a, 1.7f), 1e-5, 1e-6);
                        // equal operands exercise EQ/GE/LE's true branch
                        parity(name(op, s, i) + " self", s, (be, out) -> Direct.on(be).binary(op, out, a, a), 1e-5, 1e-6);
                    }
                }
            }
        }
    }

    @Test
    void nanPropagation() {
        try (Scope sc = Scope.open()) {
            Tensor a = Tensor.of(1f, Float.NaN, 3f, -0f, Float.POSITIVE_INFINITY, -100f, 100f, 0f);
            Tensor b = Tensor.of(Float.NaN, 2f, 1f, 0f, 1f, 5f, -5f, 0f);
            for (BinaryOp op : BinaryOp.values()) {
                parity("nan " + op, a.shape(), (be, out) -> Direct.on(be).binary(op, out, a, b), 1e-6, 0);
            }
            for (UnaryOp op : UnaryOp.values()) {
                parity("special " + op, a.shape(), (be, out) -> Direct.on(be).unary(op, out, a), 1e-5, 1e-30);
            }
        }
    }

    @Test
    void addScaledAndWhere() {
        Generator g = new Generator(4);
        for (int[] s : SHAPES) {
            try (Scope sc = Scope.open()) {
                List<Tensor> as = views(g, s, -2f, 2f);
                List<Tensor> bs = views(g, s, -2f, 2f);
                List<Tensor> cs = views(g, s, -1f, 1f);
                for (int i = 0; i < as.size(); i++) {
                    Tensor a = as.get(i);
                    Tensor b = bs.get((i + 2) % bs.size());
                    Tensor c = cs.get((i + 1) % cs.size()).gt(0f);
                    parity(name("addScaled", s, i), s, (be, out) -> Direct.on(be).addScaled(out, a, b, -0.37f), 1e-6, 1e-7);
                    parity(name("where", s, i), s, (be, out) -> Direct.on(be).where(out, c, a, b), 0, 0);
                }
                // out aliasing a, as Tensor.addInPlace does
                Tensor n = Tensor.randn(g, s);
                Tensor r = n.copy();
                Tensor b = Tensor.randn(g, s);
                Direct.on(nat).addScaled(n, n, b, 2f);
                Direct.on(REF).addScaled(r, r, b, 2f);
                assertClose(n, r, 1e-6, 1e-7, "addScaled in place " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void copyFillReadWrite() {
        Generator g = new Generator(5);
        for (int[] s : SHAPES) {
            try (Scope sc = Scope.open()) {
                List<Tensor> xs = views(g, s, -1f, 1f);
                for (int i = 0; i < xs.size(); i++) {
                    Tensor x = xs.get(i);
                    parity(name("copy", s, i), s, (be, out) -> Direct.on(be).copy(out, x), 0, 0);
                    float[] dn = new float[(int) x.numel() + 3];
                    float[] dr = new float[(int) x.numel() + 3];
                    Direct.on(nat).read(x, dn, 3);
                    Direct.on(REF).read(x, dr, 3);
                    assertClose(dn, dr, new int[] {dn.length}, 0, 0, name("read", s, i));
                    float[] src = new float[(int) x.numel() + 1];
                    g.uniform(src, -1f, 1f);
                    parity(name("write", s, i), s, (be, out) -> Direct.on(be).write(out, src, 1), 0, 0);
                }
                parity("fill " + java.util.Arrays.toString(s), s, (be, out) -> Direct.on(be).fill(out, 2.5f), 0, 0);
            }
        }
        try (Scope sc = Scope.open()) {
            // strided out: fill and copy into a transposed / narrowed view of a bigger tensor
            Tensor n = Tensor.randn(g, 5, 8);
            Tensor r = n.copy();
            Tensor src = Tensor.randn(g, 3, 5);
            Direct.on(nat).copy(n.narrow(1, 2, 3).transpose(0, 1), src);
            Direct.on(REF).copy(r.narrow(1, 2, 3).transpose(0, 1), src);
            Direct.on(nat).fill(n.narrow(1, 6, 2), -1f);
            Direct.on(REF).fill(r.narrow(1, 6, 2), -1f);
            assertClose(n, r, 0, 0, "copy/fill into strided views");
            // overlapping copy within one storage: shift a row right by one column
            Direct.on(nat).copy(n.narrow(1, 1, 7), n.narrow(1, 0, 7));
            Direct.on(REF).copy(r.narrow(1, 1, 7), r.narrow(1, 0, 7));
            assertClose(n, r, 0, 0, "overlapping copy");
        }
    }

    @Test
    void reductions() {
        Generator g = new Generator(6);
        int[][] dims = {{3, 7, 5}, {1, 1000, 1}, {4, 33, 1}, {1, 1, 9}, {2, 1, 3}, {5, 257, 3}, {0, 4, 2}, {3, 0, 2}};
        for (int[] d : dims) {
            int outer = d[0], n = d[1], inner = d[2];
            try (Scope sc = Scope.open()) {
                Tensor x = Tensor.randn(g, outer, n, inner);
                // ties for argmax/argmin: values rounded to a coarse grid
                Tensor tied = x.mul(2f).add(0.5f).relu().sqrt().mul(0f).add(x.gt(0f));
                int[] os = {outer, inner};
                for (ReduceOp op : ReduceOp.values()) {
                    if (n == 0 && op != ReduceOp.SUM) {
                        continue;
                    }
                    String nm = op + " " + java.util.Arrays.toString(d);
                    parity(nm, os, (be, out) -> Direct.on(be).reduce(op, out, x, outer, n, inner), 1e-5, 1e-5 * Math.sqrt(n));
                    parity(nm + " ties", os, (be, out) -> Direct.on(be).reduce(op, out, tied, outer, n, inner), 0, 1e-5 * n);
                }
                for (boolean log : new boolean[] {false, true}) {
                    Tensor big = x.mul(10f);
                    parity("softmax log=" + log + " " + java.util.Arrays.toString(d), x.shape(),
                            (be, out) -> Direct.on(be).softmax(out, big, outer, n, inner, log), 1e-5, 1e-6);
                }
                assertEquals(Direct.on(REF).sumAll(x), Direct.on(nat).sumAll(x), 1e-9 * Math.max(1, x.numel()), "sumAll " + java.util.Arrays.toString(d));
                assertEquals(Direct.on(REF).sumSquares(x), Direct.on(nat).sumSquares(x), 1e-9 * Math.max(1, x.numel()), "sumSquares");
            }
        }
        try (Scope sc = Scope.open()) {
            Tensor x = Tensor.of(1f, Float.NaN, 3f, 2f, 5f, Float.NaN).reshape(2, 3);
            for (ReduceOp op : ReduceOp.values()) {
                parity("nan " + op, new int[] {2}, (be, out) -> Direct.on(be).reduce(op, out, x, 2, 3, 1), 0, 0);
            }
        }
    }

    @Test
    void softmaxInPlace() {
        Generator g = new Generator(7);
        try (Scope sc = Scope.open()) {
            Tensor n = Tensor.randn(g, 4, 300).mul(5f);
            Tensor r = n.copy();
            Direct.on(nat).softmax(n, n, 4, 300, 1, true);
            Direct.on(REF).softmax(r, r, 4, 300, 1, true);
            assertClose(n, r, 1e-5, 1e-6, "log-softmax in place");
        }
    }

    @Test
    void gemmAllTransposes() {
        Generator g = new Generator(8);
        int[][] mnk = {{7, 5, 3}, {1, 1024, 256}, {1, 33, 17}, {3, 65, 40}, {32, 128, 96}, {64, 70, 1}, {5, 4, 0},
            {100, 1, 50}};
        for (int[] d : mnk) {
            int m = d[0], n = d[1], k = d[2];
            for (int ta = 0; ta < 2; ta++) {
                for (int tb = 0; tb < 2; tb++) {
                    for (int batch : new int[] {1, 3}) {
                        gemmCase(g, ta == 1, tb == 1, m, n, k, batch, 0f);
                    }
                    gemmCase(g, ta == 1, tb == 1, m, n, k, 2, 0.5f);
                }
            }
        }
    }

    /** op(A) (m,k), op(B) (k,n) stored with leading dims 3 wider than needed, batch stride padded. */
    static void gemmCase(Generator g, boolean ta, boolean tb, int m, int n, int k, int batch, float beta) {
        try (Scope sc = Scope.open()) {
            int aRows = ta ? k : m, aCols = ta ? m : k;
            int bRows = tb ? n : k, bCols = tb ? k : n;
            int lda = aCols + 3, ldb = bCols + 3, ldc = n + 2;
            long sA = (long) aRows * lda + 5, sB = (long) bRows * ldb + 1, sC = (long) m * ldc + 4;
            Tensor a = Tensor.randn(g, (int) (sA * batch + 2));
            Tensor b = Tensor.randn(g, (int) (sB * batch + 2));
            Tensor c0 = Tensor.randn(g, (int) (sC * batch + 1));
            Tensor cn = c0.copy();
            Tensor cr = c0.copy();
            Direct.on(nat).gemm(ta, tb, m, n, k, 0.75f, a.storage(), 1, lda, sA, b.storage(), 2, ldb, sB, beta, cn.storage(), 1, ldc, sC, batch);
            Direct.on(REF).gemm(ta, tb, m, n, k, 0.75f, a.storage(), 1, lda, sA, b.storage(), 2, ldb, sB, beta, cr.storage(), 1, ldc, sC, batch);
            assertClose(cn, cr, 1e-4, 1e-4 * Math.sqrt(Math.max(k, 1)),
                    String.format("gemm ta=%b tb=%b m=%d n=%d k=%d batch=%d beta=%g", ta, tb, m, n, k, batch, beta));
        }
    }

    @Test
    void matmulThroughTensor() {
        Generator g = new Generator(9);
        try (Scope sc = Scope.open()) {
            Tensor a = Tensor.randn(g, 4, 6, 10);
            Tensor b = Tensor.randn(g, 12, 10);
            Tensor n;
            Tensor r;
            try (var o = Backends.use(nat)) {
                n = a.matmul(b.t());
            }
            try (var o = Backends.use(REF)) {
                r = a.matmul(b.t());
            }
            assertClose(n, r, 1e-4, 1e-4 * Math.sqrt(10), "batched matmul with broadcast transposed B");
        }
    }

    @Test
    void indexing() {
        Generator g = new Generator(10);
        int[][] dims = {{2, 7, 3}, {1, 50, 1}, {3, 4, 129}, {1, 5, 0}};
        for (int[] d : dims) {
            int outer = d[0], n = d[1], inner = d[2];
            try (Scope sc = Scope.open()) {
                Tensor x = Tensor.randn(g, outer, n, inner);
                int[] idx = new int[9];
                for (int j = 0; j < idx.length; j++) {
                    idx[j] = g.nextInt(n);    // repeats are likely: indexAdd must accumulate
                }
                String nm = java.util.Arrays.toString(d);
                parity("indexSelect " + nm, new int[] {outer, idx.length, inner},
                        (be, out) -> Direct.on(be).indexSelect(out, x, outer, n, inner, idx), 0, 0);
                Tensor gi = Tensor.randn(g, outer, idx.length, inner);
                parity("indexAdd " + nm, x.shape(), (be, out) -> {
                    Direct.on(be).copy(out, x);
                    Direct.on(be).indexAdd(out, gi, outer, n, inner, idx);
                }, 1e-6, 1e-6);
                int m = 4;
                int[] gidx = new int[outer * m * inner];
                for (int j = 0; j < gidx.length; j++) {
                    gidx[j] = g.nextInt(n);
                }
                parity("gather " + nm, new int[] {outer, m, inner}, (be, out) -> Direct.on(be).gather(out, x, outer, n, inner, m, gidx), 0, 0);
                Tensor gg = Tensor.randn(g, outer, m, inner);
                parity("scatterAdd " + nm, x.shape(), (be, out) -> {
                    Direct.on(be).copy(out, x);
                    Direct.on(be).scatterAdd(out, gg, outer, n, inner, m, gidx);
                }, 1e-6, 1e-6);
            }
        }
    }

    @Test
    void crossEntropy() {
        Generator g = new Generator(11);
        int[][] rc = {{8, 5}, {3, 1000}, {1, 1}, {33, 17}};
        for (int[] d : rc) {
            int rows = d[0], classes = d[1];
            try (Scope sc = Scope.open()) {
                Tensor logits = Tensor.randn(g, rows, classes).mul(4f);
                int[] target = new int[rows];
                for (int r = 0; r < rows; r++) {
                    target[r] = r % 3 == 1 ? -100 : g.nextInt(classes);
                }
                String nm = java.util.Arrays.toString(d);
                float scale = 1f / rows;
                parity("crossEntropy loss " + nm, new int[] {rows},
                        (be, out) -> Direct.on(be).crossEntropy(out, null, logits, target, -100, scale), 1e-5, 1e-6);
                parity("crossEntropy dlogits " + nm, new int[] {rows, classes}, (be, out) -> {
                    try (Tensor loss = Tensor.zeros(rows)) {
                        Direct.on(be).crossEntropy(loss, out, logits, target, -100, scale);
                    }
                }, 1e-5, 1e-7);
            }
        }
    }

    @Test
    void optimizerSteps() {
        Generator g = new Generator(12);
        List<OptimizerStep> steps = List.of(
                new OptimizerStep(OptimizerStep.Kind.SGD, 0.1f, 0f, 0f, false, 0f, 0f, 0f, 0f, 1, true),
                new OptimizerStep(OptimizerStep.Kind.SGD, 0.05f, 0f, 0f, false, 0.01f, 0f, 0f, 0f, 1, true),
                new OptimizerStep(OptimizerStep.Kind.SGD, 0.1f, 0.9f, 0f, false, 0f, 0f, 0f, 0f, 1, true),
                new OptimizerStep(OptimizerStep.Kind.SGD, 0.1f, 0.9f, 0.1f, false, 1e-3f, 0f, 0f, 0f, 2, false),
                new OptimizerStep(OptimizerStep.Kind.SGD, 0.1f, 0.9f, 0f, true, 1e-3f, 0f, 0f, 0f, 3, false),
                new OptimizerStep(OptimizerStep.Kind.ADAM, 1e-3f, 0f, 0f, false, 0f, 0.9f, 0.999f, 1e-8f, 1, true),
                new OptimizerStep(OptimizerStep.Kind.ADAM, 1e-2f, 0f, 0f, false, 0.1f, 0.8f, 0.99f, 1e-6f, 7, false),
                new OptimizerStep(OptimizerStep.Kind.ADAMW, 1e-3f, 0f, 0f, false, 0.01f, 0.9f, 0.999f, 1e-8f, 3, false));
        for (OptimizerStep s : steps) {
            for (int numel : new int[] {1, 37, 1000}) {
                try (Scope sc = Scope.open()) {
                    Tensor p = Tensor.randn(g, numel);
                    Tensor grad = Tensor.randn(g, numel);
                    Tensor m = Tensor.randn(g, numel).mul(0.1f);
                    Tensor v = Tensor.rand(g, numel).mul(0.01f);
                    Tensor[] n = {p.copy(), m.copy(), v.copy()};
                    Tensor[] r = {p.copy(), m.copy(), v.copy()};
                    boolean usesV = s.kind() != OptimizerStep.Kind.SGD;
                    Direct.on(nat).optimizerStep(s, n[0], grad, n[1], usesV ? n[2] : null);
                    Direct.on(REF).optimizerStep(s, r[0], grad, r[1], usesV ? r[2] : null);
                    String nm = s + " numel=" + numel;
                    assertClose(n[0], r[0], 1e-6, 1e-7, nm + " param");
                    assertClose(n[1], r[1], 1e-6, 1e-7, nm + " state1");
                    assertClose(n[2], r[2], 1e-6, 1e-7, nm + " state2");
                }
            }
        }
    }

    @Test
    void isTheDefaultHere() {
        assertTrue(nat.isAvailable(), nat.unavailableReason());
        assertEquals("native", Backends.cpu().name(), "default CPU backend in the test JVM");
    }
}
