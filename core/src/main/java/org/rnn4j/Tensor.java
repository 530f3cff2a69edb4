package org.rnn4j;

import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.Storage;

/**
 * A float32 tensor of any rank: shape, strides and offset over off-heap {@link Storage}.
 *
 * <p>Views (reshape of contiguous data, transpose, permute, narrow, select, squeeze, unsqueeze,
 * expand) share storage; everything else allocates. A tensor is {@link AutoCloseable}; inside a
 * {@link Scope} it is freed with the scope unless kept. Using a closed tensor throws
 * {@link IllegalStateException}. Operations are recorded for autograd when
 * {@link GradMode#isEnabled()} and an input {@link #requiresGrad()}.
 *
 * <p>Tensors are not thread-safe for mutation; concurrent reads of a tensor are fine.
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final long offset;
    private final int[] shape;
    private final int[] strides;
    private volatile boolean closed;

    private boolean requiresGrad;
    /** The thread now in a training operation on this leaf's gradient (backward, zeroGrad, step), or null. */
    private volatile Thread gradUser;
    private Tensor grad;
    private GradFn gradFn;
    private int outputIndex;

    Tensor(Storage storage, long offset, int[] shape, int[] strides) {
        storage.retain();
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        Scope.register(this);
    }

    // for the op families (Creation, Views, InPlace, Elementwise, Reductions, LinearAlgebra,
    // JoinIndex): the fields themselves, not copies; they never modify the arrays

    int[] shapeRef() {
        return shape;
    }

    int[] stridesRef() {
        return strides;
    }

    /** The storage without the open check of {@link #storage()}. */
    Storage storageRef() {
        return storage;
    }

    // =====================================================================================
    // creation (Creation)
    // =====================================================================================

    /** A new zero-filled tensor on {@code device}. */
    public static Tensor zeros(Device device, int... shape) {
        return Creation.zeros(device, shape);
    }

    /** A new zero-filled CPU tensor of {@code shape} ({@code torch.zeros}). */
    public static Tensor zeros(int... shape) {
        return Creation.zeros(shape);
    }

    /** A new CPU tensor of {@code shape} filled with 1 ({@code torch.ones}). */
    public static Tensor ones(int... shape) {
        return Creation.ones(shape);
    }

    /** A new CPU tensor of {@code shape} filled with {@code value} ({@code torch.full}). */
    public static Tensor full(float value, int... shape) {
        return Creation.full(value, shape);
    }

    /** A new tensor of the same shape and device, zero-filled. */
    public Tensor zerosLike() {
        return Creation.zerosLike(this);
    }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n) {
        return Creation.arange(n);
    }

    /** start, start+step, ... up to but excluding end (torch.arange). */
    public static Tensor arange(float start, float end, float step) {
        return Creation.arange(start, end, step);
    }

    /** Copies {@code data} (row-major) into a new CPU tensor of {@code shape}. */
    public static Tensor fromArray(float[] data, int... shape) {
        return Creation.fromArray(data, shape);
    }

    /** A 1-D tensor. */
    public static Tensor of(float... data) {
        return Creation.of(data);
    }

    /** A 2-D tensor copied from the rows of {@code data} ({@code torch.tensor}). */
    public static Tensor of(float[][] data) {
        return Creation.of(data);
    }

    /** A 3-D tensor copied from {@code data} ({@code torch.tensor}). */
    public static Tensor of(float[][][] data) {
        return Creation.of(data);
    }

    /** A 0-d tensor holding {@code value}. */
    public static Tensor scalar(float value) {
        return Creation.scalar(value);
    }

    /** Uniform in [0, 1) from {@code gen}. */
    public static Tensor rand(Generator gen, int... shape) {
        return Creation.rand(gen, shape);
    }

    /** Uniform in [0, 1) from the default generator (torch.rand); seed it with {@link Generator#seed(long)}. */
    public static Tensor rand(int... shape) {
        return rand(Generator.defaultGenerator(), shape);
    }

    /** Uniform in [lo, hi) from {@code gen}. */
    public static Tensor uniform(Generator gen, float lo, float hi, int... shape) {
        return Creation.uniform(gen, lo, hi, shape);
    }

    /** Standard normal from the default generator (torch.randn); seed it with {@link Generator#seed(long)}. */
    public static Tensor randn(int... shape) {
        return randn(Generator.defaultGenerator(), shape);
    }

    /** Standard normal from {@code gen}. */
    public static Tensor randn(Generator gen, int... shape) {
        return Creation.randn(gen, shape);
    }

    // =====================================================================================
    // metadata
    // =====================================================================================

    /** The sizes of the dimensions, outermost first (a copy; {@code tensor.shape}). */
    public int[] shape() {
        return shape.clone();
    }

    /**
     * The size of dimension {@code dim}; a negative {@code dim} counts from the end ({@code tensor.size(dim)}).
     *
     * @throws IndexOutOfBoundsException if {@code dim} is outside [-dim(), dim())
     */
    public int size(int dim) {
        return shape[Shapes.normDim("size", dim, shape.length)];
    }

    /** Elements to step in storage per index of each dimension (a copy; {@code tensor.stride()}). */
    public int[] strides() {
        return strides.clone();
    }

    /**
     * The stride of dimension {@code dim}; a negative {@code dim} counts from the end.
     *
     * @throws IndexOutOfBoundsException if {@code dim} is outside [-dim(), dim())
     */
    public int stride(int dim) {
        return strides[Shapes.normDim("stride", dim, shape.length)];
    }

    /** Index in the storage, in elements, of this view's first element ({@code tensor.storage_offset()}). */
    public long offset() {
        return offset;
    }

    /** The rank: number of dimensions (0 for a scalar). */
    public int dim() {
        return shape.length;
    }

    /** Number of elements: the product of the shape (1 for a 0-d tensor). */
    public long numel() {
        return Shapes.numel(shape);
    }

    /**
     * The storage this view reads from and writes to.
     *
     * @throws IllegalStateException if the tensor was closed
     */
    public Storage storage() {
        ensureOpen("storage");
        return storage;
    }

    /** The device that holds this tensor's storage. */
    public Device device() {
        return storage.device();
    }

    /** The backend that computes this tensor's operations on the current thread. */
    public Backend backend() {
        return Backends.forDevice(storage.device());
    }

    /**
     * Whether the elements lie in row-major order with no gaps, so that the strides are the contiguous
     * ones (dimensions of size 1 may have any stride).
     */
    public boolean isContiguous() {
        int expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    /** Whether {@link #close()} was called on this tensor. */
    public boolean isClosed() {
        return closed;
    }

    /** Frees this view; the storage is freed with its last view. Idempotent. */
    @Override
    public void close() {
        if (!closed) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            storage.release();
        }
    }

    /**
     * This tensor as a checked view for one backend call, its storage held by {@code pins} until
     * they close: closing the tensor meanwhile (from any thread) frees the memory after the call,
     * never under it. For code that calls a {@link Backend} itself (custom fused ops).
     *
     * @throws IllegalStateException if the tensor was closed
     */
    public org.rnn4j.backend.View pin(org.rnn4j.backend.Pins pins) {
        ensureOpen("pin");
        return pins.view(storage, offset, shape, strides);
    }

    /** {@link #pin} of every tensor (a null entry, or a null array, stays null). */
    public static org.rnn4j.backend.View[] pin(org.rnn4j.backend.Pins pins, Tensor... ts) {
        if (ts == null) {
            return null;
        }
        org.rnn4j.backend.View[] v = new org.rnn4j.backend.View[ts.length];
        for (int i = 0; i < ts.length; i++) {
            v[i] = ts[i] == null ? null : ts[i].pin(pins);
        }
        return v;
    }

    /** Throws IllegalStateException naming {@code op} if this tensor was closed. */
    public Tensor ensureOpen(String op) {
        if (closed || storage.isFreed()) {
            throw new IllegalStateException(op + ": tensor " + Arrays.toString(shape) + " was closed (used after close or after its scope ended)");
        }
        return this;
    }

    @Override
    public String toString() {
        if (closed) {
            return "Tensor(closed, shape=" + Arrays.toString(shape) + ")";
        }
        StringBuilder sb = new StringBuilder("Tensor(shape=").append(Arrays.toString(shape));
        if (numel() <= 64) {
            sb.append(", data=").append(Arrays.toString(toArray()));
        }
        if (requiresGrad) {
            sb.append(gradFn != null ? ", grad_fn=" + gradFn : ", requires_grad=true");
        }
        return sb.append(')').toString();
    }

    // =====================================================================================
    // host transfer
    // =====================================================================================

    /** The elements in row-major order. */
    public float[] toArray() {
        ensureOpen("toArray");
        float[] out = new float[Math.toIntExact(numel())];
        Kernels.read(this, out, 0);
        return out;
    }

    /**
     * The elements of a 2-D tensor as rows.
     *
     * @throws IllegalArgumentException if the tensor is not 2-D
     */
    public float[][] toArray2D() {
        requireRank("toArray2D", "self", 2);
        float[] flat = toArray();
        float[][] out = new float[shape[0]][shape[1]];
        for (int i = 0; i < shape[0]; i++) {
            System.arraycopy(flat, i * shape[1], out[i], 0, shape[1]);
        }
        return out;
    }

    /**
     * The elements of a 3-D tensor as nested arrays, outermost dimension first.
     *
     * @throws IllegalArgumentException if the tensor is not 3-D
     */
    public float[][][] toArray3D() {
        requireRank("toArray3D", "self", 3);
        float[] flat = toArray();
        float[][][] out = new float[shape[0]][shape[1]][shape[2]];
        for (int i = 0; i < shape[0]; i++) {
            for (int j = 0; j < shape[1]; j++) {
                System.arraycopy(flat, (i * shape[1] + j) * shape[2], out[i][j], 0, shape[2]);
            }
        }
        return out;
    }

    /** Elements as ints (for index tensors holding integral floats). */
    public int[] toIntArray() {
        return toIntArray("toIntArray", "self");
    }

    /** {@link #toIntArray()} for argument {@code arg} of {@code op}: a non-integral element is an error naming it. */
    public int[] toIntArray(String op, String arg) {
        float[] f = toArray();
        int[] r = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            r[i] = Math.round(f[i]);
            if (r[i] != f[i]) {
                throw new IllegalArgumentException(op + ": argument '" + arg + "' element " + i + " = " + f[i] + " is not an integer");
            }
        }
        return r;
    }

    /** The single element of a one-element tensor. */
    public float item() {
        if (numel() != 1) {
            throw new IllegalArgumentException("item: tensor has " + numel() + " elements " + Arrays.toString(shape) + ", expected 1");
        }
        return toArray()[0];
    }

    /** The element at {@code index} (one per dimension). */
    public float get(int... index) {
        ensureOpen("get");
        try (Tensor element = select(index)) {
            return element.item();
        }
    }

    private Tensor select(int[] index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("get: expected " + shape.length + " indices, got " + index.length);
        }
        long off = offset;
        for (int d = 0; d < index.length; d++) {
            int i = index[d] < 0 ? index[d] + shape[d] : index[d];
            if (i < 0 || i >= shape[d]) {
                throw new IndexOutOfBoundsException("get: index " + index[d] + " out of range for dim " + d + " of size " + shape[d]);
            }
            off += (long) i * strides[d];
        }
        return new Tensor(storage, off, new int[0], new int[0]);
    }

    /** Copies to {@code device} (returns a new tensor even on the same device: PyTorch returns self). */
    public Tensor to(Device device) {
        ensureOpen("to");
        if (device.equals(device())) {
            return Views.alias(this);
        }
        Tensor out = zeros(device, shape);
        float[] host = toArray();
        Kernels.write(out, host, 0);
        return record(out, "To", g -> new Tensor[] {g.to(device())}, this);
    }

    // =====================================================================================
    // autograd
    // =====================================================================================

    /** Whether operations on this tensor are recorded for autograd ({@code tensor.requires_grad}). */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf tensor as needing gradients; returns this. */
    public Tensor requiresGrad(boolean on) {
        if (gradFn != null && !on) {
            throw new IllegalStateException("requiresGrad: cannot turn off on a non-leaf tensor; use detach()");
        }
        this.requiresGrad = on;
        return this;
    }

    /** Accumulated gradient of a leaf, or null. */
    public Tensor grad() {
        return grad;
    }

    /** Replaces the gradient (null clears it, freeing the old one). */
    public void setGrad(Tensor g) {
        boolean claimed = claimGrad("setGrad");
        try {
            if (grad != null && grad != g) {
                grad.close();
            }
            grad = g;
        } finally {
            if (claimed) {
                releaseGrad();
            }
        }
    }

    private static final java.util.concurrent.atomic.AtomicReferenceFieldUpdater<Tensor, Thread> GRAD_USER =
            java.util.concurrent.atomic.AtomicReferenceFieldUpdater.newUpdater(Tensor.class, Thread.class, "gradUser");

    /**
     * Marks this tensor's gradient as in use by the current thread for a training operation
     * (backward into it, clearing it, an optimizer step), so that a second thread doing the same
     * at once fails fast instead of corrupting the gradient. Re-entrant: returns false (release
     * nothing) if this thread already holds it. One compare-and-set; inference never calls it.
     *
     * @return true if the claim was taken now and must be given back with {@link #releaseGrad()}
     * @throws IllegalStateException naming both threads if another thread holds it
     */
    public boolean claimGrad(String op) {
        Thread me = Thread.currentThread();
        while (true) {
            Thread holder = gradUser;
            if (holder == me) {
                return false;
            }
            if (holder == null) {
                if (GRAD_USER.compareAndSet(this, null, me)) {
                    return true;
                }
                continue;
            }
            throw new IllegalStateException(op + ": the gradient of tensor " + Arrays.toString(shape)
                    + " is in use by thread '" + holder.getName() + "' (backward, zeroGrad or an optimizer step) while thread '"
                    + me.getName() + "' uses it: a module and its optimizer are trained by one thread at a time "
                    + "(concurrent inference in eval mode or under GradMode.noGrad() is fine)");
        }
    }

    /** Gives back a claim taken by {@link #claimGrad(String)} on this thread. */
    public void releaseGrad() {
        GRAD_USER.compareAndSet(this, Thread.currentThread(), null);
    }

    /** Frees the gradient (PyTorch set_to_none=True). */
    public void zeroGrad() {
        setGrad(null);
    }

    /** The autograd node that produced this tensor, or null for a leaf ({@code tensor.grad_fn}). */
    public GradFn gradFn() {
        return gradFn;
    }

    /** Which output of {@link #gradFn()} this tensor is (0 for single-output nodes). */
    public int outputIndex() {
        return outputIndex;
    }

    /** Whether this tensor was not produced by a recorded operation (no {@link #gradFn()}; {@code tensor.is_leaf}). */
    public boolean isLeaf() {
        return gradFn == null;
    }

    /** For autograd nodes with several outputs: marks {@code this} as output {@code index} of {@code node}. */
    public Tensor attach(GradFn node, int index) {
        this.gradFn = node;
        this.outputIndex = index;
        this.requiresGrad = true;
        return this;
    }

    /** Backward from a one-element tensor (gradient 1). */
    public void backward() {
        if (numel() != 1) {
            throw new IllegalArgumentException("backward: grad can be implicitly created only for one-element outputs, got shape "
                    + Arrays.toString(shape) + "; pass the output gradient");
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor one = full(1f, shape);
            Autograd.backward(this, one, false);
        }
    }

    /** Backward with the given gradient of this tensor. */
    public void backward(Tensor gradient) {
        backward(gradient, false);
    }

    /**
     * Backward with the given gradient of this tensor ({@code tensor.backward(gradient, retain_graph)}):
     * the graph's saved activations are freed afterwards unless {@code retainGraph}.
     *
     * @throws IllegalArgumentException if {@code gradient}'s shape differs from this tensor's
     */
    public void backward(Tensor gradient, boolean retainGraph) {
        requireSameShape("backward", "gradient", gradient);
        Autograd.backward(this, gradient, retainGraph);
    }

    /** Adds {@code g} into this leaf's gradient (allocated outside any scope: it belongs to the leaf). */
    public void accumulateGrad(Tensor g) {
        boolean claimed = claimGrad("backward");
        try (GradMode.Guard ng = GradMode.noGrad()) {
            if (grad == null) {
                grad = detachedCopy(g.shape().length == shape.length ? g : g.reshape(shape));
            } else {
                grad.addInPlace(g, 1f);
            }
        } finally {
            if (claimed) {
                releaseGrad();
            }
        }
    }

    /** A copy that no scope owns. */
    private static Tensor detachedCopy(Tensor src) {
        Tensor[] holder = new Tensor[1];
        Scope.runUnscoped(() -> holder[0] = Views.contiguousCopy(src));
        return holder[0];
    }

    /** A view of the same data that is not part of the graph. */
    public Tensor detach() {
        ensureOpen("detach");
        return new Tensor(storage, offset, shape.clone(), strides.clone());
    }

    /** Records {@code out} as produced from {@code inputs} when any needs a gradient. */
    static Tensor record(Tensor out, String name, Function<Tensor, Tensor[]> backward, Tensor... inputs) {
        if (!GradMode.isEnabled()) {
            return out;
        }
        boolean any = false;
        for (Tensor t : inputs) {
            any |= t != null && t.requiresGrad;
        }
        if (!any) {
            return out;
        }
        out.attach(new GradFn(name, 1, inputs) {
            @Override
            protected Tensor[] backward(Tensor[] gradOutputs) {
                return backward.apply(gradOutputs[0]);
            }
        }, 0);
        return out;
    }

    // =====================================================================================
    // views (Views)
    // =====================================================================================

    /** A view with a new shape; one dimension may be -1. Copies if the data is not contiguous. */
    public Tensor reshape(int... newShape) {
        return Views.reshape(this, newShape);
    }

    /** Like {@link #reshape} but never copies: non-contiguous input is an error. */
    public Tensor view(int... newShape) {
        return Views.view(this, newShape);
    }

    /** Flattens to 1-D. */
    public Tensor flatten() {
        return Views.flatten(this);
    }

    /** Swaps two dimensions (a view). */
    public Tensor transpose(int dim0, int dim1) {
        return Views.transpose(this, dim0, dim1);
    }

    /** Transpose of a 2-D tensor. */
    public Tensor t() {
        return Views.t(this);
    }

    /** Reorders dimensions (a view): result dim i is input dim perm[i]. */
    public Tensor permute(int... perm) {
        return Views.permute(this, perm);
    }

    /** Elements start..start+length-1 along {@code dim} (a view). */
    public Tensor narrow(int dim, int start, int length) {
        return Views.narrow(this, dim, start, length);
    }

    /** Python-style slice [start, end) along dim (negative indices count from the end). */
    public Tensor slice(int dim, int start, int end) {
        return Views.slice(this, dim, start, end);
    }

    /** Removes {@code dim} by taking index {@code index} (a view). */
    public Tensor select(int dim, int index) {
        return Views.select(this, dim, index);
    }

    /** Removes every size-1 dimension. */
    public Tensor squeeze() {
        return Views.squeeze(this);
    }

    /** Removes {@code dim} if its size is 1 (else returns an equal view), as PyTorch. */
    public Tensor squeeze(int dim) {
        return Views.squeeze(this, dim);
    }

    /** Inserts a size-1 dimension at {@code dim} (0..rank). */
    public Tensor unsqueeze(int dim) {
        return Views.unsqueeze(this, dim);
    }

    /** Broadcasts to {@code newShape} without copying (size-1 dims get stride 0); -1 keeps a size. */
    public Tensor expand(int... newShape) {
        return Views.expand(this, newShape);
    }

    /** This tensor if contiguous (as a new view), else a contiguous copy. */
    public Tensor contiguous() {
        return Views.contiguous(this);
    }

    /** torch.clone: a contiguous copy that stays in the graph (same as {@link #copy()}). */
    @Override
    public Tensor clone() {
        return copy();
    }

    /** A contiguous copy that stays in the graph. */
    public Tensor copy() {
        return Views.copy(this);
    }

    // =====================================================================================
    // in-place (InPlace; not recorded; refused on tensors that need grad while recording)
    // =====================================================================================

    /** Copies {@code src} (broadcast to this shape) into this tensor; returns this. */
    public Tensor copyFrom(Tensor src) {
        return InPlace.copyFrom(this, src);
    }

    /** Sets every element to {@code value}; returns this. */
    public Tensor fill(float value) {
        return InPlace.fill(this, value);
    }

    /** Sets every element to 0 ({@code tensor.zero_()}); returns this. */
    public Tensor zero() {
        return InPlace.zero(this);
    }

    /** this += alpha * other (other broadcast to this shape); returns this. */
    public Tensor addInPlace(Tensor other, float alpha) {
        return InPlace.addInPlace(this, other, alpha);
    }

    /** this *= value; returns this. */
    public Tensor mulInPlace(float value) {
        return InPlace.mulInPlace(this, value);
    }

    // =====================================================================================
    // elementwise (Elementwise)
    // =====================================================================================

    /** -x elementwise ({@code torch.neg}). */
    public Tensor neg() {
        return Elementwise.neg(this);
    }

    /** e^x elementwise ({@code torch.exp}). */
    public Tensor exp() {
        return Elementwise.exp(this);
    }

    /** Natural logarithm elementwise ({@code torch.log}). */
    public Tensor log() {
        return Elementwise.log(this);
    }

    /** Hyperbolic tangent elementwise ({@code torch.tanh}). */
    public Tensor tanh() {
        return Elementwise.tanh(this);
    }

    /** 1 / (1 + e^-x) elementwise ({@code torch.sigmoid}). */
    public Tensor sigmoid() {
        return Elementwise.sigmoid(this);
    }

    /** max(x, 0) elementwise ({@code torch.relu}). */
    public Tensor relu() {
        return Elementwise.relu(this);
    }

    /** Square root elementwise ({@code torch.sqrt}). */
    public Tensor sqrt() {
        return Elementwise.sqrt(this);
    }

    /** |x| elementwise ({@code torch.abs}); its gradient is sign(x), so 0 at 0. */
    public Tensor abs() {
        return Elementwise.abs(this);
    }

    /** x*x elementwise ({@code torch.square}). */
    public Tensor square() {
        return Elementwise.square(this);
    }

    /** -1, 0 or 1 by the sign of x ({@code torch.sign}); not differentiable (not recorded for autograd). */
    public Tensor sign() {
        return Elementwise.sign(this);
    }

    /** x^p elementwise. */
    public Tensor pow(float p) {
        return Elementwise.pow(this, p);
    }

    /** x + s elementwise. */
    public Tensor add(float s) {
        return Elementwise.add(this, s);
    }

    /** x - s elementwise. */
    public Tensor sub(float s) {
        return Elementwise.sub(this, s);
    }

    /** s - this. */
    public Tensor rsub(float s) {
        return Elementwise.rsub(this, s);
    }

    /** x * s elementwise. */
    public Tensor mul(float s) {
        return Elementwise.mul(this, s);
    }

    /** x / s elementwise, computed as x * (1/s). */
    public Tensor div(float s) {
        return Elementwise.div(this, s);
    }

    /** 1 where x > s, else 0 ({@code torch.gt}, as float values); not differentiable. */
    public Tensor gt(float s) {
        return Elementwise.gt(this, s);
    }

    /** 1 where x &lt; s, else 0 ({@code torch.lt}, as float values); not differentiable. */
    public Tensor lt(float s) {
        return Elementwise.lt(this, s);
    }

    /** 1 where x == s, else 0 ({@code torch.eq}, as float values); not differentiable. */
    public Tensor eq(float s) {
        return Elementwise.eq(this, s);
    }

    /** Clamps to [lo, hi]. */
    public Tensor clamp(float lo, float hi) {
        return Elementwise.clamp(this, lo, hi);
    }

    /** this + other elementwise, the shapes broadcasting ({@code torch.add}). */
    public Tensor add(Tensor other) {
        return Elementwise.add(this, other);
    }

    /** this - other elementwise, the shapes broadcasting ({@code torch.sub}). */
    public Tensor sub(Tensor other) {
        return Elementwise.sub(this, other);
    }

    /** this * other elementwise, the shapes broadcasting ({@code torch.mul}). */
    public Tensor mul(Tensor other) {
        return Elementwise.mul(this, other);
    }

    /** this / other elementwise, the shapes broadcasting ({@code torch.div}). */
    public Tensor div(Tensor other) {
        return Elementwise.div(this, other);
    }

    /** Elementwise maximum (gradient to the larger; ties to this). */
    public Tensor maximum(Tensor other) {
        return Elementwise.maximum(this, other);
    }

    /** Elementwise minimum, the shapes broadcasting (gradient to the smaller; ties to this; {@code torch.minimum}). */
    public Tensor minimum(Tensor other) {
        return Elementwise.minimum(this, other);
    }

    /** 1 where this > other, else 0, the shapes broadcasting ({@code torch.gt}); not differentiable. */
    public Tensor gt(Tensor other) {
        return Elementwise.gt(this, other);
    }

    /** 1 where this &lt; other, else 0, the shapes broadcasting ({@code torch.lt}); not differentiable. */
    public Tensor lt(Tensor other) {
        return Elementwise.lt(this, other);
    }

    /** 1 where this == other, else 0, the shapes broadcasting ({@code torch.eq}); not differentiable. */
    public Tensor eq(Tensor other) {
        return Elementwise.eq(this, other);
    }

    /** cond != 0 ? a : b, broadcasting all three. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        return Elementwise.where(cond, a, b);
    }

    // =====================================================================================
    // reductions (Reductions)
    // =====================================================================================

    /** Sum of all elements (0-d). */
    public Tensor sum() {
        return Reductions.sum(this);
    }

    /** Sum along {@code dim}, kept as a size-1 dimension if {@code keepDim} ({@code torch.sum(x, dim, keepdim)}). */
    public Tensor sum(int dim, boolean keepDim) {
        return Reductions.sum(this, dim, keepDim);
    }

    /** Mean of all elements (0-d): the sum divided by {@link #numel()}. */
    public Tensor mean() {
        return Reductions.mean(this);
    }

    /** Mean along {@code dim}, kept as a size-1 dimension if {@code keepDim} ({@code torch.mean(x, dim, keepdim)}). */
    public Tensor mean(int dim, boolean keepDim) {
        return Reductions.mean(this, dim, keepDim);
    }

    /** Maximum along dim (gradient to the first maximal element). */
    public Tensor max(int dim, boolean keepDim) {
        return Reductions.max(this, dim, keepDim);
    }

    /**
     * Minimum along {@code dim} (values only), kept as a size-1 dimension if {@code keepDim}.
     *
     * @throws IllegalArgumentException if dimension {@code dim} has size 0
     */
    public Tensor min(int dim, boolean keepDim) {
        return Reductions.min(this, dim, keepDim);
    }

    /** Maximum over all elements (0-d, not differentiable). */
    public Tensor max() {
        return Reductions.max(this);
    }

    /** Index of the maximum along dim, as float values (exact below 2^24). */
    public Tensor argmax(int dim, boolean keepDim) {
        return Reductions.argmax(this, dim, keepDim);
    }

    /** Index of the minimum along {@code dim}, as float values (exact below 2^24; {@code torch.argmin}). */
    public Tensor argmin(int dim, boolean keepDim) {
        return Reductions.argmin(this, dim, keepDim);
    }

    /** Softmax along dim. */
    public Tensor softmax(int dim) {
        return Reductions.softmax(this, dim);
    }

    /** Log-softmax along dim. */
    public Tensor logSoftmax(int dim) {
        return Reductions.logSoftmax(this, dim);
    }

    // =====================================================================================
    // linear algebra (LinearAlgebra)
    // =====================================================================================

    /**
     * Matrix product with torch.matmul's rules: 1-D·1-D dot, 2-D·2-D, and batched products whose
     * batch dimensions broadcast.
     */
    public Tensor matmul(Tensor other) {
        return LinearAlgebra.matmul(this, other);
    }

    // =====================================================================================
    // joining and indexing (JoinIndex)
    // =====================================================================================

    /** Concatenates along an existing dim. */
    public static Tensor concat(List<Tensor> tensors, int dim) {
        return JoinIndex.concat(tensors, dim);
    }

    /** Stacks equal-shaped tensors along a new dim. */
    public static Tensor stack(List<Tensor> tensors, int dim) {
        return JoinIndex.stack(tensors, dim);
    }

    /** Rows {@code index} along dim (torch.index_select). */
    public Tensor indexSelect(int dim, int[] index) {
        return JoinIndex.indexSelect(this, dim, index);
    }

    /** torch.gather: out[..., j, ...] = self[..., index[..., j, ...], ...] along dim; index has the output's shape. */
    public Tensor gather(int dim, Tensor index) {
        return JoinIndex.gather(this, dim, index);
    }

    // =====================================================================================
    // helpers (Views, Shapes)
    // =====================================================================================

    /** Sums {@code g} down to {@code target} (the adjoint of broadcasting). */
    public static Tensor sumTo(Tensor g, int[] target) {
        return Views.sumTo(g, target);
    }

    /** A broadcast view of this tensor with {@code target} shape (no copy). */
    public Tensor broadcastTo(String op, String arg, int[] target) {
        return Views.broadcastTo(this, op, arg, target);
    }

    /**
     * The shape that {@code a} and {@code b} broadcast to ({@code torch.broadcast_shapes}).
     *
     * @throws IllegalArgumentException naming {@code op} if they do not broadcast
     */
    public static int[] broadcastShapes(String op, int[] a, int[] b) {
        return Shapes.broadcastShapes(op, a, b);
    }

    /**
     * Checks that this tensor has {@code rank} dimensions.
     *
     * @throws IllegalArgumentException naming {@code op} and argument {@code arg} if not
     */
    public void requireRank(String op, String arg, int rank) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be " + rank + "-D, got shape " + Arrays.toString(shape));
        }
    }

    /**
     * Checks that this tensor is open and has exactly the shape {@code expected}.
     *
     * @throws IllegalArgumentException naming {@code op} and argument {@code arg} if not
     * @throws IllegalStateException if the tensor was closed
     */
    public void requireShape(String op, String arg, int... expected) {
        ensureOpen(op);
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected shape " + Arrays.toString(expected)
                    + ", got " + Arrays.toString(shape));
        }
    }

    private void requireSameShape(String op, String arg, Tensor other) {
        other.ensureOpen(op);
        if (!Arrays.equals(shape, other.shape)) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' expected shape " + Arrays.toString(shape)
                    + ", got " + Arrays.toString(other.shape));
        }
    }

    /**
     * Checks that {@code other} is on this tensor's device.
     *
     * @throws IllegalArgumentException naming {@code op} and argument {@code arg} if not
     */
    public void requireSameDevice(String op, String arg, Tensor other) {
        if (!device().equals(other.device())) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' is on " + other.device() + ", expected "
                    + device() + " (move it with to(device))");
        }
    }

    /** The product of {@code shape}'s sizes (1 for an empty shape). */
    public static long numel(int[] shape) {
        return Shapes.numel(shape);
    }

    /** Row-major strides for {@code shape}: the last dimension has stride 1. */
    public static int[] contiguousStrides(int[] shape) {
        return Shapes.contiguousStrides(shape);
    }
}
