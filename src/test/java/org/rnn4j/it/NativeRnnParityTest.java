package org.rnn4j.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
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
 * The native recurrent layer kernels against the plain-Java oracle (ReferenceBackend), forward
 * and backward, on seeded random shapes: every cell kind (LSTM with and without projection),
 * forward / reverse / both directions in one call, padded and packed batches, bias and no bias,
 * row-strided x, y and dy (column halves of a bidirectional (S, 2R) buffer).
 * Letters: T steps, N batch, S packed rows, I input, H hidden, P projection, R output, G gates.
 */
class NativeRnnParityTest {
    private static final Backend NATIVE = new NativeBackend();
    private static final Backend REF = ReferenceBackend.INSTANCE;
    private static final double FWD_TOL = 1e-5;
    private static final double BWD_TOL = 1e-4;

    @BeforeEach
    void nativeAvailable() {
        assumeTrue(NATIVE.isAvailable(), NATIVE.unavailableReason());
    }

    /** dirs: 0 forward only, 1 reverse only, 2 both in one call. */
    record Case(CellKind kind, boolean proj, int dirs, boolean packed, boolean bias, long seed, boolean large) {
        Case(CellKind kind, boolean proj, int dirs, boolean packed, boolean bias, long seed) {
            this(kind, proj, dirs, packed, bias, seed, false);
        }

