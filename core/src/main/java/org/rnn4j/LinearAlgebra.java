package org.rnn4j;

import static org.rnn4j.Shapes.broadcastShapes;
import static org.rnn4j.Shapes.numel;
import static org.rnn4j.Shapes.prod;
import static org.rnn4j.Tensor.record;
import static org.rnn4j.Tensor.zeros;
import static org.rnn4j.Views.contiguousCopy;
import static org.rnn4j.Views.sumTo;

import java.util.Arrays;

/** Matrix products (torch.matmul) on the backend's batched gemm, with the backward. */
final class LinearAlgebra {
    private LinearAlgebra() {
    }

    /** How gemm can address the matrices in the last two dims of an operand. */
    private enum Layout {
        /** Row-major: unit column stride, rows {@code ld} apart. */
        ROW_MAJOR,
        /** Column-major, i.e. the transpose of a row-major matrix: gemm reads it with its trans flag. */
        TRANSPOSED,
        /** Neither: the operand has to be copied contiguous first. */
        COPY_NEEDED
    }

    static Tensor matmul(Tensor self, Tensor other) {
        int[] shape = self.shapeRef();
        self.ensureOpen("matmul");
        other.ensureOpen("matmul");
        self.requireSameDevice("matmul", "other", other);
        if (shape.length == 0 || other.shapeRef().length == 0) {
            throw new IllegalArgumentException("matmul: both arguments need at least 1 dim, got " + Arrays.toString(shape)
                    + " and " + Arrays.toString(other.shapeRef()));
        }
        if (shape.length == 1 && other.shapeRef().length == 1) {
            return self.unsqueeze(0).matmul(other.unsqueeze(1)).reshape();
        }
        if (shape.length == 1) {
            return self.unsqueeze(0).matmul(other).squeeze(-2);
        }
        if (other.shapeRef().length == 1) {
            return self.matmul(other.unsqueeze(1)).squeeze(-1);
        }
        int m = shape[shape.length - 2];
        int k = shape[shape.length - 1];
        int k2 = other.shapeRef()[other.shapeRef().length - 2];
        int n = other.shapeRef()[other.shapeRef().length - 1];
        if (k != k2) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: self " + Arrays.toString(shape) + " has "
                    + k + " columns, other " + Arrays.toString(other.shapeRef()) + " has " + k2 + " rows");
        }
        int[] batchA = Arrays.copyOf(shape, shape.length - 2);
        int[] batchB = Arrays.copyOf(other.shapeRef(), other.shapeRef().length - 2);
        int[] batch = broadcastShapes("matmul: batch dims of 'self' and 'other'", batchA, batchB);
        int nb = prod(batch, 0, batch.length);
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Tensor out = zeros(self.device(), outShape);
        if (numel(outShape) > 0) {
            Tensor a = gemmOperand(self, batch, m, k);
            Tensor b = gemmOperand(other, batch, k, n);
            Layout la = layout(a);
            Layout lb = layout(b);
            long sa = nb == 1 ? 0 : batchStride(a);
            long sb = nb == 1 ? 0 : batchStride(b);
            Kernels.gemm(la == Layout.TRANSPOSED, lb == Layout.TRANSPOSED, m, n, k, 1f, a, ld(a, la), sa, b, ld(b, lb), sb, 0f,
                    out, Math.max(n, 1), (long) m * n, nb);
        }
        return record(out, "MatMul", g -> new Tensor[] {
            self.requiresGrad() ? sumTo(g.matmul(other.transpose(-1, -2)), self.shapeRef()) : null,
            other.requiresGrad() ? sumTo(self.transpose(-1, -2).matmul(g), other.shapeRef()) : null}, self, other);
    }

    /** Broadcasts the batch dims and returns a view whose matrices gemm can address with one stride. */
    private static Tensor gemmOperand(Tensor t, int[] batch, int rows, int cols) {
        int[] full = Arrays.copyOf(batch, batch.length + 2);
        full[batch.length] = rows;
        full[batch.length + 1] = cols;
        Tensor e = t.broadcastTo("matmul", "operand", full);
        if (layout(e) != Layout.COPY_NEEDED && (batch.length == 0 || batchStride(e) != Long.MIN_VALUE)) {
            return e;
        }
        return contiguousCopy(e);
    }

    /** How gemm can address the last two dims of {@code t}: row-major, column-major (transposed), or neither. */
    private static Layout layout(Tensor t) {
        int r = t.shapeRef().length;
        int rows = t.shapeRef()[r - 2];
        int cols = t.shapeRef()[r - 1];
        int sr = t.stridesRef()[r - 2];
        int sc = t.stridesRef()[r - 1];
        if ((sc == 1 || cols <= 1) && (rows <= 1 || sr >= Math.max(cols, 1))) {
            return Layout.ROW_MAJOR;
        }
        if ((sr == 1 || rows <= 1) && (cols <= 1 || sc >= Math.max(rows, 1))) {
            return Layout.TRANSPOSED;
        }
        return Layout.COPY_NEEDED;
    }

    /** Leading dimension for gemm given the layout from {@link #layout}. */
    private static int ld(Tensor t, Layout layout) {
        int r = t.shapeRef().length;
        int rows = t.shapeRef()[r - 2];
        int cols = t.shapeRef()[r - 1];
        if (layout == Layout.ROW_MAJOR) {
            return rows <= 1 ? Math.max(cols, 1) : t.stridesRef()[r - 2];
        }
        return cols <= 1 ? Math.max(rows, 1) : t.stridesRef()[r - 1];
    }

    /** The one stride that steps between matrices of the batch dims, or Long.MIN_VALUE if there is none. */
    private static long batchStride(Tensor t) {
        int r = t.shapeRef().length;
        long stride = Long.MIN_VALUE;
        long nextExpected = Long.MIN_VALUE;
        for (int d = r - 3; d >= 0; d--) {
            if (t.shapeRef()[d] == 1) {
                continue;
            }
            if (stride == Long.MIN_VALUE) {
                stride = t.stridesRef()[d];
                nextExpected = stride * t.shapeRef()[d];
            } else if (t.stridesRef()[d] == nextExpected) {
                nextExpected *= t.shapeRef()[d];
            } else {
                return Long.MIN_VALUE;
            }
        }
        return stride == Long.MIN_VALUE ? 0 : stride;
    }
}
