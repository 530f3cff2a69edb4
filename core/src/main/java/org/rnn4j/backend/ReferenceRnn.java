package org.rnn4j.backend;


/**
 * The recurrent layer in plain Java, step by step, as the equations read. The oracle for the
 * native kernels. Letters as in {@link RnnLayerArgs}: S packed rows, N batch, I input, H hidden,
 * R output (P or H), G gates. Dot products accumulate in double.
 */
final class ReferenceRnn {
    private ReferenceRnn() {
    }

    private static float[] read(View t) {
        if (t == null) {
            return null;
        }
        float[] v = new float[(int) t.numel()];
        ReferenceBackend.INSTANCE.read(t, v, 0);
        return v;
    }

    private static void write(View t, float[] v) {
        ReferenceBackend.INSTANCE.write(t, v, 0);
    }

    private static float sigmoid(double x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** out[j] = sum_q w[j, q] * v[vOff + q] (+ bias[j]) for j in [0, rows). */
    private static void matVec(float[] w, int rows, int cols, float[] v, int vOff, float[] bias, double[] out) {
        for (int j = 0; j < rows; j++) {
            double s = bias == null ? 0 : bias[j];
            for (int q = 0; q < cols; q++) {
                s += (double) w[j * cols + q] * v[vOff + q];
            }
            out[j] = s;
        }
    }

    /** Row offset of each step in the packed layout. */
    static int[] stepOffsets(int[] batchSizes) {
        int[] off = new int[batchSizes.length];
        for (int t = 1; t < batchSizes.length; t++) {
            off[t] = off[t - 1] + batchSizes[t - 1];
        }
        return off;
    }

    static void forward(RnnLayerArgs a) {
        final int steps = a.steps();
        final int n = a.batch();
        final int in = a.inputSize;
        final int hid = a.hiddenSize;
        final int r = a.outputSize();
        final int g = a.kind.gates();
        final int rows = a.rows();
        final int wsRow = a.kind.workspaceRow(hid, a.projSize);
        final int[] off = stepOffsets(a.batchSizes);

        float[] x = read(a.get(RnnBuffer.X)); // (S, I)
        float[] wIh = read(a.get(RnnBuffer.W_IH)); // (G*H, I)
        float[] wHh = read(a.get(RnnBuffer.W_HH)); // (G*H, R)
        float[] bIh = read(a.get(RnnBuffer.B_IH)); // (G*H)
        float[] bHh = read(a.get(RnnBuffer.B_HH)); // (G*H)
        float[] wHr = read(a.get(RnnBuffer.W_HR)); // (P, H)
        float[] h = read(a.get(RnnBuffer.H0)); // (N, R) running state
        float[] c = a.kind == CellKind.LSTM ? read(a.get(RnnBuffer.C0)) : null; // (N, H)
        float[] y = new float[rows * r]; // (S, R)
        float[] ws = new float[rows * wsRow]; // (S, wsRow)

        double[] gi = new double[g * hid];
        double[] gh = new double[g * hid];
        float[] hNew = new float[r];
        float[] hPre = new float[hid];
        double[] proj = new double[Math.max(a.projSize, 1)];

        for (int s = 0; s < steps; s++) {
            checkInterrupt("rnnForward");
            int t = a.reverse ? steps - 1 - s : s;
            for (int b = 0; b < a.batchSizes[t]; b++) {
                int row = off[t] + b;
                matVec(wIh, g * hid, in, x, row * in, bIh, gi);
                matVec(wHh, g * hid, r, h, b * r, bHh, gh);
                int w0 = row * wsRow;
                switch (a.kind) {
                    case RNN_TANH, RNN_RELU -> {
                        for (int j = 0; j < hid; j++) {
                            double pre = gi[j] + gh[j];
                            float v = a.kind == CellKind.RNN_TANH ? (float) Math.tanh(pre) : (float) Math.max(pre, 0);
                            hNew[j] = v;
                            ws[w0 + j] = v;
                        }
                    }
                    case LSTM -> {
                        for (int j = 0; j < hid; j++) {
                            float ig = sigmoid(gi[j] + gh[j]);
                            float fg = sigmoid(gi[hid + j] + gh[hid + j]);
                            float gg = (float) Math.tanh(gi[2 * hid + j] + gh[2 * hid + j]);
                            float og = sigmoid(gi[3 * hid + j] + gh[3 * hid + j]);
                            float cNew = fg * c[b * hid + j] + ig * gg;
                            c[b * hid + j] = cNew;
                            hPre[j] = og * (float) Math.tanh(cNew);
                            ws[w0 + j] = ig;
                            ws[w0 + hid + j] = fg;
                            ws[w0 + 2 * hid + j] = gg;
                            ws[w0 + 3 * hid + j] = og;
                            ws[w0 + 4 * hid + j] = cNew;
                        }
                        if (a.projSize > 0) {
                            System.arraycopy(hPre, 0, ws, w0 + 5 * hid, hid);
                            matVec(wHr, a.projSize, hid, hPre, 0, null, proj);
                            for (int j = 0; j < r; j++) {
                                hNew[j] = (float) proj[j];
                            }
                        } else {
                            System.arraycopy(hPre, 0, hNew, 0, hid);
                        }
                    }
                    case GRU -> {
                        for (int j = 0; j < hid; j++) {
                            float rg = sigmoid(gi[j] + gh[j]);
                            float zg = sigmoid(gi[hid + j] + gh[hid + j]);
                            float hn = (float) gh[2 * hid + j];
                            float ng = (float) Math.tanh(gi[2 * hid + j] + rg * gh[2 * hid + j]);
                            hNew[j] = (1 - zg) * ng + zg * h[b * r + j];
                            ws[w0 + j] = rg;
                            ws[w0 + hid + j] = zg;
                            ws[w0 + 2 * hid + j] = ng;
                            ws[w0 + 3 * hid + j] = hn;
                        }
                    }
                    default -> throw new IllegalStateException("unknown cell " + a.kind);
                }
                System.arraycopy(hNew, 0, h, b * r, r);
                System.arraycopy(hNew, 0, y, row * r, r);
            }
        }
        write(a.get(RnnBuffer.Y), y);
        write(a.get(RnnBuffer.H_N), h);
        if (a.kind == CellKind.LSTM) {
            write(a.get(RnnBuffer.C_N), c);
        }
        if (a.get(RnnBuffer.WS) != null) {
            write(a.get(RnnBuffer.WS), ws);
        }
    }

    static void backward(RnnLayerArgs a) {
        final int steps = a.steps();
        final int n = a.batch();
        final int in = a.inputSize;
        final int hid = a.hiddenSize;
        final int r = a.outputSize();
        final int p = a.projSize;
        final int g = a.kind.gates();
        final int rows = a.rows();
        final int wsRow = a.kind.workspaceRow(hid, p);
        final int[] off = stepOffsets(a.batchSizes);
        final boolean lstm = a.kind == CellKind.LSTM;

        float[] x = read(a.get(RnnBuffer.X));
        float[] wIh = read(a.get(RnnBuffer.W_IH));
        float[] wHh = read(a.get(RnnBuffer.W_HH));
        float[] wHr = read(a.get(RnnBuffer.W_HR));
        float[] h0 = read(a.get(RnnBuffer.H0));
        float[] c0 = lstm ? read(a.get(RnnBuffer.C0)) : null;
        float[] y = read(a.get(RnnBuffer.Y));
        float[] ws = read(a.get(RnnBuffer.WS));
        float[] dy = read(a.get(RnnBuffer.DY));

        double[] dh = new double[n * r]; // running gradient of the state
        double[] dc = lstm ? new double[n * hid] : null;
        if (a.get(RnnBuffer.DH_N) != null) {
            float[] v = read(a.get(RnnBuffer.DH_N));
            for (int i = 0; i < v.length; i++) {
                dh[i] = v[i];
            }
        }
        if (lstm && a.get(RnnBuffer.DC_N) != null) {
            float[] v = read(a.get(RnnBuffer.DC_N));
            for (int i = 0; i < v.length; i++) {
                dc[i] = v[i];
            }
        }
        double[] dx = new double[rows * in];
        double[] dWIh = new double[g * hid * in];
        double[] dWHh = new double[g * hid * r];
        double[] dBIh = new double[g * hid];
        double[] dBHh = new double[g * hid];
        double[] dWHr = new double[Math.max(p, 0) * hid];

        double[] dgi = new double[g * hid]; // gradient of the input-side pre-activations
        double[] dgh = new double[g * hid]; // gradient of the hidden-side pre-activations
        double[] dhPre = new double[hid];
        float[] hPrev = new float[r];

        for (int s = steps - 1; s >= 0; s--) {
            checkInterrupt("rnnBackward");
            int t = a.reverse ? steps - 1 - s : s;
            // previous step in the direction of travel, and how many of its rows exist
            int prevT = a.reverse ? t + 1 : t - 1;
            boolean hasPrev = prevT >= 0 && prevT < steps;
            for (int b = 0; b < a.batchSizes[t]; b++) {
                int row = off[t] + b;
                boolean fromPrev = hasPrev && b < a.batchSizes[prevT];
                int prevRow = fromPrev ? off[prevT] + b : -1;
                for (int j = 0; j < r; j++) {
                    hPrev[j] = fromPrev ? y[prevRow * r + j] : h0[b * r + j];
                    dh[b * r + j] += dy[row * r + j];
                }
                int w0 = row * wsRow;
                switch (a.kind) {
                    case RNN_TANH, RNN_RELU -> {
                        for (int j = 0; j < hid; j++) {
                            float hv = ws[w0 + j];
                            double d = a.kind == CellKind.RNN_TANH ? dh[b * r + j] * (1 - (double) hv * hv)
                                    : (hv > 0 ? dh[b * r + j] : 0);
                            dgi[j] = d;
                            dgh[j] = d;
                        }
                    }
                    case LSTM -> {
                        if (p > 0) {
                            for (int k = 0; k < hid; k++) {
                                double s2 = 0;
                                for (int j = 0; j < p; j++) {
                                    s2 += dh[b * r + j] * wHr[j * hid + k];
                                    dWHr[j * hid + k] += dh[b * r + j] * ws[w0 + 5 * hid + k];
                                }
                                dhPre[k] = s2;
                            }
                        } else {
                            for (int k = 0; k < hid; k++) {
                                dhPre[k] = dh[b * r + k];
                            }
                        }
                        for (int j = 0; j < hid; j++) {
                            double ig = ws[w0 + j];
                            double fg = ws[w0 + hid + j];
                            double gg = ws[w0 + 2 * hid + j];
                            double og = ws[w0 + 3 * hid + j];
                            double cv = ws[w0 + 4 * hid + j];
                            double cPrev = fromPrev ? ws[prevRow * wsRow + 4 * hid + j] : c0[b * hid + j];
                            double tc = Math.tanh(cv);
                            double dcv = dc[b * hid + j] + dhPre[j] * og * (1 - tc * tc);
                            double dI = dcv * gg * ig * (1 - ig);
                            double dF = dcv * cPrev * fg * (1 - fg);
                            double dG = dcv * ig * (1 - gg * gg);
                            double dO = dhPre[j] * tc * og * (1 - og);
                            dgi[j] = dI;
                            dgi[hid + j] = dF;
                            dgi[2 * hid + j] = dG;
                            dgi[3 * hid + j] = dO;
                            dc[b * hid + j] = dcv * fg;
                        }
                        System.arraycopy(dgi, 0, dgh, 0, 4 * hid);
                    }
                    case GRU -> {
                        for (int j = 0; j < hid; j++) {
                            double rg = ws[w0 + j];
                            double zg = ws[w0 + hid + j];
                            double ng = ws[w0 + 2 * hid + j];
                            double hn = ws[w0 + 3 * hid + j];
                            double d = dh[b * r + j];
                            double dn = d * (1 - zg) * (1 - ng * ng);
                            double dz = d * (hPrev[j] - ng) * zg * (1 - zg);
                            double dr = dn * hn * rg * (1 - rg);
                            dgi[j] = dr;
                            dgi[hid + j] = dz;
                            dgi[2 * hid + j] = dn;
                            dgh[j] = dr;
                            dgh[hid + j] = dz;
                            dgh[2 * hid + j] = dn * rg;
                        }
                    }
                    default -> throw new IllegalStateException("unknown cell " + a.kind);
                }
                // gradient to the previous state: direct path (GRU's z*h) plus through W_hh
                for (int k = 0; k < r; k++) {
                    double s2 = a.kind == CellKind.GRU ? dh[b * r + k] * ws[w0 + hid + k] : 0;
                    for (int j = 0; j < g * hid; j++) {
                        s2 += dgh[j] * wHh[j * r + k];
                    }
                    dh[b * r + k] = s2;
                }
                for (int j = 0; j < g * hid; j++) {
                    dBIh[j] += dgi[j];
                    dBHh[j] += dgh[j];
                    for (int k = 0; k < in; k++) {
                        dWIh[j * in + k] += dgi[j] * x[row * in + k];
                        dx[row * in + k] += dgi[j] * wIh[j * in + k];
                    }
                    for (int k = 0; k < r; k++) {
                        dWHh[j * r + k] += dgh[j] * hPrev[k];
                    }
                }
            }
        }
        accumulate(a.get(RnnBuffer.DX), dx);
        accumulate(a.get(RnnBuffer.DW_IH), dWIh);
        accumulate(a.get(RnnBuffer.DW_HH), dWHh);
        accumulate(a.get(RnnBuffer.DB_IH), dBIh);
        accumulate(a.get(RnnBuffer.DB_HH), dBHh);
        if (p > 0) {
            accumulate(a.get(RnnBuffer.DW_HR), dWHr);
        }
        if (a.get(RnnBuffer.DH0) != null) {
            write(a.get(RnnBuffer.DH0), toFloat(dh));
        }
        if (lstm && a.get(RnnBuffer.DC0) != null) {
            write(a.get(RnnBuffer.DC0), toFloat(dc));
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static void accumulate(View t, double[] d) {
        if (t == null) {
            return;
        }
        float[] v = read(t);
        for (int i = 0; i < v.length; i++) {
            v[i] += (float) d[i];
        }
        write(t, v);
    }

    /** Between two steps, as the native kernels do: an interrupted thread stops the layer call (its interrupt status stays set). */
    static void checkInterrupt(String op) {
        if (Thread.currentThread().isInterrupted()) {
            throw new java.util.concurrent.CancellationException(op + ": interrupted between time steps"
                    + " (Thread.interrupt); outputs incomplete");
        }
    }
}
