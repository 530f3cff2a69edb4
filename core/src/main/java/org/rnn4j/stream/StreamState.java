package org.rnn4j.stream;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.rnn4j.backend.CellKind;

/**
 * The recurrent state of one stream for one {@link FrozenRnn}: h (and c for LSTM) of every layer,
 * owned by the caller. Not thread-safe: one caller at a time (a second concurrent use is refused
 * with IllegalStateException, never silently raced).
 *
 * <p><b>Snapshot format</b> (version 1, little-endian), {@link #snapshot()}:
 * <pre>
 *   bytes 0-3   magic "R4SS"
 *   u16         version (1)
 *   u16         flags (bit 0: bias, bit 1: head bias)
 *   i32 x 6     cell kind code, num_layers, input_size, hidden_size, proj_size, head out (0 = none)
 *   i64         weight hash ({@link FrozenRnn#weightHash()})
 *   i64         steps taken so far
 *   i32         state floats F
 *   f32 x F     the state: per layer h (R), then c (H) for LSTM
 * </pre>
 * {@link #restore(byte[])} checks every header field against the model and refuses a snapshot of
 * another model (other layers, sizes or weights) or another version with an
 * IllegalArgumentException that names both sides.
 */
public final class StreamState implements AutoCloseable {
    static final int MAGIC = 0x53533452; // "R4SS" read little-endian
    static final int VERSION = 1;
    static final int HEADER_BYTES = 4 + 2 + 2 + 6 * 4 + 8 + 8 + 4;

    private final FrozenRnn model;
    final FloatBuffer data;
    long steps;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;

    StreamState(FrozenRnn model) {
        this.model = model;
        this.data = FrozenRnn.direct(model.stateSize());
    }

    /** The model this state works with. */
    public FrozenRnn model() {
        return model;
    }

    /** Steps taken since creation or the last {@link #reset()} (restored with a snapshot). */
    public long steps() {
        return steps;
    }

