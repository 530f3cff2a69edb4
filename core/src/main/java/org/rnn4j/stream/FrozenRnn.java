package org.rnn4j.stream;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.RnnStreamSpec;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNBase;

/**
 * A frozen, shareable inference copy of a trained unidirectional {@link RNN}, {@link LSTM} or
 * {@link GRU} stack, optionally followed by a {@link Linear} head, for serving many independent
 * streams step by step.
 *
 * <ul>
 *   <li><b>Frozen:</b> the weights are copied (and, on the native backend, packed into the
 *       kernel's panel layout) once, in {@link #freeze}; later changes to the module do not reach
 *       it. Inference semantics: dropout is off whatever the module's mode.</li>
 *   <li><b>Shareable:</b> immutable; any number of threads call {@link #step}, {@link #advance}
 *       and {@link #stepBatch} at once, with no lock on the hot path (each thread keeps its own
 *       scratch buffers). A {@link StreamState} belongs to one caller at a time: using one state
 *       from two threads at once is refused with IllegalStateException.</li>
 *   <li><b>Batch-invariant:</b> a stream's outputs and states are bitwise the same whether it is
 *       stepped alone, in any {@link #stepBatch} (any batch size, any position), through a
 *       {@link MicroBatcher}, as a chunk ({@link #advance}) or one step at a time, on any
 *       thread. They equal the module's ordinary {@code forward} within float rounding (the
 *       ordinary forward picks its GEMM by batch size and is not batch-invariant). The bits are
 *       those of one backend and, on the native backend, one ISA path: the path active at
 *       {@link #freeze} is packed and kept (a later {@code NativeBackend.setIsa} does not change
 *       this model); machines on another path (AVX2 vs AVX-512) agree within float rounding.</li>
 *   <li><b>Unidirectional only:</b> a bidirectional model is refused, since its reverse
 *       direction reads the inputs that have not arrived yet.</li>
 *   <li>{@link #close()} waits for calls in flight, then frees the packed weights; every later
 *       call fails with IllegalStateException.</li>
 * </ul>
 *
 * <p>Every argument is checked here before the kernel runs: input width, closed or foreign
 * states (a state works only with the model that made it; move state between model instances
 * with {@link StreamState#snapshot()} and {@link #restore(byte[])}).
 */
public final class FrozenRnn implements AutoCloseable {
    private final RnnStreamSpec spec;
    private final RnnStreamSpec.Kernel kernel;
    private final Backend backend;
    private final long weightHash;
    private final String summary;
    private final int in;
    private final int out;
    private final int sf;
    private final AtomicInteger inflight = new AtomicInteger();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean closed;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    private FrozenRnn(RnnStreamSpec spec, Backend backend) {
        this.spec = spec;
        this.backend = backend;
        this.in = spec.inputSize();
        this.out = spec.outputSize();
        this.sf = spec.stateSize();
        this.weightHash = hash(spec);
        this.summary = spec.kind() + "(input_size=" + in + ", hidden_size=" + spec.hiddenSize() + ", num_layers="
                + spec.numLayers() + (spec.projSize() > 0 ? ", proj_size=" + spec.projSize() : "")
                + (spec.bIh()[0] == null ? ", bias=False" : "") + ")"
                + (spec.headOut() > 0 ? " + Linear(" + spec.layerOutputSize() + ", " + spec.headOut()
                + (spec.headB() == null ? ", bias=False" : "") + ")" : "");
        this.kernel = backend.rnnStreamKernel(spec);
    }

    /** Freezes {@code rnn} on the backend of its parameters. */
    public static FrozenRnn freeze(RNNBase rnn) {
        return freeze(rnn, null);
    }

    /** Freezes {@code rnn} followed by {@code head} (null for none) on the backend of the rnn's parameters. */
    public static FrozenRnn freeze(RNNBase rnn, Linear head) {
        return freeze(rnn, head, rnn.parameters().get(0).backend());
    }

