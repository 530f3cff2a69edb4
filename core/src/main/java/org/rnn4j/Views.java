package org.rnn4j;

import static org.rnn4j.Shapes.contiguousStrides;
import static org.rnn4j.Shapes.exceedsIntElements;
import static org.rnn4j.Shapes.inferShape;
import static org.rnn4j.Shapes.normDim;
import static org.rnn4j.Tensor.record;
import static org.rnn4j.Tensor.zeros;

import java.util.Arrays;
import org.rnn4j.autograd.GradMode;

/**
 * Views (new shape, strides and offset over the same storage) and the copies that make data
 * contiguous, each with its backward; broadcasting and its adjoint {@link #sumTo}.
 */
final class Views {
    private Views() {
    }

    static Tensor reshape(Tensor self, int... newShape) {
        self.ensureOpen("reshape");
        int[] s = inferShape("reshape", newShape, self.numel());
        if (self.isContiguous()) {
            return viewNoCheck(self, s, "Reshape");
        }
        return viewNoCheck(self.contiguous(), s, "Reshape");
    }

    static Tensor view(Tensor self, int... newShape) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("view");
        int[] s = inferShape("view", newShape, self.numel());
        if (!self.isContiguous()) {
            throw new IllegalArgumentException("view: tensor of shape " + Arrays.toString(shape) + " with strides "
                    + Arrays.toString(strides) + " is not contiguous; use reshape()");
        }
        return viewNoCheck(self, s, "View");
    }

    private static Tensor viewNoCheck(Tensor self, int[] s, String name) {
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, contiguousStrides(s));
        int[] orig = self.shapeRef().clone();
        return record(out, name, g -> new Tensor[] {g.reshape(orig)}, self);
    }

    static Tensor flatten(Tensor self) {
        return self.reshape(-1);
    }

    static Tensor transpose(Tensor self, int dim0, int dim1) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("transpose");
        int a = normDim("transpose", dim0, shape.length);
        int b = normDim("transpose", dim1, shape.length);
        int[] s = shape.clone();
        int[] st = strides.clone();
        s[a] = shape[b];
        s[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, st);
        return record(out, "Transpose", g -> new Tensor[] {g.transpose(a, b)}, self);
    }

    static Tensor t(Tensor self) {
        self.requireRank("t", "self", 2);
        return self.transpose(0, 1);
    }

    static Tensor permute(Tensor self, int... perm) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("permute");
        if (perm.length != shape.length) {
            throw new IllegalArgumentException("permute: argument 'perm' has " + perm.length + " dims, expected " + shape.length);
        }
        int[] s = new int[perm.length];
        int[] st = new int[perm.length];
        int[] inverse = new int[perm.length];
        boolean[] used = new boolean[perm.length];
        for (int i = 0; i < perm.length; i++) {
            int p = normDim("permute", perm[i], shape.length);
            if (used[p]) {
                throw new IllegalArgumentException("permute: argument 'perm' repeats dim " + p + ": " + Arrays.toString(perm));
            }
            used[p] = true;
            s[i] = shape[p];
            st[i] = strides[p];
            inverse[p] = i;
        }
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, st);
        return record(out, "Permute", g -> new Tensor[] {g.permute(inverse)}, self);
    }

    static Tensor narrow(Tensor self, int dim, int start, int length) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("narrow");
        int d = normDim("narrow", dim, shape.length);
        if (start < 0) {
            start += shape[d];
        }
        if (start < 0 || length < 0 || start + length > shape[d]) {
            throw new IndexOutOfBoundsException("narrow: start " + start + " + length " + length
                    + " out of range for dim " + d + " of size " + shape[d]);
        }
        int[] s = shape.clone();
        s[d] = length;
        Tensor out = new Tensor(self.storageRef(), self.offset() + (long) start * strides[d], s, strides.clone());
        int st = start;
        int[] full = shape.clone();
        return record(out, "Narrow", g -> {
            Tensor z = zeros(g.device(), full);
            narrowNoGrad(z, d, st, g.shapeRef()[d]).copyFrom(g);
            return new Tensor[] {z};
        }, self);
    }

    /** A view of {@code length} elements from {@code start} along (normalized) dim {@code d}, not recorded. */
    static Tensor narrowNoGrad(Tensor self, int d, int start, int length) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        int[] s = shape.clone();
        s[d] = length;
        return new Tensor(self.storageRef(), self.offset() + (long) start * strides[d], s, strides.clone());
    }

    static Tensor slice(Tensor self, int dim, int start, int end) {
        int[] shape = self.shapeRef();
        int d = normDim("slice", dim, shape.length);
        int n = shape[d];
        int s = Math.max(0, Math.min(n, start < 0 ? start + n : start));
        int e = Math.max(s, Math.min(n, end < 0 ? end + n : end));
        return self.narrow(d, s, e - s);
    }

    static Tensor select(Tensor self, int dim, int index) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("select");
        int d = normDim("select", dim, shape.length);
        int i = index < 0 ? index + shape[d] : index;
        if (i < 0 || i >= shape[d]) {
            throw new IndexOutOfBoundsException("select: index " + index + " out of range for dim " + d + " of size " + shape[d]);
        }
        int[] s = new int[shape.length - 1];
        int[] st = new int[shape.length - 1];
        for (int k = 0, j = 0; k < shape.length; k++) {
            if (k != d) {
                s[j] = shape[k];
                st[j++] = strides[k];
            }
        }
        Tensor out = new Tensor(self.storageRef(), self.offset() + (long) i * strides[d], s, st);
        int[] full = shape.clone();
        return record(out, "Select", g -> {
            Tensor z = zeros(g.device(), full);
            Tensor slot = narrowNoGrad(z, d, i, 1);
            slot.copyFrom(g.unsqueeze(d));
            slot.close();
            return new Tensor[] {z};
        }, self);
    }

    static Tensor squeeze(Tensor self) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("squeeze");
        int n = 0;
        for (int x : shape) {
            n += x == 1 ? 0 : 1;
        }
        int[] s = new int[n];
        int[] st = new int[n];
        for (int i = 0, k = 0; i < shape.length; i++) {
            if (shape[i] != 1) {
                s[k] = shape[i];
                st[k++] = strides[i];
            }
        }
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, st);
        int[] orig = shape.clone();
        return record(out, "Squeeze", g -> new Tensor[] {g.reshape(orig)}, self);
    }

    static Tensor squeeze(Tensor self, int dim) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("squeeze");
        int d = normDim("squeeze", dim, shape.length);
        if (shape[d] != 1) {
            return alias(self);
        }
        int[] s = new int[shape.length - 1];
        int[] st = new int[shape.length - 1];
        for (int i = 0, k = 0; i < shape.length; i++) {
            if (i != d) {
                s[k] = shape[i];
                st[k++] = strides[i];
            }
        }
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, st);
        return record(out, "Squeeze", g -> new Tensor[] {g.unsqueeze(d)}, self);
    }

    /** {@link Tensor#squeeze(int)} without recording. */
    static Tensor squeezeNoGrad(Tensor self, int d) {
        try (GradMode.Guard g = GradMode.noGrad()) {
            return self.squeeze(d);
        }
    }

    static Tensor unsqueeze(Tensor self, int dim) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("unsqueeze");
        int d = normDim("unsqueeze", dim, shape.length + 1);
        int[] s = new int[shape.length + 1];
        int[] st = new int[shape.length + 1];
        for (int i = 0, k = 0; i < s.length; i++) {
            if (i == d) {
                s[i] = 1;
                st[i] = d < shape.length ? strides[d] * shape[d] : 1;
            } else {
                s[i] = shape[k];
                st[i] = strides[k++];
            }
        }
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, st);
        return record(out, "Unsqueeze", g -> new Tensor[] {g.squeeze(d)}, self);
    }

    /** A new view of the same elements, in the graph as an identity. */
    static Tensor alias(Tensor self) {
        return inheritGraph(new Tensor(self.storageRef(), self.offset(), self.shapeRef().clone(), self.stridesRef().clone()), self);
    }

    static Tensor expand(Tensor self, int... newShape) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        self.ensureOpen("expand");
        if (newShape.length < shape.length) {
            throw new IllegalArgumentException("expand: argument 'size' " + Arrays.toString(newShape) + " has fewer dims than "
                    + Arrays.toString(shape));
        }
        int lead = newShape.length - shape.length;
        int[] s = new int[newShape.length];
        int[] st = new int[newShape.length];
        for (int i = 0; i < newShape.length; i++) {
            int src = i - lead;
            int want = newShape[i];
            if (src < 0) {
                if (want < 0) {
                    throw new IllegalArgumentException("expand: argument 'size' " + Arrays.toString(newShape)
                            + ": -1 not allowed for new leading dim " + i);
                }
                s[i] = want;
                st[i] = 0;
            } else if (want == -1 || want == shape[src]) {
                s[i] = shape[src];
                st[i] = strides[src];
            } else if (shape[src] == 1 && want >= 0) {
                s[i] = want;
                st[i] = 0;
            } else {
                throw new IllegalArgumentException("expand: argument 'size': size " + shape[src] + " at dim " + src + " of "
                        + Arrays.toString(shape) + " cannot expand to " + want + " (target " + Arrays.toString(newShape) + ")");
            }
        }
        if (exceedsIntElements(s)) {
            throw new IllegalArgumentException("expand: argument 'size' " + Arrays.toString(newShape) + " has more than 2^31-1 elements");
        }
        Tensor out = new Tensor(self.storageRef(), self.offset(), s, st);
        int[] orig = shape.clone();
        return record(out, "Expand", g -> new Tensor[] {sumTo(g, orig)}, self);
    }

    /** A broadcast view of {@code self} with {@code target} shape (no copy). */
    static Tensor broadcastTo(Tensor self, String op, String arg, int[] target) {
        int[] shape = self.shapeRef();
        int[] strides = self.stridesRef();
        if (Arrays.equals(shape, target)) {
            return self;
        }
        if (shape.length > target.length) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' of shape " + Arrays.toString(shape)
                    + " cannot broadcast to " + Arrays.toString(target));
        }
        int lead = target.length - shape.length;
        int[] st = new int[target.length];
        for (int i = 0; i < target.length; i++) {
            int src = i - lead;
            if (src < 0) {
                st[i] = 0;
            } else if (shape[src] == target[i]) {
                st[i] = strides[src];
            } else if (shape[src] == 1) {
                st[i] = 0;
            } else {
                throw new IllegalArgumentException(op + ": argument '" + arg + "' of shape " + Arrays.toString(shape)
                        + " cannot broadcast to " + Arrays.toString(target));
            }
        }
        return new Tensor(self.storageRef(), self.offset(), target.clone(), st);
    }

    /** Sums {@code g} down to {@code target} (the adjoint of broadcasting). */
    static Tensor sumTo(Tensor g, int[] target) {
        if (Arrays.equals(g.shapeRef(), target)) {
            return g;
        }
        Tensor r = g;
        int lead = g.shapeRef().length - target.length;
        for (int i = 0; i < lead; i++) {
            r = r.sum(0, false);
        }
        for (int i = 0; i < target.length; i++) {
            if (target[i] == 1 && r.shapeRef()[i] != 1) {
                r = r.sum(i, true);
            }
        }
        return r;
    }

    static Tensor contiguous(Tensor self) {
        self.ensureOpen("contiguous");
        if (self.isContiguous()) {
            return alias(self);
        }
        Tensor out = contiguousCopy(self);
        return record(out, "Contiguous", g -> new Tensor[] {g}, self);
    }

    private static Tensor inheritGraph(Tensor self, Tensor src) {
        return record(self, "Alias", g -> new Tensor[] {g}, src);
    }

    /** A new contiguous tensor with the elements of {@code self}, not recorded. */
    static Tensor contiguousCopy(Tensor self) {
        Tensor out = zeros(self.device(), self.shapeRef());
        if (self.numel() > 0) {
            Kernels.copy(out, self);
        }
        return out;
    }

    /** Contiguous data without recording (the same tensor if already contiguous). */
    static Tensor contiguousNoGrad(Tensor self) {
        return self.isContiguous() ? self : contiguousCopy(self);
    }

    /** Frees {@code dense} if it is a temporary copy of {@code self} made by {@link #contiguousNoGrad}. */
    static void dropCopy(Tensor self, Tensor dense) {
        if (dense != self) {
            dense.close();
        }
    }

    static Tensor copy(Tensor self) {
        self.ensureOpen("clone");
        Tensor out = contiguousCopy(self);
        return record(out, "Clone", g -> new Tensor[] {g}, self);
    }
}
