package org.rnn4j;

import static org.rnn4j.Shapes.normDim;
import static org.rnn4j.Shapes.prod;
import static org.rnn4j.Tensor.record;
import static org.rnn4j.Tensor.zeros;
import static org.rnn4j.Views.contiguousNoGrad;
import static org.rnn4j.Views.dropCopy;
import static org.rnn4j.Views.squeezeNoGrad;

import java.util.Arrays;
import org.rnn4j.backend.ReduceOp;

/** Reductions (sum, mean, max, min, argmax, argmin) and softmax / log-softmax, each with its backward. */
final class Reductions {
    private Reductions() {
    }

    static Tensor sum(Tensor self) {
        self.ensureOpen("sum");
        Tensor flat = contiguousNoGrad(self);
        Tensor out = zeros(self.device());
        if (self.numel() > 0) {
            Kernels.reduce(ReduceOp.SUM, out, flat, 1, Math.toIntExact(self.numel()), 1);
        }
        dropCopy(self, flat);
        int[] s = self.shapeRef().clone();
        return record(out, "Sum", g -> new Tensor[] {contiguousNoGrad(g.reshape(ones(s.length)).expand(s))}, self);
    }

    private static int[] ones(int n) {
        int[] r = new int[n];
        Arrays.fill(r, 1);
        return r;
    }

    static Tensor sum(Tensor self, int dim, boolean keepDim) {
        return reduceDim(self, ReduceOp.SUM, dim, keepDim, "sum");
    }

    static Tensor mean(Tensor self) {
        long n = self.numel();
        return sum(self).div((float) n);
    }

    static Tensor mean(Tensor self, int dim, boolean keepDim) {
        int[] shape = self.shapeRef();
        int d = normDim("mean", dim, shape.length);
        return sum(self, d, keepDim).div((float) shape[d]);
    }

    static Tensor max(Tensor self, int dim, boolean keepDim) {
        return reduceDim(self, ReduceOp.MAX, dim, keepDim, "max");
    }

    static Tensor min(Tensor self, int dim, boolean keepDim) {
        return reduceDim(self, ReduceOp.MIN, dim, keepDim, "min");
    }

    static Tensor max(Tensor self) {
        return self.flatten().max(0, false).detach();
    }

    static Tensor argmax(Tensor self, int dim, boolean keepDim) {
        return reduceDim(self, ReduceOp.ARGMAX, dim, keepDim, "argmax");
    }

    static Tensor argmin(Tensor self, int dim, boolean keepDim) {
        return reduceDim(self, ReduceOp.ARGMIN, dim, keepDim, "argmin");
    }

    private static Tensor reduceDim(Tensor self, ReduceOp op, int dim, boolean keepDim, String name) {
        int[] shape = self.shapeRef();
        self.ensureOpen(name);
        int d = normDim(name, dim, shape.length);
        int n = shape[d];
        if (n == 0 && op != ReduceOp.SUM) {
            throw new IllegalArgumentException(name + ": cannot reduce over dim " + d + " of size 0 in " + Arrays.toString(shape));
        }
        int outer = prod(shape, 0, d);
        int inner = prod(shape, d + 1, shape.length);
        int[] kept = shape.clone();
        kept[d] = 1;
        Tensor out = zeros(self.device(), kept);
        if (outer * inner > 0) {
            Tensor dense = contiguousNoGrad(self);
            Kernels.reduce(op, out, dense, outer, n, inner);
            dropCopy(self, dense);
        }
        Tensor result = keepDim ? out : squeezeNoGrad(out, d);
        int[] s = shape.clone();
        switch (op) {
            case SUM:
                return record(result, "Sum", g -> new Tensor[] {contiguousNoGrad((keepDim ? g : g.unsqueeze(d)).expand(s))}, self);
            case MAX:
            case MIN: {
                Tensor idx = reduceIndices(self, op == ReduceOp.MAX ? ReduceOp.ARGMAX : ReduceOp.ARGMIN, d, outer, n, inner);
                return record(result, op == ReduceOp.MAX ? "Max" : "Min", g -> {
                    Tensor z = zeros(g.device(), s);
                    int[] ix = idx.toIntArray();
                    Kernels.scatterAdd(z, contiguousNoGrad(keepDim ? g : g.unsqueeze(d)), outer, n, inner, 1, ix);
                    return new Tensor[] {z};
                }, self);
            }
            default:
                return result;
        }
    }

    private static Tensor reduceIndices(Tensor self, ReduceOp op, int d, int outer, int n, int inner) {
        int[] kept = self.shapeRef().clone();
        kept[d] = 1;
        Tensor out = zeros(self.device(), kept);
        Tensor dense = contiguousNoGrad(self);
        Kernels.reduce(op, out, dense, outer, n, inner);
        dropCopy(self, dense);
        return out;
    }

    static Tensor softmax(Tensor self, int dim) {
        return softmaxImpl(self, dim, false);
    }

    static Tensor logSoftmax(Tensor self, int dim) {
        return softmaxImpl(self, dim, true);
    }

    private static Tensor softmaxImpl(Tensor self, int dim, boolean log) {
        int[] shape = self.shapeRef();
        String name = log ? "log_softmax" : "softmax";
        self.ensureOpen(name);
        int d = normDim(name, dim, shape.length);
        int outer = prod(shape, 0, d);
        int inner = prod(shape, d + 1, shape.length);
        Tensor out = zeros(self.device(), shape);
        if (self.numel() > 0) {
            Tensor dense = contiguousNoGrad(self);
            Kernels.softmax(out, dense, outer, shape[d], inner, log);
            dropCopy(self, dense);
        }
        if (log) {
            // d/dx = g - softmax * sum(g)
            return record(out, "LogSoftmax", g -> new Tensor[] {g.sub(out.exp().mul(g.sum(d, true)))}, self);
        }
        // d/dx = y * (g - sum(g * y))
        return record(out, "Softmax", g -> new Tensor[] {out.mul(g.sub(g.mul(out).sum(d, true)))}, self);
    }
}