    /**
     * Freezes {@code rnn} + {@code head} (null for none) for {@code backend}: the weights are read
     * once and packed by {@link Backend#rnnStreamKernel}.
     *
     * @throws IllegalArgumentException for a bidirectional model or a head whose in_features is
     *     not the model's output size
     */
    public static FrozenRnn freeze(RNNBase rnn, Linear head, Backend backend) {
        if (rnn.bidirectional()) {
            throw new IllegalArgumentException("FrozenRnn.freeze: " + rnn + " is bidirectional; streaming needs a "
                    + "unidirectional model (the reverse direction reads inputs that have not arrived yet)");
        }
        CellKind kind = rnn instanceof LSTM ? CellKind.LSTM : rnn instanceof GRU ? CellKind.GRU
                : rnn instanceof RNN r && r.nonlinearity().equals("relu") ? CellKind.RNN_RELU : CellKind.RNN_TANH;
        int layers = rnn.numLayers();
        Map<String, Tensor> p = rnn.namedParameters();
        float[][] wIh = new float[layers][];
        float[][] wHh = new float[layers][];
        float[][] bIh = new float[layers][];
        float[][] bHh = new float[layers][];
        float[][] wHr = new float[layers][];
        for (int l = 0; l < layers; l++) {
            wIh[l] = p.get("weight_ih_l" + l).toArray();
            wHh[l] = p.get("weight_hh_l" + l).toArray();
            if (rnn.hasBias()) {
                bIh[l] = p.get("bias_ih_l" + l).toArray();
                bHh[l] = p.get("bias_hh_l" + l).toArray();
            }
            if (rnn.projSize() > 0) {
                wHr[l] = p.get("weight_hr_l" + l).toArray();
            }
        }
        int headOut = 0;
        float[] headW = null;
        float[] headB = null;
        if (head != null) {
            Tensor w = head.weight();
            if (w.size(1) != rnn.outputSize()) {
                throw new IllegalArgumentException("FrozenRnn.freeze: head " + head + " expects " + w.size(1)
                        + " inputs but the model emits " + rnn.outputSize());
            }
            headOut = w.size(0);
            headW = w.toArray();
            headB = head.bias() == null ? null : head.bias().toArray();
        }
        RnnStreamSpec spec = new RnnStreamSpec(kind, rnn.inputSize(), rnn.hiddenSize(), rnn.projSize(), layers,
                wIh, wHh, bIh, bHh, wHr, headOut, headW, headB);
        return new FrozenRnn(spec, backend);
    }

    /** Freezes a spec built by hand (weights in PyTorch layouts, see {@link RnnStreamSpec}). */
    public static FrozenRnn freeze(RnnStreamSpec spec, Backend backend) {
        return new FrozenRnn(spec, backend);
    }

    // ---- shape -------------------------------------------------------------------------------

    /** I: floats of one step's input. */
    public int inputSize() {
        return in;
    }

    /** O: floats one step emits per stream (the head's out_features, or the last layer's output size). */
    public int outputSize() {
        return out;
    }

    /** Floats of one stream's state (h, and c for LSTM, of every layer). */
    public int stateSize() {
        return sf;
    }

    /** The cell kind of every layer. */
    public CellKind kind() {
        return spec.kind();
    }

    /** L: number of stacked layers. */
    public int numLayers() {
        return spec.numLayers();
    }

    /** H: hidden size of every layer. */
    public int hiddenSize() {
        return spec.hiddenSize();
    }

    /** P: LSTM projection size, 0 for none. */
    public int projSize() {
        return spec.projSize();
    }

    /** R: the output size of every layer (proj_size or hidden_size). */
    public int layerOutputSize() {
        return spec.layerOutputSize();
    }

    /** The linear head's out_features, 0 without a head. */
    public int headOut() {
        return spec.headOut();
    }

    boolean hasBias() {
        return spec.bIh()[0] != null;
    }

