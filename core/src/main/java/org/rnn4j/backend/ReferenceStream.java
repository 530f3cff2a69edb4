package org.rnn4j.backend;

import java.nio.FloatBuffer;

/**
 * The reference backend's streaming kernel: one plain loop per stream row and step, the same
 * equations and accumulation order as {@link ReferenceRnn#forward} (dot products in double, bias
 * first), so a row's bits depend on nothing but that row: batch-invariant by construction.
 */
final class ReferenceStream implements RnnStreamSpec.Kernel {
    private final RnnStreamSpec s;
    private final int r;
    private final int g;
    private volatile boolean closed;

    ReferenceStream(RnnStreamSpec spec) {
        this.s = spec;
        this.r = spec.layerOutputSize();
        this.g = spec.kind().gates() * spec.hiddenSize();
    }

    @Override
    public String describe() {
        return "reference (plain Java, per-row loops)";
    }

    @Override
    public void close() {
        closed = true;
    }

    private static float sigmoid(double x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    private static void matVec(float[] w, int rows, int cols, float[] v, float[] bias, double[] out) {
        for (int j = 0; j < rows; j++) {
            double acc = bias == null ? 0 : bias[j];
            for (int q = 0; q < cols; q++) {
                acc += (double) w[j * cols + q] * v[q];
            }
            out[j] = acc;
        }
    }

    @Override
    public void run(int rows, int steps, FloatBuffer x, FloatBuffer state, FloatBuffer out, boolean allSteps) {
        if (closed) {
            throw new IllegalStateException("reference stream kernel is closed");
        }
        final int in = s.inputSize();
        final int hid = s.hiddenSize();
        final int layers = s.numLayers();
        final int sf = s.stateSize();
        final int o = s.outputSize();
        final boolean lstm = s.kind() == CellKind.LSTM;
        final int perLayer = r + (lstm ? hid : 0);
        double[] gi = new double[g];
        double[] gh = new double[g];
        float[] h = new float[r];
        float[] c = new float[hid];
        float[] hPre = new float[hid];
        float[] hNew = new float[r];
        double[] proj = new double[Math.max(s.projSize(), 1)];
        double[] head = new double[Math.max(o, 1)];
        float[] layerIn = new float[Math.max(in, r)];
        float[] xin = new float[in];
        for (int b = 0; b < rows; b++) {
            for (int t = 0; t < steps; t++) {
                x.get((b * steps + t) * in, xin);
                float[] cur = xin;
                for (int l = 0; l < layers; l++) {
                    int base = b * sf + l * perLayer;
                    state.get(base, h);
                    if (lstm) {
                        state.get(base + r, c);
                    }
                    int k = l == 0 ? in : r;
                    matVec(s.wIh()[l], g, k, cur, s.bIh()[l], gi);
                    matVec(s.wHh()[l], g, r, h, s.bHh()[l], gh);
                    switch (s.kind()) {
                        case RNN_TANH, RNN_RELU -> {
                            for (int j = 0; j < hid; j++) {
                                double pre = gi[j] + gh[j];
                                hNew[j] = s.kind() == CellKind.RNN_TANH ? (float) Math.tanh(pre) : (float) Math.max(pre, 0);
                            }
                        }
                        case LSTM -> {
                            for (int j = 0; j < hid; j++) {
                                float ig = sigmoid(gi[j] + gh[j]);
                                float fg = sigmoid(gi[hid + j] + gh[hid + j]);
                                float gg = (float) Math.tanh(gi[2 * hid + j] + gh[2 * hid + j]);
                                float og = sigmoid(gi[3 * hid + j] + gh[3 * hid + j]);
                                float cNew = fg * c[j] + ig * gg;
                                c[j] = cNew;
                                hPre[j] = og * (float) Math.tanh(cNew);
                            }
                            if (s.projSize() > 0) {
                                matVec(s.wHr()[l], s.projSize(), hid, hPre, null, proj);
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
                                float ng = (float) Math.tanh(gi[2 * hid + j] + rg * gh[2 * hid + j]);
                                hNew[j] = (1 - zg) * ng + zg * h[j];
                            }
                        }
                        default -> throw new IllegalStateException("unknown cell " + s.kind());
                    }
                    state.put(base, hNew);
                    if (lstm) {
                        state.put(base + r, c);
                    }
                    System.arraycopy(hNew, 0, layerIn, 0, r);
                    cur = layerIn; // its first R floats
                }
                if (allSteps || t == steps - 1) {
                    int row = allSteps ? b * steps + t : b;
                    if (s.headOut() > 0) {
                        matVec(s.headW(), o, r, cur, s.headB(), head);
                        for (int j = 0; j < o; j++) {
                            out.put(row * o + j, (float) head[j]);
                        }
                    } else {
                        out.put(row * o, cur, 0, r);
                    }
                }
            }
        }
    }
}