        @Override
        public String toString() {
            return kind + (proj ? "+proj" : "") + " " + new String[] {"forward", "reverse", "bidirectional"}[dirs]
                    + (packed ? " packed" : " padded") + (bias ? " bias" : " no-bias") + " seed=" + seed
                    + (large ? " large" : "");
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        long seed = 1;
        for (CellKind kind : CellKind.values()) {
            for (boolean proj : kind == CellKind.LSTM ? new boolean[] {false, true} : new boolean[] {false}) {
                for (int dirs = 0; dirs < 3; dirs++) {
                    for (boolean packed : new boolean[] {false, true}) {
                        for (boolean bias : new boolean[] {true, false}) {
                            out.add(new Case(kind, proj, dirs, packed, bias, seed++));
                        }
                    }
                }
            }
        }
        // Larger layers: several parts per step shared with the step worker (H >= 128), batches
        // above the small-M kernels (the wide split at two threads) and more steps than one chunk
        // of the input GEMM (about 512 rows on the panels, 2048 through OpenBLAS).
        for (CellKind kind : new CellKind[] {CellKind.LSTM, CellKind.GRU, CellKind.RNN_TANH}) {
            for (boolean proj : kind == CellKind.LSTM ? new boolean[] {false, true} : new boolean[] {false}) {
                for (int dirs = 0; dirs < 3; dirs++) {
                    out.add(new Case(kind, proj, dirs, dirs != 1, dirs != 2, seed++, true));
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

    private static Tensor copyOf(Tensor t) {
        return t == null ? null : Tensor.fromArray(t.toArray(), t.shape());
    }

    /** Inputs of one direction, shared by both backends. */
    private static final class Params {
        Tensor h0, c0, wIh, wHh, bIh, bHh, wHr, dhN, dcN, dWIh0, dWHh0, dBIh0, dBHh0, dWHr0;
    }

    /** Everything one backend writes, so the two runs never share an output. */
    private static final class Outputs {
        Tensor yBuf, dxBuf;
        TensorArgs[] args;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void nativeMatchesReference(Case c) {
        Generator g = new Generator(c.seed() * 7919);
        int steps = c.large() ? 60 + g.nextInt(50) : 1 + g.nextInt(7);
        // above 4 rows the kernels switch from their own GEMM to OpenBLAS or the panels
        int n = c.large() ? 10 + g.nextInt(15) : 1 + g.nextInt(9);
        int in = 1 + g.nextInt(24);
        int hid = c.large() ? 128 + g.nextInt(90) : 2 + g.nextInt(20);
        int p = c.proj() ? 1 + g.nextInt(hid - 1) : 0;
        int r = p > 0 ? p : hid;
        int gh = c.kind().gates() * hid;
        int[] bs = new int[steps];
        bs[0] = n;
        for (int t = 1; t < steps; t++) {
            bs[t] = c.packed() ? 1 + g.nextInt(bs[t - 1]) : n;
        }
        if (c.packed() && steps > 1) {
            bs[steps - 1] = 1; // always include a single active row
        }
        int rows = 0;
        for (int b : bs) {
            rows += b;
        }
        int ndir = c.dirs() == 2 ? 2 : 1;
        boolean lstm = c.kind() == CellKind.LSTM;
        int wsRow = c.kind().workspaceRow(hid, p);
        float scale = (float) (1 / Math.sqrt(hid));

        // x (S, I): a column slice of a wider buffer on odd seeds, so its row stride is I + 3
        Tensor xBuf = rand(g, 1, rows, in + 3);
        Tensor x = c.seed() % 2 == 1 ? xBuf.narrow(1, 2, in) : xBuf.narrow(1, 0, in).contiguous();
        Tensor dyBuf = rand(g, 1, rows, 2 * r); // (S, 2R) bidirectional-style gradient of y
        Tensor dx0 = rand(g, 0.5f, rows, in); // dx accumulates onto this
        Params[] ps = new Params[ndir];
        for (int k = 0; k < ndir; k++) {
            Params q = new Params();
            q.h0 = rand(g, 1, n, r);
            q.c0 = lstm ? rand(g, 1, n, hid) : null;
            q.wIh = rand(g, scale, gh, in);
            q.wHh = rand(g, scale, gh, r);
            q.bIh = c.bias() ? rand(g, scale, gh) : null;
            q.bHh = c.bias() ? rand(g, scale, gh) : null;
            q.wHr = p > 0 ? rand(g, scale, p, hid) : null;
            q.dhN = g.nextInt(4) == 0 ? null : rand(g, 1, n, r);
            q.dcN = lstm && g.nextInt(4) != 0 ? rand(g, 1, n, hid) : null;
            q.dWIh0 = rand(g, 1, gh, in);
            q.dWHh0 = rand(g, 1, gh, r);
            q.dBIh0 = c.bias() ? rand(g, 1, gh) : null;
            q.dBHh0 = c.bias() ? rand(g, 1, gh) : null;
            q.dWHr0 = p > 0 ? rand(g, 1, p, hid) : null;
            ps[k] = q;
        }
        // single direction: y in the second column half of an (S, 2R) buffer on even seeds
        boolean yStrided = ndir == 2 || c.seed() % 2 == 0;

        Outputs[] runs = new Outputs[2];
        Backend[] backends = {NATIVE, REF};
        for (int b = 0; b < 2; b++) {
            Outputs o = new Outputs();
            o.yBuf = Tensor.full(Float.NaN, rows, yStrided ? 2 * r : r);
            o.dxBuf = copyOf(dx0);
            o.args = new TensorArgs[ndir];
            for (int k = 0; k < ndir; k++) {
                Params q = ps[k];
                TensorArgs a = new TensorArgs();
                a.kind = c.kind();
                a.reverse = c.dirs() == 1 || k == 1;
                a.batchSizes = bs.clone();
                a.inputSize = in;
                a.hiddenSize = hid;
                a.projSize = p;
                a.x = x;
                a.h0 = q.h0;
                a.c0 = q.c0;
                a.wIh = q.wIh;
                a.wHh = q.wHh;
                a.bIh = q.bIh;
                a.bHh = q.bHh;
                a.wHr = q.wHr;
                int col = ndir == 2 ? k * r : (yStrided ? r : 0);
                a.y = o.yBuf.narrow(1, col, r);
                a.hN = Tensor.full(Float.NaN, n, r);
                a.cN = lstm ? Tensor.full(Float.NaN, n, hid) : null;
                a.workspace = Tensor.full(Float.NaN, rows, wsRow);
                a.dy = dyBuf.narrow(1, ndir == 2 ? k * r : (yStrided ? r : 0), r);
                a.dhN = q.dhN;
                a.dcN = q.dcN;
                a.dx = o.dxBuf;
                a.dh0 = Tensor.full(Float.NaN, n, r);
                a.dc0 = lstm ? Tensor.full(Float.NaN, n, hid) : null;
                a.dWIh = copyOf(q.dWIh0);
                a.dWHh = copyOf(q.dWHh0);
                a.dBIh = copyOf(q.dBIh0);
                a.dBHh = copyOf(q.dBHh0);
                a.dWHr = copyOf(q.dWHr0);
                o.args[k] = a;
            }
            backends[b].rnnForward(TensorArgs.views(o.args));
            backends[b].rnnBackward(TensorArgs.views(o.args));
            runs[b] = o;
        }

        String name = c.toString();
        Outputs nat = runs[0];
        Outputs ref = runs[1];
        for (int k = 0; k < ndir; k++) {
            TensorArgs an = nat.args[k];
            TensorArgs ar = ref.args[k];
            String d = name + " dir " + k + " ";
            TensorAssert.assertClose(an.y, ar.y, FWD_TOL, FWD_TOL, d + "y");
            TensorAssert.assertClose(an.hN, ar.hN, FWD_TOL, FWD_TOL, d + "hN");
            if (lstm) {
                TensorAssert.assertClose(an.cN, ar.cN, FWD_TOL, FWD_TOL, d + "cN");
            }
            TensorAssert.assertClose(an.workspace, ar.workspace, FWD_TOL, FWD_TOL, d + "workspace");
            TensorAssert.assertClose(an.dh0, ar.dh0, BWD_TOL, BWD_TOL, d + "dh0");
            if (lstm) {
                TensorAssert.assertClose(an.dc0, ar.dc0, BWD_TOL, BWD_TOL, d + "dc0");
            }
            TensorAssert.assertClose(an.dWIh, ar.dWIh, BWD_TOL, BWD_TOL, d + "weight_ih grad");
            TensorAssert.assertClose(an.dWHh, ar.dWHh, BWD_TOL, BWD_TOL, d + "weight_hh grad");
            if (c.bias()) {
                TensorAssert.assertClose(an.dBIh, ar.dBIh, BWD_TOL, BWD_TOL, d + "bias_ih grad");
                TensorAssert.assertClose(an.dBHh, ar.dBHh, BWD_TOL, BWD_TOL, d + "bias_hh grad");
            }
            if (p > 0) {
                TensorAssert.assertClose(an.dWHr, ar.dWHr, BWD_TOL, BWD_TOL, d + "weight_hr grad");
            }
        }
        TensorAssert.assertClose(nat.yBuf, ref.yBuf, FWD_TOL, FWD_TOL, name + " y buffer (untouched columns stay NaN)");
        TensorAssert.assertClose(nat.dxBuf, ref.dxBuf, BWD_TOL, BWD_TOL, name + " dx");
    }
}