    boolean hasHeadBias() {
        return spec.headB() != null;
    }

    /** 64-bit FNV-1a of every weight's raw bits, in spec order: part of the snapshot fingerprint. */
    public long weightHash() {
        return weightHash;
    }

    /** The model's layers and sizes and its weight hash, as snapshots record them. */
    public String fingerprint() {
        return summary + " weights#" + Long.toHexString(weightHash);
    }

    /** The backend and kernel path the model runs on. */
    public String describe() {
        return summary + " on " + kernel.describe();
    }

    /** The backend whose stream kernel runs the model. */
    public Backend backend() {
        return backend;
    }

    @Override
    public String toString() {
        return "FrozenRnn[" + fingerprint() + "]";
    }

    // ---- states ------------------------------------------------------------------------------

    /** A fresh state (zeros: PyTorch's h0 = c0 = 0) owned by the caller. */
    public StreamState newState() {
        ensureOpen("newState");
        return new StreamState(this);
    }

    /** A new state restored from {@link StreamState#snapshot()} bytes (checked against this model). */
    public StreamState restore(byte[] snapshot) {
        StreamState s = newState();
        s.restore(snapshot);
        return s;
    }

    // ---- stepping ----------------------------------------------------------------------------

    /** One step of one stream: returns its output (O floats) and updates {@code state}. */
    public float[] step(StreamState state, float[] x) {
        float[] y = new float[out];
        step(state, x, y);
        return y;
    }

    /** One step of one stream, output into {@code y} (O floats). */
    public void step(StreamState state, float[] x, float[] y) {
        checkLength("step", "x", x, in);
        checkLength("step", "y", y, out);
        run("step", state, x, 1, y, false);
    }

    /**
     * A chunk of {@code chunk.length / I} steps of one stream in one kernel call, bitwise equal to
     * that many {@link #step} calls. Returns the last step's output (O floats) or, with
     * {@code allSteps}, every step's ((T, O) row-major).
     */
    public float[] advance(StreamState state, float[] chunk, boolean allSteps) {
        if (chunk == null || chunk.length == 0 || chunk.length % in != 0) {
            throw new IllegalArgumentException("FrozenRnn.advance: chunk must hold T >= 1 steps of input_size " + in
                    + " floats, got " + (chunk == null ? "null" : chunk.length + " floats"));
        }
        int steps = chunk.length / in;
        float[] y = new float[(allSteps ? steps : 1) * out];
        run("advance", state, chunk, steps, y, allSteps);
        return y;
    }

