package org.rnn4j;

import static org.rnn4j.Shapes.normDim;
import static org.rnn4j.Shapes.numel;
import static org.rnn4j.Shapes.prod;
import static org.rnn4j.Tensor.record;
import static org.rnn4j.Tensor.zeros;
import static org.rnn4j.Views.contiguousNoGrad;
import static org.rnn4j.Views.dropCopy;
import static org.rnn4j.Views.narrowNoGrad;

import java.util.Arrays;
import java.util.List;

/** Joining (concat, stack) and indexing (index_select, gather), each with its backward. */
final class JoinIndex {
    private JoinIndex() {
    }

    static Tensor concat(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("concat: argument 'tensors' is empty");
        }
        Tensor first = tensors.get(0).ensureOpen("concat");
        int d = normDim("concat", dim, first.shapeRef().length);
        int[] s = first.shapeRef().clone();
        int total = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i).ensureOpen("concat");
            first.requireSameDevice("concat", "tensors[" + i + "]", t);
            if (t.shapeRef().length != s.length) {
                throw new IllegalArgumentException("concat: tensors[" + i + "] has rank " + t.shapeRef().length + ", expected " + s.length);
            }
            for (int k = 0; k < s.length; k++) {
                if (k != d && t.shapeRef()[k] != s[k]) {
                    throw new IllegalArgumentException("concat: tensors[" + i + "] has shape " + Arrays.toString(t.shapeRef())
                            + ", expected " + Arrays.toString(s) + " except in dim " + d);
                }
            }
            total += t.shapeRef()[d];
        }
        s[d] = total;
        Tensor out = zeros(first.device(), s);
        int[] starts = new int[tensors.size()];
        int pos = 0;
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i);
            starts[i] = pos;
            if (t.numel() > 0) {
                Tensor dst = narrowNoGrad(out, d, pos, t.shapeRef()[d]);
                Kernels.copy(dst, t);
                dst.close();
            }
            pos += t.shapeRef()[d];
        }
        Tensor[] ins = tensors.toArray(new Tensor[0]);
        return record(out, "Cat", g -> {
            Tensor[] r = new Tensor[ins.length];
            for (int i = 0; i < ins.length; i++) {
                r[i] = ins[i].requiresGrad() ? g.narrow(d, starts[i], ins[i].shapeRef()[d]).contiguous() : null;
            }
            return r;
        }, ins);
    }

    static Tensor stack(List<Tensor> tensors, int dim) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("stack: argument 'tensors' is empty");
        }
        int rank = tensors.get(0).dim();
        int d = normDim("stack", dim, rank + 1);
        int[] s0 = tensors.get(0).shapeRef();
        Tensor[] parts = new Tensor[tensors.size()];
        for (int i = 0; i < parts.length; i++) {
            Tensor t = tensors.get(i).ensureOpen("stack");
            if (!Arrays.equals(t.shapeRef(), s0)) {
                throw new IllegalArgumentException("stack: tensors[" + i + "] has shape " + Arrays.toString(t.shapeRef())
                        + ", expected " + Arrays.toString(s0));
            }
            parts[i] = t.unsqueeze(d);
        }
        return concat(Arrays.asList(parts), d);
    }

    static Tensor indexSelect(Tensor self, int dim, int[] index) {
        int[] shape = self.shapeRef();
        self.ensureOpen("index_select");
        int d = normDim("index_select", dim, shape.length);
        for (int j = 0; j < index.length; j++) {
            if (index[j] < 0 || index[j] >= shape[d]) {
                throw new IndexOutOfBoundsException("index_select: index[" + j + "] = " + index[j]
                        + " out of range for dim " + d + " of size " + shape[d]);
            }
        }
        int outer = prod(shape, 0, d);
        int inner = prod(shape, d + 1, shape.length);
        int[] s = shape.clone();
        s[d] = index.length;
        Tensor out = zeros(self.device(), s);
        int[] idx = index.clone();
        if (numel(s) > 0) {
            Tensor dense = contiguousNoGrad(self);
            Kernels.indexSelect(out, dense, outer, shape[d], inner, idx);
            dropCopy(self, dense);
        }
        int[] full = shape.clone();
        return record(out, "IndexSelect", g -> {
            Tensor z = zeros(g.device(), full);
            if (g.numel() > 0) {
                Kernels.indexAdd(z, contiguousNoGrad(g), outer, full[d], inner, idx);
            }
            return new Tensor[] {z};
        }, self);
    }

    static Tensor gather(Tensor self, int dim, Tensor index) {
        int[] shape = self.shapeRef();
        self.ensureOpen("gather");
        index.ensureOpen("gather");
        int d = normDim("gather", dim, shape.length);
        if (index.shapeRef().length != shape.length) {
            throw new IllegalArgumentException("gather: argument 'index' has rank " + index.shapeRef().length + ", expected " + shape.length);
        }
        for (int k = 0; k < shape.length; k++) {
            if (k != d && index.shapeRef()[k] != shape[k]) {
                throw new IllegalArgumentException("gather: argument 'index' has shape " + Arrays.toString(index.shapeRef())
                        + ", expected " + Arrays.toString(shape) + " except in dim " + d);
            }
        }
        int[] idx = index.toIntArray("gather", "index");
        for (int j = 0; j < idx.length; j++) {
            if (idx[j] < 0 || idx[j] >= shape[d]) {
                throw new IndexOutOfBoundsException("gather: index value " + idx[j] + " out of range for dim " + d + " of size " + shape[d]);
            }
        }
        int outer = prod(shape, 0, d);
        int inner = prod(shape, d + 1, shape.length);
        int m = index.shapeRef()[d];
        Tensor out = zeros(self.device(), index.shapeRef());
        if (out.numel() > 0) {
            Tensor dense = contiguousNoGrad(self);
            Kernels.gather(out, dense, outer, shape[d], inner, m, idx);
            dropCopy(self, dense);
        }
        int[] full = shape.clone();
        return record(out, "Gather", g -> {
            Tensor z = zeros(g.device(), full);
            if (g.numel() > 0) {
                Kernels.scatterAdd(z, contiguousNoGrad(g), outer, full[d], inner, m, idx);
            }
            return new Tensor[] {z};
        }, self);
    }
}
