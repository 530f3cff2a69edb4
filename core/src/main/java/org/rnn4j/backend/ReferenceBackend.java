package org.rnn4j.backend;

import java.nio.FloatBuffer;
import org.rnn4j.Device;

/**
 * The pure-Java backend: plain loops, written to be obviously correct. It is the oracle every
 * optimised backend is tested against and the fallback where no native build exists.
 * Accumulations run in double where that makes the oracle more accurate than the kernels.
 */
public final class ReferenceBackend implements Backend {
    /** The instance {@link Backends} registers (the backend has no fields). */
    public static final ReferenceBackend INSTANCE = new ReferenceBackend();

    /** Creates a reference backend; {@link #INSTANCE} serves where one is enough. */
    public ReferenceBackend() {
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    @Override
    public Storage allocate(long numel) {
        return new HostStorage(numel);
    }

    private static FloatBuffer buf(View t) {
        return ((HostStorage) t.storage()).buffer();
    }

    private static FloatBuffer buf(Storage s) {
        return ((HostStorage) s).buffer();
    }

    // ---- data movement -----------------------------------------------------------------

    @Override
    public void copy(View out, View src) {
        long n = out.numel();
        FloatBuffer o = buf(out);
        FloatBuffer s = buf(src);
        // read first: src and out may be the same storage
        float[] tmp = new float[(int) n];
        Strided is = new Strided(src);
        for (int i = 0; i < n; i++) {
            tmp[i] = s.get((int) is.next());
        }
        Strided os = new Strided(out);
        for (int i = 0; i < n; i++) {
            o.put((int) os.next(), tmp[i]);
        }
    }

    @Override
    public void fill(View out, float value) {
        long n = out.numel();
        FloatBuffer o = buf(out);
        Strided os = new Strided(out);
        for (int i = 0; i < n; i++) {
            o.put((int) os.next(), value);
        }
    }

    @Override
    public void read(View src, float[] dst, int dstOffset) {
        long n = src.numel();
        FloatBuffer s = buf(src);
        Strided is = new Strided(src);
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = s.get((int) is.next());
        }
    }

    @Override
    public void write(View out, float[] src, int srcOffset) {
        long n = out.numel();
        FloatBuffer o = buf(out);
        Strided os = new Strided(out);
        for (int i = 0; i < n; i++) {
            o.put((int) os.next(), src[srcOffset + i]);
        }
    }

    private static float[] values(View t) {
        float[] v = new float[(int) t.numel()];
        INSTANCE.read(t, v, 0);
        return v;
    }

    // ---- elementwise -------------------------------------------------------------------

