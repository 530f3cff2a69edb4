package org.rnn4j;

import org.rnn4j.backend.Backend;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.Pins;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.UnaryOp;

/**
 * The one place where the tensor API calls its backend: each method pins the tensors' storages
 * for the call ({@link Pins}), hands the backend checked views, and releases them after. The
 * backend is the one for the first (output) tensor's device on this thread.
 */
final class Kernels {
    private Kernels() {
    }

    private static Backend be(Tensor t) {
        return t.backend();
    }

    static void copy(Tensor out, Tensor src) {
        try (Pins p = new Pins()) {
            be(out).copy(out.pin(p), src.pin(p));
        }
    }

    static void fill(Tensor out, float value) {
        try (Pins p = new Pins()) {
            be(out).fill(out.pin(p), value);
        }
    }

    static void read(Tensor src, float[] dst, int dstOffset) {
        try (Pins p = new Pins()) {
            be(src).read(src.pin(p), dst, dstOffset);
        }
    }

    static void write(Tensor out, float[] src, int srcOffset) {
        try (Pins p = new Pins()) {
            be(out).write(out.pin(p), src, srcOffset);
        }
    }

    static void unary(UnaryOp op, Tensor out, Tensor x) {
        try (Pins p = new Pins()) {
            be(out).unary(op, out.pin(p), x.pin(p));
        }
    }

    static void binary(BinaryOp op, Tensor out, Tensor a, Tensor b) {
        try (Pins p = new Pins()) {
            be(out).binary(op, out.pin(p), a.pin(p), b.pin(p));
        }
    }

    static void binaryScalar(BinaryOp op, Tensor out, Tensor a, float scalar) {
        try (Pins p = new Pins()) {
            be(out).binaryScalar(op, out.pin(p), a.pin(p), scalar);
        }
    }

    static void addScaled(Tensor out, Tensor a, Tensor b, float alpha) {
        try (Pins p = new Pins()) {
            be(out).addScaled(out.pin(p), a.pin(p), b.pin(p), alpha);
        }
    }

    static void where(Tensor out, Tensor cond, Tensor a, Tensor b) {
        try (Pins p = new Pins()) {
            be(out).where(out.pin(p), cond.pin(p), a.pin(p), b.pin(p));
        }
    }

    static void reduce(ReduceOp op, Tensor out, Tensor x, int outer, int n, int inner) {
        try (Pins p = new Pins()) {
            be(out).reduce(op, out.pin(p), x.pin(p), outer, n, inner);
        }
    }

    static void softmax(Tensor out, Tensor x, int outer, int n, int inner, boolean log) {
        try (Pins p = new Pins()) {
            be(out).softmax(out.pin(p), x.pin(p), outer, n, inner, log);
        }
    }

    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, int lda, long strideA,
                     Tensor b, int ldb, long strideB, float beta, Tensor c, int ldc, long strideC, int batch) {
        try (Pins p = new Pins()) {
            be(c).gemm(transA, transB, m, n, k, alpha, a.pin(p), lda, strideA, b.pin(p), ldb, strideB, beta, c.pin(p), ldc,
                    strideC, batch);
        }
    }

    static void indexSelect(Tensor out, Tensor x, int outer, int n, int inner, int[] idx) {
        try (Pins p = new Pins()) {
            be(out).indexSelect(out.pin(p), x.pin(p), outer, n, inner, idx);
        }
    }

    static void indexAdd(Tensor out, Tensor g, int outer, int n, int inner, int[] idx) {
        try (Pins p = new Pins()) {
            be(out).indexAdd(out.pin(p), g.pin(p), outer, n, inner, idx);
        }
    }

    static void gather(Tensor out, Tensor x, int outer, int n, int inner, int m, int[] idx) {
        try (Pins p = new Pins()) {
            be(out).gather(out.pin(p), x.pin(p), outer, n, inner, m, idx);
        }
    }

    static void scatterAdd(Tensor out, Tensor g, int outer, int n, int inner, int m, int[] idx) {
        try (Pins p = new Pins()) {
            be(out).scatterAdd(out.pin(p), g.pin(p), outer, n, inner, m, idx);
        }
    }
}
