package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.ReferenceBackend;
import org.rnn4j.nativecpu.NativeBackend;
import org.rnn4j.testing.TensorAssert;

/**
 * The forward paths that split each step's gate rows by hidden unit between the calling thread
 * and the native step worker (rnn_layer.h, StepWorker): batches of 1 to 4 rows (matrix-vector),
 * and 5 and 37 rows (the packed W_ih / W_hh panels, wide split when the layer is big enough),
 * layers big enough to take it (SPLIT_MIN_FLOATS), T = 1 and T > 1 (packed too), forward and
 * reverse, every cell kind and LSTM with projection, inference (no workspace) and training
 * (workspace, then backward), against the plain-Java oracle. With one configured thread
 * (rnn4j.threads=1) the same code runs on one thread and the cases still hold.
 * Then: several Java threads calling layers at once (one gets the worker, the others compute
 * alone) give bit-for-bit the results of serial calls.
 * Letters: T steps, N batch, I input, H hidden, P projection, R output.
 */
class NativeRnnStepSplitTest {
    private static final Backend NATIVE = new NativeBackend();
    private static final Backend REF = ReferenceBackend.INSTANCE;
    private static final double FWD_TOL = 1e-5;
    private static final double BWD_TOL = 1e-4;
    // H = 200 makes even the RNN cells' W_hh (40 000 floats) exceed the split threshold; H is
    // not a multiple of 16, so the two parts are unequal (96 + 104 units)
    private static final int IN = 40;
    private static final int HID = 200;

    @BeforeEach
    void nativeAvailable() {
        assumeTrue(NATIVE.isAvailable(), NATIVE.unavailableReason());
    }