    static float unary(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case RELU -> x > 0 ? x : 0f;
            case SQRT -> (float) Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1f / x;
            case SIGN -> Math.signum(x);
            case STEP -> x > 0 ? 1f : 0f;
        };
    }

    static float binary(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.max(a, b);
            case MIN -> Float.isNaN(a) || Float.isNaN(b) ? Float.NaN : Math.min(a, b);
            case POW -> (float) Math.pow(a, b);
            case GT -> a > b ? 1f : 0f;
            case GE -> a >= b ? 1f : 0f;
            case LT -> a < b ? 1f : 0f;
            case LE -> a <= b ? 1f : 0f;
            case EQ -> a == b ? 1f : 0f;
            case RSUB -> b - a;
            case RDIV -> b / a;
        };
    }

    @Override
    public void unary(UnaryOp op, View out, View x) {
        float[] v = values(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = unary(op, v[i]);
        }
        write(out, v, 0);
    }

    @Override
    public void binary(BinaryOp op, View out, View a, View b) {
        float[] va = values(a);
        float[] vb = values(b);
        for (int i = 0; i < va.length; i++) {
            va[i] = binary(op, va[i], vb[i]);
        }
        write(out, va, 0);
    }

    @Override
    public void binaryScalar(BinaryOp op, View out, View a, float scalar) {
        float[] va = values(a);
        for (int i = 0; i < va.length; i++) {
            va[i] = binary(op, va[i], scalar);
        }
        write(out, va, 0);
    }

    @Override
    public void addScaled(View out, View a, View b, float alpha) {
        float[] va = values(a);
        float[] vb = values(b);
        for (int i = 0; i < va.length; i++) {
            va[i] = va[i] + alpha * vb[i];
        }
        write(out, va, 0);
    }

    @Override
    public void where(View out, View cond, View a, View b) {
        float[] vc = values(cond);
        float[] va = values(a);
        float[] vb = values(b);
        for (int i = 0; i < va.length; i++) {
            va[i] = vc[i] != 0f ? va[i] : vb[i];
        }
        write(out, va, 0);
    }

    // ---- reductions --------------------------------------------------------------------

    @Override
    public void reduce(ReduceOp op, View out, View x, int outer, int n, int inner) {
        float[] v = values(x);
        float[] r = new float[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                switch (op) {
                    case SUM -> {
                        double s = 0;
                        for (int j = 0; j < n; j++) {
                            s += v[base + j * inner];
                        }
                        r[o * inner + i] = (float) s;
                    }
                    case MAX, MIN, ARGMAX, ARGMIN -> {
                        boolean isMax = op == ReduceOp.MAX || op == ReduceOp.ARGMAX;
                        int best = 0;
                        float bv = v[base];
                        for (int j = 1; j < n && !Float.isNaN(bv); j++) {
                            float c = v[base + j * inner];
                            if (Float.isNaN(c) || (isMax ? c > bv : c < bv)) {
                                best = j;
                                bv = c;
                            }
                        }
                        r[o * inner + i] = op == ReduceOp.MAX || op == ReduceOp.MIN ? bv : best;
                    }
                    default -> throw new IllegalArgumentException("reduce: unknown op " + op);
                }
            }
        }
        write(out, r, 0);
    }

    @Override
    public void softmax(View out, View x, int outer, int n, int inner, boolean log) {
        float[] v = values(x);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int base = o * n * inner + i;
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    mx = Math.max(mx, v[base + j * inner]);
                }
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += Math.exp(v[base + j * inner] - mx);
                }
                double lse = mx + Math.log(s);
                for (int j = 0; j < n; j++) {
                    int k = base + j * inner;
                    v[k] = log ? (float) (v[k] - lse) : (float) Math.exp(v[k] - lse);
                }
            }
        }
        write(out, v, 0);
    }

    @Override
    public double sumAll(View x) {
        double s = 0;
        for (float f : values(x)) {
            s += f;
        }
        return s;
    }

    @Override
    public double sumSquares(View... xs) {
        double s = 0;
        for (View x : xs) {
            for (float f : values(x)) {
                s += (double) f * f;
            }
        }
        return s;
    }

    @Override
    public void scale(View[] xs, float factor) {
        for (View x : xs) {
            binaryScalar(BinaryOp.MUL, x, x, factor);
        }
    }

    // ---- gemm --------------------------------------------------------------------------

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     View va, int lda, long strideA,
                     View vb, int ldb, long strideB,
                     float beta, View vc, int ldc, long strideC, int batch) {
        View.requireGemm(transA, transB, m, n, k, va, lda, strideA, vb, ldb, strideB, vc, ldc, strideC, batch);
        FloatBuffer fa = buf(va.storage());
        FloatBuffer fb = buf(vb.storage());
        FloatBuffer fc = buf(vc.storage());
        long offA = va.offset();
        long offB = vb.offset();
        long offC = vc.offset();
        for (int p = 0; p < batch; p++) {
            long ao = offA + p * strideA;
            long bo = offB + p * strideB;
            long co = offC + p * strideC;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        float av = fa.get((int) (ao + (transA ? (long) q * lda + i : (long) i * lda + q)));
                        float bv = fb.get((int) (bo + (transB ? (long) j * ldb + q : (long) q * ldb + j)));
                        s += (double) av * bv;
                    }
                    int ci = (int) (co + (long) i * ldc + j);
                    float prev = beta == 0f ? 0f : beta * fc.get(ci);
                    fc.put(ci, (float) (alpha * s) + prev);
                }
            }
        }
    }

    // ---- indexing ----------------------------------------------------------------------

    @Override
    public void indexSelect(View out, View x, int outer, int n, int inner, int[] idx) {
        float[] v = values(x);
        float[] r = new float[outer * idx.length * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                System.arraycopy(v, (o * n + idx[j]) * inner, r, (o * idx.length + j) * inner, inner);
            }
        }
        write(out, r, 0);
    }

    @Override
    public void indexAdd(View out, View g, int outer, int n, int inner, int[] idx) {
        float[] v = values(out);
        float[] gv = values(g);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < idx.length; j++) {
                for (int i = 0; i < inner; i++) {
                    v[(o * n + idx[j]) * inner + i] += gv[(o * idx.length + j) * inner + i];
                }
            }
        }
        write(out, v, 0);
    }

    @Override
    public void gather(View out, View x, int outer, int n, int inner, int m, int[] idx) {
        float[] v = values(x);
        float[] r = new float[outer * m * inner];
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < inner; i++) {
                    int q = (o * m + j) * inner + i;
                    r[q] = v[(o * n + idx[q]) * inner + i];
                }
            }
        }
        write(out, r, 0);
    }

    @Override
    public void scatterAdd(View out, View g, int outer, int n, int inner, int m, int[] idx) {
        float[] v = values(out);
        float[] gv = values(g);
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < m; j++) {
                for (int i = 0; i < inner; i++) {
                    int q = (o * m + j) * inner + i;
                    v[(o * n + idx[q]) * inner + i] += gv[q];
                }
            }
        }
        write(out, v, 0);
    }

    // ---- recurrent layers --------------------------------------------------------------

    @Override
    public void rnnForward(RnnLayerArgs... directions) {
        for (RnnLayerArgs a : directions) {
            a.validate("rnnForward", false);
        }
        for (RnnLayerArgs a : directions) {
            ReferenceRnn.forward(a);
        }
    }

    @Override
    public void rnnBackward(RnnLayerArgs... directions) {
        for (RnnLayerArgs a : directions) {
            a.validate("rnnBackward", true);
        }
        for (RnnLayerArgs a : directions) {
            ReferenceRnn.backward(a);
        }
    }

    @Override
    public RnnStreamSpec.Kernel rnnStreamKernel(RnnStreamSpec spec) {
        return new ReferenceStream(spec);
    }

    // ---- losses and optimizers ---------------------------------------------------------

    @Override
    public void crossEntropy(View lossPerRow, View dlogits, View logits, int[] target, int ignoreIndex,
                             float gradScale) {
        int rows = logits.size(0);
        int classes = logits.size(1);
        float[] z = values(logits);
        float[] loss = new float[rows];
        float[] d = dlogits == null ? null : new float[rows * classes];
        for (int r = 0; r < rows; r++) {
            if (target[r] == ignoreIndex) {
                continue;
            }
            double mx = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                mx = Math.max(mx, z[r * classes + c]);
            }
            double s = 0;
            for (int c = 0; c < classes; c++) {
                s += Math.exp(z[r * classes + c] - mx);
            }
            double lse = mx + Math.log(s);
            loss[r] = (float) (lse - z[r * classes + target[r]]);
            if (d != null) {
                for (int c = 0; c < classes; c++) {
                    double p = Math.exp(z[r * classes + c] - lse);
                    d[r * classes + c] = (float) ((p - (c == target[r] ? 1 : 0)) * gradScale);
                }
            }
        }
        write(lossPerRow, loss, 0);
        if (d != null) {
            write(dlogits, d, 0);
        }
    }

    @Override
    public void optimizerStep(OptimizerStep s, View[] params, View[] grads, View[] state1, View[] state2) {
        for (int i = 0; i < params.length; i++) {
            update(s, params[i], grads[i], state1 == null ? null : state1[i], state2 == null ? null : state2[i]);
        }
    }

    private void update(OptimizerStep s, View param, View grad, View state1, View state2) {
        float[] p = values(param);
        float[] g = values(grad);
        float[] m = state1 == null ? null : values(state1);
        float[] v = state2 == null ? null : values(state2);
        switch (s.kind()) {
            case SGD -> {
                for (int i = 0; i < p.length; i++) {
                    float gi = g[i] + s.weightDecay() * p[i];
                    if (s.momentum() != 0f) {
                        m[i] = s.first() ? gi : s.momentum() * m[i] + (1 - s.dampening()) * gi;
                        gi = s.nesterov() ? gi + s.momentum() * m[i] : m[i];
                    }
                    p[i] -= s.lr() * gi;
                }
            }
            case ADAM, ADAMW -> {
                double bc1 = 1 - Math.pow(s.beta1(), s.step());
                double bc2 = 1 - Math.pow(s.beta2(), s.step());
                for (int i = 0; i < p.length; i++) {
                    float gi = g[i];
                    if (s.kind() == OptimizerStep.Kind.ADAMW) {
                        p[i] *= 1 - s.lr() * s.weightDecay();
                    } else {
                        gi += s.weightDecay() * p[i];
                    }
                    m[i] = s.beta1() * m[i] + (1 - s.beta1()) * gi;
                    v[i] = s.beta2() * v[i] + (1 - s.beta2()) * gi * gi;
                    double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + s.eps();
                    p[i] -= (float) (s.lr() / bc1 * m[i] / denom);
                }
            }
            default -> throw new IllegalArgumentException("optimizerStep: unknown kind " + s.kind());
        }
        write(param, p, 0);
        if (m != null) {
            write(state1, m, 0);
        }
        if (v != null) {
            write(state2, v, 0);
        }
    }
}
