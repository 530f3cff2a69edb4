package org.rnn4j.it;

import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.UnaryOp;
import org.rnn4j.backend.View;

/**
 * Calls a backend directly with tensors, as the tests of the SPI do: each tensor becomes an
 * (unpinned) {@link View}; the test keeps its tensors open for the call.
 */
final class Direct {
    private final Backend b;

    private Direct(Backend b) {
        this.b = b;
    }

    static Direct on(Backend b) {
        return new Direct(b);
    }

    static View v(Tensor t) {
        return t == null ? null : View.of(t.storage(), t.offset(), t.shape(), t.strides());
    }

    static View[] v(Tensor... ts) {
        if (ts == null) {
            return null;
        }
        View[] out = new View[ts.length];
        for (int i = 0; i < ts.length; i++) {
            out[i] = v(ts[i]);
        }
        return out;
    }

    void copy(Tensor out, Tensor src) {
        b.copy(v(out), v(src));
    }

    void fill(Tensor out, float value) {
        b.fill(v(out), value);
    }

    void read(Tensor src, float[] dst, int off) {
        b.read(v(src), dst, off);
    }

    void write(Tensor out, float[] src, int off) {
        b.write(v(out), src, off);
    }

    void unary(UnaryOp op, Tensor out, Tensor x) {
        b.unary(op, v(out), v(x));
    }

    void binary(BinaryOp op, Tensor out, Tensor a, Tensor c) {
        b.binary(op, v(out), v(a), v(c));
    }

    void binaryScalar(BinaryOp op, Tensor out, Tensor a, float s) {
        b.binaryScalar(op, v(out), v(a), s);
    }

    void addScaled(Tensor out, Tensor a, Tensor c, float alpha) {
        b.addScaled(v(out), v(a), v(c), alpha);
    }

    void where(Tensor out, Tensor cond, Tensor a, Tensor c) {
        b.where(v(out), v(cond), v(a), v(c));
    }

    void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        b.reduce(op, v(out), v(x), outer, n, inner);
    }

    void softmax(Tensor out, Tensor x, int outer, int n, int inner, boolean log) {
        b.softmax(v(out), v(x), outer, n, inner, log);
    }

    double sumAll(Tensor x) {
        return b.sumAll(v(x));
    }

    double sumSquares(Tensor... xs) {
        return b.sumSquares(v(xs));
    }

    void scale(Tensor[] xs, float f) {
        b.scale(v(xs), f);
    }

    void gemm(boolean ta, boolean tb, int m, int n, int k, float alpha, Storage a, long offA, int lda, long sA,
              Storage c1, long offB, int ldb, long sB, float beta, Storage c, long offC, int ldc, long sC, int batch) {
        b.gemm(ta, tb, m, n, k, alpha, at(a, offA), lda, sA, at(c1, offB), ldb, sB, beta, at(c, offC), ldc, sC, batch);
    }

    /** The whole storage of t seen from element {@code off} (gemm addresses by geometry, not by shape). */
    static View at(Storage s, long off) {
        long n = s.numel();
        return View.of(s, off, new int[] {(int) Math.max(0, n - off)}, new int[] {1});
    }

    void indexSelect(Tensor out, Tensor x, int outer, int n, int inner, int[] idx) {
        b.indexSelect(v(out), v(x), outer, n, inner, idx);
    }

    void indexAdd(Tensor out, Tensor g, int outer, int n, int inner, int[] idx) {
        b.indexAdd(v(out), v(g), outer, n, inner, idx);
    }

    void gather(Tensor out, Tensor x, int outer, int n, int inner, int m, int[] idx) {
        b.gather(v(out), v(x), outer, n, inner, m, idx);
    }

    void scatterAdd(Tensor out, Tensor g, int outer, int n, int inner, int m, int[] idx) {
        b.scatterAdd(v(out), v(g), outer, n, inner, m, idx);
    }

    void crossEntropy(Tensor loss, Tensor d, Tensor logits, int[] target, int ignore, float scale) {
        b.crossEntropy(v(loss), v(d), v(logits), target, ignore, scale);
    }

    void optimizerStep(OptimizerStep s, Tensor p, Tensor g, Tensor s1, Tensor s2) {
        b.optimizerStep(s, v(p), v(g), v(s1), v(s2));
    }

    void optimizerStep(OptimizerStep s, Tensor[] p, Tensor[] g, Tensor[] s1, Tensor[] s2) {
        b.optimizerStep(s, v(p), v(g), v(s1), v(s2));
    }
}