    void acquire(String op) {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("FrozenRnn." + op + ": the state is in use by another call "
                    + "(a StreamState belongs to one caller at a time)");
        }
        if (closed) {
            busy.set(false);
            throw new IllegalStateException("FrozenRnn." + op + ": the state is closed");
        }
    }

    void release() {
        busy.set(false);
    }

    private void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException("StreamState." + op + ": the state is closed");
        }
    }

    /** Back to zeros (a new sequence). */
    public void reset() {
        ensureOpen("reset");
        acquire("reset");
        try {
            for (int i = 0; i < data.capacity(); i++) {
                data.put(i, 0f);
            }
            steps = 0;
        } finally {
            release();
        }
    }

    /** An independent copy (same model), e.g. to branch a stream. */
    public StreamState copy() {
        ensureOpen("copy");
        StreamState s = new StreamState(model);
        s.data.put(0, data, 0, data.capacity());
        s.steps = steps;
        return s;
    }

    /** The state floats (h, c per layer in the layout of {@link org.rnn4j.backend.RnnStreamSpec}). */
    public float[] toArray() {
        ensureOpen("toArray");
        float[] v = new float[data.capacity()];
        data.get(0, v);
        return v;
    }

    /** h of layer {@code l} (R floats). */
    public float[] hidden(int layer) {
        return slice(layer, 0, model.layerOutputSize());
    }

    /** c of layer {@code l} (H floats); LSTM only. */
    public float[] cell(int layer) {
        if (model.kind() != CellKind.LSTM) {
            throw new IllegalStateException("StreamState.cell: only LSTM has a cell state");
        }
        return slice(layer, model.layerOutputSize(), model.hiddenSize());
    }

    private float[] slice(int layer, int off, int n) {
        ensureOpen("read");
        if (layer < 0 || layer >= model.numLayers()) {
            throw new IndexOutOfBoundsException("layer " + layer + " of " + model.numLayers());
        }
        int per = model.stateSize() / model.numLayers();
        float[] v = new float[n];
        data.get(layer * per + off, v);
        return v;
    }

    /** The state as bytes (see the class comment for the format). */
    public byte[] snapshot() {
        ensureOpen("snapshot");
        int f = data.capacity();
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + f * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putShort((short) VERSION).putShort((short) flags(model));
        b.putInt(model.kind().code()).putInt(model.numLayers()).putInt(model.inputSize()).putInt(model.hiddenSize())
                .putInt(model.projSize()).putInt(model.headOut());
        b.putLong(model.weightHash()).putLong(steps).putInt(f);
        for (int i = 0; i < f; i++) {
            b.putFloat(data.get(i));
        }
        return b.array();
    }

    private static int flags(FrozenRnn m) {
        return (m.hasBias() ? 1 : 0) | (m.hasHeadBias() ? 2 : 0);
    }

    /**
     * Replaces this state with a snapshot's.
     *
     * @throws IllegalArgumentException if the bytes are not a version-1 snapshot of this model
     *     (same layer kind, sizes and weights); the state is left unchanged then
     */
    public void restore(byte[] snapshot) {
        ensureOpen("restore");
        if (snapshot == null) {
            throw new NullPointerException("StreamState.restore: snapshot is null");
        }
        String op = "StreamState.restore: ";
        if (snapshot.length < HEADER_BYTES) {
            throw new IllegalArgumentException(op + "not an rnn4j stream state snapshot (" + snapshot.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(snapshot).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt() != MAGIC) {
            throw new IllegalArgumentException(op + "not an rnn4j stream state snapshot (bad magic)");
        }
        int version = b.getShort() & 0xffff;
        if (version != VERSION) {
            throw new IllegalArgumentException(op + "snapshot version " + version + " is not supported (this build reads "
                    + VERSION + ")");
        }
        int flags = b.getShort() & 0xffff;
        int kind = b.getInt();
        int layers = b.getInt();
        int input = b.getInt();
        int hidden = b.getInt();
        int proj = b.getInt();
        int head = b.getInt();
        long hash = b.getLong();
        long stepCount = b.getLong();
        int f = b.getInt();
        String theirs = describe(kind, layers, input, hidden, proj, head, flags);
        String mine = describe(model.kind().code(), model.numLayers(), model.inputSize(), model.hiddenSize(),
                model.projSize(), model.headOut(), flags(model));
        if (!theirs.equals(mine)) {
            throw new IllegalArgumentException(op + "snapshot is of a different model: " + theirs + ", this model is " + mine);
        }
        if (hash != model.weightHash()) {
            throw new IllegalArgumentException(op + "snapshot is of a model with other weights (weight hash "
                    + Long.toHexString(hash) + ", this model's " + Long.toHexString(model.weightHash()) + ")");
        }
        if (f != data.capacity() || snapshot.length != HEADER_BYTES + (long) f * Float.BYTES) {
            throw new IllegalArgumentException(op + "snapshot holds " + f + " state floats in " + snapshot.length
                    + " bytes, expected " + data.capacity() + " floats in " + (HEADER_BYTES + data.capacity() * Float.BYTES));
        }
        acquire("restore");
        try {
            for (int i = 0; i < f; i++) {
                data.put(i, b.getFloat());
            }
            steps = stepCount;
        } finally {
            release();
        }
    }

    private static String describe(int kind, int layers, int input, int hidden, int proj, int head, int flags) {
        CellKind[] kinds = CellKind.values();
        String k = kind >= 0 && kind < kinds.length ? kinds[kind].name() : "kind#" + kind;
        return k + "(input_size=" + input + ", hidden_size=" + hidden + ", num_layers=" + layers
                + (proj > 0 ? ", proj_size=" + proj : "") + ((flags & 1) == 0 ? ", bias=False" : "") + ")"
                + (head > 0 ? " + Linear(out=" + head + ((flags & 2) == 0 ? ", bias=False" : "") + ")" : "");
    }

    /** Whether {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** Drops the state; later use fails with IllegalStateException. Idempotent. */
    @Override
    public void close() {
        closed = true;
    }
}