    record Case(CellKind kind, int proj, int n, int steps, boolean packed, boolean reverse, boolean training) {
        @Override
        public String toString() {
            return kind + (proj > 0 ? "+proj" + proj : "") + " N=" + n + " T=" + steps + (packed ? " packed" : "")
                    + (reverse ? " reverse" : " forward") + (training ? " training" : " inference");
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (CellKind kind : CellKind.values()) {
            for (int proj : kind == CellKind.LSTM ? new int[] {0, 50} : new int[] {0}) {
                // 1-4: the matrix-vector split; 5 and 37: the packed-panel paths (37 = four 8-row
                // blocks and a tail; with two threads the wide split, else one thread on the panels)
                for (int n : new int[] {1, 2, 3, 4, 5, 37}) {
                    for (int steps : new int[] {1, 5}) {
                        for (boolean reverse : new boolean[] {false, true}) {
                            out.add(new Case(kind, proj, n, steps, false, reverse, (n + steps) % 2 == 0));
                            if (steps > 1 && n > 1) { // packed: rows fall away step by step
                                out.add(new Case(kind, proj, n, steps, true, reverse, n % 2 == 1));
                            }
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    private static Tensor rand(Generator g, float scale, int... shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] v = new float[n];
        g.uniform(v, -scale, scale);
        return Tensor.fromArray(v, shape);
    }

    /** One direction's arguments with fresh outputs; weights and inputs from the seed. */
    private static TensorArgs args(Case c, long seed) {
        Generator g = new Generator(seed);
        int r = c.proj() > 0 ? c.proj() : HID;
        int gh = c.kind().gates() * HID;
        int[] bs = new int[c.steps()];
        bs[0] = c.n();
        for (int t = 1; t < c.steps(); t++) {
            bs[t] = c.packed() ? Math.max(1, bs[t - 1] - (t % 2)) : c.n();
        }
        int rows = 0;
        for (int b : bs) {
            rows += b;
        }
        boolean lstm = c.kind() == CellKind.LSTM;
        float scale = (float) (1 / Math.sqrt(HID));
        TensorArgs a = new TensorArgs();
        a.kind = c.kind();
        a.reverse = c.reverse();
        a.batchSizes = bs;
        a.inputSize = IN;
        a.hiddenSize = HID;
        a.projSize = c.proj();
        a.x = rand(g, 1, rows, IN);
        a.h0 = rand(g, 1, c.n(), r);
        a.c0 = lstm ? rand(g, 1, c.n(), HID) : null;
        a.wIh = rand(g, scale, gh, IN);
        a.wHh = rand(g, scale, gh, r);
        a.bIh = rand(g, scale, gh);
        a.bHh = rand(g, scale, gh);
        a.wHr = c.proj() > 0 ? rand(g, scale, c.proj(), HID) : null;
        a.y = Tensor.full(Float.NaN, rows, r);
        a.hN = Tensor.full(Float.NaN, c.n(), r);
        a.cN = lstm ? Tensor.full(Float.NaN, c.n(), HID) : null;
        a.workspace = c.training() ? Tensor.full(Float.NaN, rows, c.kind().workspaceRow(HID, c.proj())) : null;
        return a;
    }

    private static void backwardArgs(TensorArgs a, long seed) {
        Generator g = new Generator(seed + 1);
        a.dy = rand(g, 1, a.rows(), a.outputSize());
        a.dhN = rand(g, 1, a.batch(), a.outputSize());
        a.dcN = a.kind == CellKind.LSTM ? rand(g, 1, a.batch(), a.hiddenSize) : null;
        a.dx = Tensor.zeros(a.rows(), a.inputSize);
        a.dh0 = Tensor.full(Float.NaN, a.batch(), a.outputSize());
        a.dc0 = a.kind == CellKind.LSTM ? Tensor.full(Float.NaN, a.batch(), a.hiddenSize) : null;
        a.dWIh = a.wIh.zerosLike();
        a.dWHh = a.wHh.zerosLike();
        a.dBIh = a.bIh.zerosLike();
        a.dBHh = a.bHh.zerosLike();
        a.dWHr = a.wHr == null ? null : a.wHr.zerosLike();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void splitStepMatchesReference(Case c) {
        long seed = c.toString().hashCode();
        TensorArgs nat = args(c, seed);
        TensorArgs ref = args(c, seed);
        NATIVE.rnnForward(TensorArgs.views(nat));
        REF.rnnForward(TensorArgs.views(ref));
        String name = c + " ";
        TensorAssert.assertClose(nat.y, ref.y, FWD_TOL, FWD_TOL, name + "y");
        TensorAssert.assertClose(nat.hN, ref.hN, FWD_TOL, FWD_TOL, name + "hN");
        if (nat.cN != null) {
            TensorAssert.assertClose(nat.cN, ref.cN, FWD_TOL, FWD_TOL, name + "cN");
        }
        if (!c.training()) {
            return;
        }
        TensorAssert.assertClose(nat.workspace, ref.workspace, FWD_TOL, FWD_TOL, name + "workspace");
        backwardArgs(nat, seed);
        backwardArgs(ref, seed);
        NATIVE.rnnBackward(TensorArgs.views(nat));
        REF.rnnBackward(TensorArgs.views(ref));
        TensorAssert.assertClose(nat.dx, ref.dx, BWD_TOL, BWD_TOL, name + "dx");
        TensorAssert.assertClose(nat.dh0, ref.dh0, BWD_TOL, BWD_TOL, name + "dh0");
        TensorAssert.assertClose(nat.dWHh, ref.dWHh, BWD_TOL, BWD_TOL, name + "weight_hh grad");
        TensorAssert.assertClose(nat.dWIh, ref.dWIh, BWD_TOL, BWD_TOL, name + "weight_ih grad");
        TensorAssert.assertClose(nat.dBIh, ref.dBIh, BWD_TOL, BWD_TOL, name + "bias_ih grad");
        TensorAssert.assertClose(nat.dBHh, ref.dBHh, BWD_TOL, BWD_TOL, name + "bias_hh grad");
        if (nat.dc0 != null) {
            TensorAssert.assertClose(nat.dc0, ref.dc0, BWD_TOL, BWD_TOL, name + "dc0");
        }
        if (nat.dWHr != null) {
            TensorAssert.assertClose(nat.dWHr, ref.dWHr, BWD_TOL, BWD_TOL, name + "weight_hr grad");
        }
    }

    /** y, hN and cN of one native forward, as one array. */
    private static float[] run(Case c, long seed) {
        TensorArgs a = args(c, seed);
        NATIVE.rnnForward(TensorArgs.views(a));
        float[] y = a.y.toArray();
        float[] h = a.hN.toArray();
        float[] cs = a.cN == null ? new float[0] : a.cN.toArray();
        float[] out = new float[y.length + h.length + cs.length];
        System.arraycopy(y, 0, out, 0, y.length);
        System.arraycopy(h, 0, out, y.length, h.length);
        System.arraycopy(cs, 0, out, y.length + h.length, cs.length);
        return out;
    }

    @Test
    void concurrentCallersGetSerialResults() throws Exception {
        Case[] shapes = {
            new Case(CellKind.LSTM, 0, 1, 1, false, false, false),
            new Case(CellKind.GRU, 0, 2, 3, false, true, false),
            new Case(CellKind.LSTM, 50, 3, 4, true, false, true),
            new Case(CellKind.RNN_TANH, 0, 4, 2, false, false, false),
            new Case(CellKind.LSTM, 0, 37, 3, true, false, false),  // wide split, or the same panels alone
            new Case(CellKind.GRU, 0, 37, 2, false, true, true),
        };
        int threads = 6;
        int rounds = 40;
        float[][] serial = new float[threads][];
        for (int k = 0; k < threads; k++) {
            serial[k] = run(shapes[k % shapes.length], 100 + k);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                final int id = k;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        assertArrayEquals(serial[id], run(shapes[id % shapes.length], 100 + id),
                                "thread " + id + " call " + i + " differs from the serial result");
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