    /**
     * One step of {@code states.length} distinct streams in one kernel call: xs (rows, I)
     * row-major, ys (rows, O). Each row's result is bitwise what {@link #step} gives it alone.
     */
    public void stepBatch(StreamState[] states, float[] xs, float[] ys) {
        int rows = states.length;
        if (rows == 0) {
            return;
        }
        checkLength("stepBatch", "xs", xs, (long) rows * in);
        checkLength("stepBatch", "ys", ys, (long) rows * out);
        if (rows == 1) {
            run("stepBatch", states[0], xs, 1, ys, false);
            return;
        }
        java.util.IdentityHashMap<StreamState, Boolean> seen = new java.util.IdentityHashMap<>();
        for (StreamState s : states) {
            if (seen.put(checkState("stepBatch", s), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("FrozenRnn.stepBatch: the same state appears twice in one batch");
            }
        }
        int acquired = 0;
        enter("stepBatch");
        try {
            for (; acquired < rows; acquired++) {
                states[acquired].acquire("stepBatch");
            }
            Scratch sc = scratch.get();
            FloatBuffer st = sc.state(rows * sf);
            for (int b = 0; b < rows; b++) {
                st.put(b * sf, states[b].data, 0, sf);
            }
            FloatBuffer xb = sc.x(xs.length);
            xb.put(0, xs);
            FloatBuffer yb = sc.out(ys.length);
            kernel.run(rows, 1, xb, st, yb, false);
            yb.get(0, ys);
            for (int b = 0; b < rows; b++) {
                states[b].data.put(0, st, b * sf, sf);
                states[b].steps++;
            }
        } finally {
            for (int b = 0; b < acquired; b++) {
                states[b].release();
            }
            exit();
        }
    }

    private void run(String op, StreamState state, float[] x, int steps, float[] y, boolean allSteps) {
        checkState(op, state);
        enter(op);
        try {
            state.acquire(op);
            try {
                Scratch sc = scratch.get();
                FloatBuffer xb = sc.x(x.length);
                xb.put(0, x);
                FloatBuffer yb = sc.out(y.length);
                kernel.run(1, steps, xb, state.data, yb, allSteps);
                yb.get(0, y);
                state.steps += steps;
            } finally {
                state.release();
            }
        } finally {
            exit();
        }
    }

    StreamState checkState(String op, StreamState s) {
        if (s == null) {
            throw new NullPointerException("FrozenRnn." + op + ": state is null");
        }
        if (s.model() != this) {
            throw new IllegalArgumentException("FrozenRnn." + op + ": the state belongs to another model ("
                    + s.model().fingerprint() + "); this model is " + fingerprint()
                    + " (move state between models with snapshot() and restore())");
        }
        if (s.isClosed()) {
            throw new IllegalStateException("FrozenRnn." + op + ": the state is closed");
        }
        return s;
    }

    private static void checkLength(String op, String arg, float[] v, long n) {
        if (v == null) {
            throw new NullPointerException("FrozenRnn." + op + ": " + arg + " is null");
        }
        if (v.length != n) {
            throw new IllegalArgumentException("FrozenRnn." + op + ": " + arg + " must hold " + n + " floats, got "
                    + v.length);
        }
    }

    // ---- lifetime ----------------------------------------------------------------------------

    void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException("FrozenRnn." + op + ": the model is closed");
        }
    }

    private void enter(String op) {
        inflight.incrementAndGet();
        if (closed) {
            inflight.decrementAndGet();
            throw new IllegalStateException("FrozenRnn." + op + ": the model is closed");
        }
    }

    private void exit() {
        inflight.decrementAndGet();
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Waits for the calls in flight, then frees the packed weights. Idempotent. */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        closed = true;
        while (inflight.get() != 0) {
            Thread.onSpinWait();
        }
        kernel.close();
    }

    // ---- helpers -----------------------------------------------------------------------------

    private static long hash(RnnStreamSpec s) {
        long h = 0xcbf29ce484222325L;
        for (int l = 0; l < s.numLayers(); l++) {
            for (float[] w : new float[][] {s.wIh()[l], s.wHh()[l], s.bIh()[l], s.bHh()[l], s.wHr()[l]}) {
                h = fnv(h, w);
            }
        }
        h = fnv(h, s.headW());
        return fnv(h, s.headB());
    }

    private static long fnv(long h, float[] w) {
        if (w == null) {
            return (h ^ 0x7f) * 0x100000001b3L;
        }
        for (float v : w) {
            h = (h ^ Float.floatToRawIntBits(v)) * 0x100000001b3L;
        }
        return h;
    }

    static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(Math.max(floats, 1) * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** One thread's direct buffers, grown on demand. */
    private static final class Scratch {
        private FloatBuffer x = direct(256);
        private FloatBuffer st = direct(256);
        private FloatBuffer y = direct(256);

        FloatBuffer x(int n) {
            if (x.capacity() < n) {
                x = direct(Math.max(n, x.capacity() * 2));
            }
            return x;
        }

        FloatBuffer state(int n) {
            if (st.capacity() < n) {
                st = direct(Math.max(n, st.capacity() * 2));
            }
            return st;
        }

        FloatBuffer out(int n) {
            if (y.capacity() < n) {
                y = direct(Math.max(n, y.capacity() * 2));
            }
            return y;
        }
    }
}
