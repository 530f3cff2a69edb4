package org.rnn4j.nn;

import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.autograd.Node;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.CellKind;
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
        RnnLayerArgs[] args = new RnnLayerArgs[dirs];
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int d = 0; d < dirs; d++) {
            RnnLayerArgs a = new RnnLayerArgs();
            a.kind = kind;
            a.reverse = d == 1;
            a.batchSizes = batchSizes;
            a.inputSize = x.size(1);
            a.hiddenSize = hidden;
            a.projSize = proj;
            a.x = xc;
            a.h0 = h0c.select(0, d);
            a.c0 = lstm ? c0c.select(0, d) : null;
            a.wIh = weights[d].wIh;
            a.wHh = weights[d].wHh;
            a.bIh = weights[d].bIh;
            a.bHh = weights[d].bHh;
            a.wHr = weights[d].wHr;
            a.y = dirs == 1 ? y : y.narrow(1, d * r, r);
            a.hN = hN.select(0, d);
            a.cN = lstm ? cN.select(0, d) : null;
            a.workspace = record ? Tensor.zeros(x.device(), rows, kind.workspaceRow(hidden, proj)) : null;
            args[d] = a;
            }
        }
        Backend backend = x.backend();
        backend.rnnForward(args);
        if (record) {
            Node node = new LayerNode(kind, args, inputs, y, r, hidden, lstm);
            y.attach(node, 0);
            hN.attach(node, 1);
            if (cN != null) {
                cN.attach(node, 2);
            }
        }
        return new Result(y, hN, cN);
    }

    private static final class LayerNode extends Node {
        private final RnnLayerArgs[] args;
        private final int r;
        private final int hidden;
        private final boolean lstm;

        LayerNode(CellKind kind, RnnLayerArgs[] args, Tensor[] inputs, Tensor y, int r, int hidden, boolean lstm) {
            super(kind + "Layer", 3, inputs);
            this.args = args;
            this.r = r;
            this.hidden = hidden;
            this.lstm = lstm;
        }

        @Override
        protected Tensor[] backward(Tensor[] g) {
            RnnLayerArgs a0 = args[0];
            int dirs = args.length;
            int rows = a0.x.size(0);
            int n = a0.batch();
            Tensor y = a0.y; // (S, R) or a column view of (S, D*R): its storage is the node's output
            Tensor gy = g[0] != null ? g[0].contiguous() : Tensor.zeros(y.device(), rows, dirs * r);
            Tensor gh = g[1] != null ? g[1].contiguous() : null;
            Tensor gc = g[2] != null ? g[2].contiguous() : null;
            Tensor[] out = new Tensor[3 + 5 * dirs];
            Tensor dx = needs(0) ? Tensor.zeros(y.device(), rows, a0.inputSize) : null;
            Tensor dh0 = needs(1) ? Tensor.zeros(y.device(), dirs, n, r) : null;
            Tensor dc0 = lstm && needs(2) ? Tensor.zeros(y.device(), dirs, n, hidden) : null;
            out[0] = dx;
            out[1] = dh0;
            out[2] = dc0;
            for (int d = 0; d < dirs; d++) {
                RnnLayerArgs a = args[d];
                a.dy = dirs == 1 ? gy : gy.narrow(1, d * r, r);
                a.dhN = gh == null ? null : gh.select(0, d);
                a.dcN = gc == null ? null : gc.select(0, d);
                a.dx = dx;
                a.dh0 = dh0 == null ? null : dh0.select(0, d);
                a.dc0 = dc0 == null ? null : dc0.select(0, d);
                int base = 3 + 5 * d;
                a.dWIh = grad(out, base, a.wIh);
                a.dWHh = grad(out, base + 1, a.wHh);
                a.dBIh = grad(out, base + 2, a.bIh);
                a.dBHh = grad(out, base + 3, a.bHh);
                a.dWHr = grad(out, base + 4, a.wHr);
            }
            y.backend().rnnBackward(args);
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
            for (RnnLayerArgs a : args) {
                if (a.workspace != null) {
                    a.workspace.close();
                    a.workspace = null;
                }
            }
        }
    }
}
