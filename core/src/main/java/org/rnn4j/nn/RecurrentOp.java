package org.rnn4j.nn;

import org.rnn4j.GradFn;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.Pins;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnLayerArgs;

/**
 * One recurrent layer in D directions over a packed sequence as ONE autograd node: forward is one
 * backend call (both directions together), backward is one backend call.
 *
 * <p>Dimension letters as in {@link org.rnn4j.nn}: S packed rows, N batch, H_in, H_cell, H_out, D.
 */
final class RecurrentOp {
    private RecurrentOp() {
    }

    /** The parameters of one direction of one layer; absent ones are null. */
    record Weights(Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh, Tensor wHr) {
        Tensor[] all() {
            return new Tensor[] {wIh, wHh, bIh, bHh, wHr};
        }
    }

    /**
     * What one layer returns: y (S, D*H_out) with direction d in columns [d*H_out, (d+1)*H_out);
     * hN (D, N, H_out); cN (D, N, H_cell) for LSTM, else null.
     */
    record Result(Tensor y, Tensor hN, Tensor cN) {
    }

    /**
     * @param x (S, H_in) layer input, packed time-major
     * @param h0 (D, N, H_out) initial hidden state, sorted batch order
     * @param c0 (D, N, H_cell) initial cell state (LSTM), else null
     */
    static Result apply(CellKind kind, int[] batchSizes, int hidden, int proj, Tensor x, Tensor h0, Tensor c0,
                          Weights[] weights) {
        final int dirs = weights.length;
        final int r = proj > 0 ? proj : hidden;
        final int rows = x.size(0);
        final int n = batchSizes[0];
        final boolean lstm = kind == CellKind.LSTM;
        Tensor[] inputs = new Tensor[3 + 5 * dirs];
        inputs[0] = x;
        inputs[1] = h0;
        inputs[2] = c0;
        for (int d = 0; d < dirs; d++) {
            System.arraycopy(weights[d].all(), 0, inputs, 3 + 5 * d, 5);
        }
        boolean record = false;
        if (GradMode.isEnabled()) {
            for (Tensor t : inputs) {
                record |= t != null && t.requiresGrad();
            }
        }
        Tensor xc;
        Tensor h0c;
        Tensor c0c;
        try (GradMode.Guard g = GradMode.noGrad()) {
            // kernels want dense rows; contiguous inputs are used as they are (no alias views)
            xc = x.isContiguous() ? x : x.contiguous();
            h0c = h0.isContiguous() ? h0 : h0.contiguous();
            c0c = !lstm ? null : c0.isContiguous() ? c0 : c0.contiguous();
        }
        Tensor y = Tensor.zeros(x.device(), rows, dirs * r);
        Tensor hN = Tensor.zeros(x.device(), dirs, n, r);
        Tensor cN = lstm ? Tensor.zeros(x.device(), dirs, n, hidden) : null;
        Call call = new Call(kind, batchSizes, x.size(1), hidden, proj, dirs);
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int d = 0; d < dirs; d++) {
                call.set(d, RnnBuffer.X, xc);
                call.set(d, RnnBuffer.H0, h0c.select(0, d));
                call.set(d, RnnBuffer.C0, lstm ? c0c.select(0, d) : null);
                call.set(d, RnnBuffer.W_IH, weights[d].wIh);
                call.set(d, RnnBuffer.W_HH, weights[d].wHh);
                call.set(d, RnnBuffer.B_IH, weights[d].bIh);
                call.set(d, RnnBuffer.B_HH, weights[d].bHh);
                call.set(d, RnnBuffer.W_HR, weights[d].wHr);
                call.set(d, RnnBuffer.Y, dirs == 1 ? y : y.narrow(1, d * r, r));
                call.set(d, RnnBuffer.H_N, hN.select(0, d));
                call.set(d, RnnBuffer.C_N, lstm ? cN.select(0, d) : null);
                call.set(d, RnnBuffer.WS, record ? Tensor.zeros(x.device(), rows, kind.workspaceRow(hidden, proj)) : null);
            }
        }
        call.run(x.backend(), false);
        if (record) {
            GradFn node = new LayerNode(kind, call, inputs, y, r, hidden, lstm);
            y.attach(node, 0);
            hN.attach(node, 1);
            if (cN != null) {
                cN.attach(node, 2);
            }
        }
        return new Result(y, hN, cN);
    }

    private static final class LayerNode extends GradFn {
        private final Call call;
        private final int r;
        private final int hidden;
        private final boolean lstm;

        LayerNode(CellKind kind, Call call, Tensor[] inputs, Tensor y, int r, int hidden, boolean lstm) {
            super(kind + "Layer", 3, inputs);
            this.call = call;
            this.r = r;
            this.hidden = hidden;
            this.lstm = lstm;
        }

        @Override
        protected Tensor[] backward(Tensor[] g) {
            int dirs = call.dirs();
            int rows = call.get(0, RnnBuffer.X).size(0);
            int n = call.batchSizes[0];
            Tensor y = call.get(0, RnnBuffer.Y); // (S, R) or a column view of (S, D*R)
            Tensor gy = g[0] != null ? g[0].contiguous() : Tensor.zeros(y.device(), rows, dirs * r);
            Tensor gh = g[1] != null ? g[1].contiguous() : null;
            Tensor gc = g[2] != null ? g[2].contiguous() : null;
            Tensor[] out = new Tensor[3 + 5 * dirs];
            Tensor dx = needs(0) ? Tensor.zeros(y.device(), rows, call.inputSize) : null;
            Tensor dh0 = needs(1) ? Tensor.zeros(y.device(), dirs, n, r) : null;
            Tensor dc0 = lstm && needs(2) ? Tensor.zeros(y.device(), dirs, n, hidden) : null;
            out[0] = dx;
            out[1] = dh0;
            out[2] = dc0;
            for (int d = 0; d < dirs; d++) {
                call.set(d, RnnBuffer.DY, dirs == 1 ? gy : gy.narrow(1, d * r, r));
                call.set(d, RnnBuffer.DH_N, gh == null ? null : gh.select(0, d));
                call.set(d, RnnBuffer.DC_N, gc == null ? null : gc.select(0, d));
                call.set(d, RnnBuffer.DX, dx);
                call.set(d, RnnBuffer.DH0, dh0 == null ? null : dh0.select(0, d));
                call.set(d, RnnBuffer.DC0, dc0 == null ? null : dc0.select(0, d));
                int base = 3 + 5 * d;
                call.set(d, RnnBuffer.DW_IH, grad(out, base, call.get(d, RnnBuffer.W_IH)));
                call.set(d, RnnBuffer.DW_HH, grad(out, base + 1, call.get(d, RnnBuffer.W_HH)));
                call.set(d, RnnBuffer.DB_IH, grad(out, base + 2, call.get(d, RnnBuffer.B_IH)));
                call.set(d, RnnBuffer.DB_HH, grad(out, base + 3, call.get(d, RnnBuffer.B_HH)));
                call.set(d, RnnBuffer.DW_HR, grad(out, base + 4, call.get(d, RnnBuffer.W_HR)));
            }
            call.run(y.backend(), true);
            return out;
        }

        private Tensor grad(Tensor[] out, int index, Tensor param) {
            if (param == null || !needs(index)) {
                return null;
            }
            out[index] = param.zerosLike();
            return out[index];
        }

        @Override
        protected void release() {
            for (int d = 0; d < call.dirs(); d++) {
                Tensor ws = call.get(d, RnnBuffer.WS);
                if (ws != null) {
                    ws.close();
                    call.set(d, RnnBuffer.WS, null);
                }
            }
        }
    }

    /**
     * The tensors of one layer call per direction, one per {@link RnnBuffer}: kept by the
     * autograd node between forward and backward, turned into pinned views for each backend call.
     */
    static final class Call {
        final CellKind kind;
        final int[] batchSizes;
        final int inputSize;
        final int hiddenSize;
        final int projSize;
        private final Tensor[][] buffers;

        Call(CellKind kind, int[] batchSizes, int inputSize, int hiddenSize, int projSize, int dirs) {
            this.kind = kind;
            this.batchSizes = batchSizes;
            this.inputSize = inputSize;
            this.hiddenSize = hiddenSize;
            this.projSize = projSize;
            this.buffers = new Tensor[dirs][RnnBuffer.COUNT];
        }

        int dirs() {
            return buffers.length;
        }

        Tensor get(int dir, RnnBuffer b) {
            return buffers[dir][b.ordinal()];
        }

        void set(int dir, RnnBuffer b, Tensor t) {
            buffers[dir][b.ordinal()] = t;
        }

        /** One backend call over every direction, the buffers pinned for its duration. */
        void run(Backend backend, boolean backward) {
            try (Pins pins = new Pins()) {
                RnnLayerArgs[] args = new RnnLayerArgs[dirs()];
                for (int d = 0; d < args.length; d++) {
                    RnnLayerArgs a = new RnnLayerArgs();
                    a.kind = kind;
                    a.reverse = d == 1;
                    a.batchSizes = batchSizes;
                    a.inputSize = inputSize;
                    a.hiddenSize = hiddenSize;
                    a.projSize = projSize;
                    for (RnnBuffer b : RnnBuffer.values()) {
                        Tensor t = buffers[d][b.ordinal()];
                        if (t != null) {
                            a.set(b, t.pin(pins));
                        }
                    }
                    args[d] = a;
                }
                if (backward) {
                    backend.rnnBackward(args);
                } else {
                    backend.rnnForward(args);
                }
            }
        }
    }
}
