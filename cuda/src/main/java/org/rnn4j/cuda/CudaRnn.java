package org.rnn4j.cuda;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.View;

/**
 * One direction of one recurrent layer on the GPU, with ReferenceRnn's semantics (packed rows,
 * batch sizes non-increasing, reverse direction starting each sequence from h0 at its own last
 * element). The running state lives in a dense N x R buffer: at step t only its first bt rows
 * are active, so rows of sequences that already ended (forward) or have not started yet
 * (reverse) keep their value, which makes h_n (and dh0 in backward) simply that buffer at the end.
 *
 * <p>Path per case (no cuDNN): RNN tanh/relu, LSTM, LSTM with projection, GRU, packed or
 * padded, forward or reverse, all take the same path: cuBLAS for the input GEMM over all rows
 * and the per-step W_hh GEMM, rnn4j pointwise kernels (cell_math.h) for the gates.
 */
final class CudaRnn {
    private final Cuda cu;
    private final CudaBackend be;
    private final RnnLayerArgs a;
    private final String op;
    private final int steps;
    private final int n;
    private final int in;
    private final int hid;
    private final int r;
    private final int p;
    private final int gh;
    private final int wsRow;
    private final int rows;
    private final int[] off;
    private final List<long[]> scratch = new ArrayList<>();

    CudaRnn(Cuda cu, CudaBackend be, RnnLayerArgs a, boolean backward) {
        this.cu = cu;
        this.be = be;
        this.a = a;
        this.op = backward ? "rnnBackward" : "rnnForward";
        steps = a.steps();
        n = a.batch();
        in = a.inputSize;
        hid = a.hiddenSize;
        r = a.outputSize();
        p = a.projSize;
        gh = a.kind.gates() * hid;
        wsRow = a.kind.workspaceRow(hid, p);
        rows = a.rows();
        off = new int[steps];
        for (int t = 1; t < steps; t++) {
            off[t] = off[t - 1] + a.batchSizes[t - 1];
        }
    }

    private long ptr(RnnBuffer b) {
        View v = a.get(b);
        return v == null ? 0 : be.address(op, b, v);
    }

    /** Row stride in floats (validate() guarantees unit column stride and rows at least a row apart). */
    private long ld(RnnBuffer b) {
        View v = a.get(b);
        long cols = b.cols(a);
        return v.size(0) <= 1 ? Math.max(cols, 1) : v.stride(0);
    }

    private void copyRows(long dst, long ldd, long src, long lds, int nrows, int cols) {
        cu.args().ptr(dst).i64(ldd).ptr(src).i64(lds).i32(nrows).i32(cols);
        cu.launch(Kernel.COPY_ROWS, (long) nrows * cols);
    }

    private int kind() {
        return a.kind.code();
    }

    void forward() {
        try {
            final boolean lstm = a.kind == CellKind.LSTM;
            long x = ptr(RnnBuffer.X);
            long y = ptr(RnnBuffer.Y);
            long ws = ptr(RnnBuffer.WS);
            long wIh = ptr(RnnBuffer.W_IH);
            long wHh = ptr(RnnBuffer.W_HH);
            long wHr = ptr(RnnBuffer.W_HR);
            long ldy = ld(RnnBuffer.Y);
            long gx = be.scratch(scratch, (long) rows * gh, false);
            long ghs = be.scratch(scratch, (long) n * gh, false);
            long h = be.scratch(scratch, (long) n * r, false);
            long c = lstm ? be.scratch(scratch, (long) n * hid, false) : 0;
            long hpre = p > 0 ? be.scratch(scratch, (long) n * hid, false) : 0;
            copyRows(h, r, ptr(RnnBuffer.H0), ld(RnnBuffer.H0), n, r);
            if (lstm) {
                copyRows(c, hid, ptr(RnnBuffer.C0), ld(RnnBuffer.C0), n, hid);
            }
            // input projection of every row at once: gx = X W_ih^T (biases added in the step kernel)
            cu.gemm(false, true, rows, gh, in, 1f, x, (int) ld(RnnBuffer.X), 0, wIh, (int) ld(RnnBuffer.W_IH), 0, 0f, gx, gh, 0, 1);
            for (int s = 0; s < steps; s++) {
                CudaBackend.checkInterrupt(op);
                int t = a.reverse ? steps - 1 - s : s;
                int bt = a.batchSizes[t];
                cu.gemm(false, true, bt, gh, r, 1f, h, r, 0, wHh, (int) ld(RnnBuffer.W_HH), 0, 0f, ghs, gh, 0, 1);
                cu.args().i32(kind()).i32(hid).i32(r).i32(bt).ptr(gx + 4L * off[t] * gh).ptr(ghs).ptr(ptr(RnnBuffer.B_IH))
                        .ptr(ptr(RnnBuffer.B_HH)).ptr(h).ptr(c).ptr(y + 4L * off[t] * ldy).i64(ldy)
                        .ptr(ws == 0 ? 0 : ws + 4L * off[t] * wsRow).i32(wsRow).ptr(hpre).i32(p);
                cu.launch(Kernel.RNN_FWD_STEP, (long) bt * hid);
                if (p > 0) {
                    // h = (o * tanh(c)) W_hr^T, then into this step's output rows
                    cu.gemm(false, true, bt, p, hid, 1f, hpre, hid, 0, wHr, (int) ld(RnnBuffer.W_HR), 0, 0f, h, p, 0, 1);
                    copyRows(y + 4L * off[t] * ldy, ldy, h, r, bt, r);
                }
            }
            copyRows(ptr(RnnBuffer.H_N), ld(RnnBuffer.H_N), h, r, n, r);
            if (lstm) {
                copyRows(ptr(RnnBuffer.C_N), ld(RnnBuffer.C_N), c, hid, n, hid);
            }
        } finally {
            be.releaseAll(scratch);
        }
    }

    void backward() {
        try {
            final boolean lstm = a.kind == CellKind.LSTM;
            final boolean gru = a.kind == CellKind.GRU;
            long x = ptr(RnnBuffer.X);
            long y = ptr(RnnBuffer.Y);
            long ws = ptr(RnnBuffer.WS);
            long dy = ptr(RnnBuffer.DY);
            long h0 = ptr(RnnBuffer.H0);
            long c0 = ptr(RnnBuffer.C0);
            long wHh = ptr(RnnBuffer.W_HH);
            long wHr = ptr(RnnBuffer.W_HR);
            long ldy = ld(RnnBuffer.Y);
            long lddy = ld(RnnBuffer.DY);
            long ldh0 = ld(RnnBuffer.H0);
            long ldc0 = lstm ? ld(RnnBuffer.C0) : 0;
            long dgi = be.scratch(scratch, (long) rows * gh, false);
            long dgh = gru ? be.scratch(scratch, (long) rows * gh, false) : dgi;  // same except GRU's n block
            long hprev = be.scratch(scratch, (long) rows * r, false);
            long dh = be.scratch(scratch, (long) n * r, true);
            long dc = lstm ? be.scratch(scratch, (long) n * hid, true) : 0;
            long dhpre = p > 0 ? be.scratch(scratch, (long) n * hid, false) : 0;
            long dhall = p > 0 ? be.scratch(scratch, (long) rows * p, false) : 0;
            if (a.get(RnnBuffer.DH_N) != null) {
                copyRows(dh, r, ptr(RnnBuffer.DH_N), ld(RnnBuffer.DH_N), n, r);
            }
            if (lstm && a.get(RnnBuffer.DC_N) != null) {
                copyRows(dc, hid, ptr(RnnBuffer.DC_N), ld(RnnBuffer.DC_N), n, hid);
            }
            for (int s = steps - 1; s >= 0; s--) {
                CudaBackend.checkInterrupt(op);
                int t = a.reverse ? steps - 1 - s : s;
                int bt = a.batchSizes[t];
                int prevT = a.reverse ? t + 1 : t - 1;
                boolean hasPrev = prevT >= 0 && prevT < steps;
                int nPrev = hasPrev ? Math.min(bt, a.batchSizes[prevT]) : 0;
                long yPrev = hasPrev ? y + 4L * off[prevT] * ldy : 0;
                long wsPrev = hasPrev ? ws + 4L * off[prevT] * wsRow : 0;
                long hp = hprev + 4L * off[t] * r;
                cu.args().i32(r).i32(bt).ptr(hp).ptr(yPrev).i64(ldy).i32(nPrev).ptr(h0).i64(ldh0).ptr(dh)
                        .ptr(dy + 4L * off[t] * lddy).i64(lddy).ptr(p > 0 ? dhall + 4L * off[t] * p : 0);
                cu.launch(Kernel.RNN_BWD_PREP, (long) bt * r);
                long dhin = dh;
                int ldin = r;
                if (p > 0) {
                    // gradient of the unprojected output: dh W_hr
                    cu.gemm(false, false, bt, hid, p, 1f, dh, p, 0, wHr, (int) ld(RnnBuffer.W_HR), 0, 0f, dhpre, hid, 0, 1);
                    dhin = dhpre;
                    ldin = hid;
                }
                cu.args().i32(kind()).i32(hid).i32(r).i32(bt).ptr(dhin).i32(ldin).ptr(dh).ptr(dc)
                        .ptr(ws + 4L * off[t] * wsRow).i32(wsRow).ptr(wsPrev).i32(nPrev).ptr(c0).i64(ldc0).ptr(hp)
                        .ptr(dgi + 4L * off[t] * gh).ptr(gru ? dgh + 4L * off[t] * gh : 0);
                cu.launch(Kernel.RNN_BWD_STEP, (long) bt * hid);
                // gradient to the previous state: dh = (GRU: dh*z +) dgh W_hh
                cu.gemm(false, false, bt, r, gh, 1f, dgh + 4L * off[t] * gh, gh, 0, wHh, (int) ld(RnnBuffer.W_HH), 0,
                        gru ? 1f : 0f, dh, r, 0, 1);
            }
            // parameter and input gradients, one GEMM each over all rows (accumulating: beta 1)
            if (a.get(RnnBuffer.DX) != null) {
                cu.gemm(false, false, rows, in, gh, 1f, dgi, gh, 0, ptr(RnnBuffer.W_IH), (int) ld(RnnBuffer.W_IH), 0, 1f,
                        ptr(RnnBuffer.DX), (int) ld(RnnBuffer.DX), 0, 1);
            }
            if (a.get(RnnBuffer.DW_IH) != null) {
                cu.gemm(true, false, gh, in, rows, 1f, dgi, gh, 0, x, (int) ld(RnnBuffer.X), 0, 1f, ptr(RnnBuffer.DW_IH),
                        (int) ld(RnnBuffer.DW_IH), 0, 1);
            }
            if (a.get(RnnBuffer.DW_HH) != null) {
                cu.gemm(true, false, gh, r, rows, 1f, dgh, gh, 0, hprev, r, 0, 1f, ptr(RnnBuffer.DW_HH),
                        (int) ld(RnnBuffer.DW_HH), 0, 1);
            }
            if (a.used(RnnBuffer.DB_IH, true) != null) {
                cu.args().ptr(ptr(RnnBuffer.DB_IH)).ptr(dgi).i32(rows).i32(gh);
                cu.launch(Kernel.COL_SUM_ADD, gh);
            }
            if (a.used(RnnBuffer.DB_HH, true) != null) {
                cu.args().ptr(ptr(RnnBuffer.DB_HH)).ptr(dgh).i32(rows).i32(gh);
                cu.launch(Kernel.COL_SUM_ADD, gh);
            }
            if (p > 0 && a.get(RnnBuffer.DW_HR) != null) {
                cu.gemm(true, false, p, hid, rows, 1f, dhall, p, 0, ws + 4L * 5 * hid, wsRow, 0, 1f, ptr(RnnBuffer.DW_HR),
                        (int) ld(RnnBuffer.DW_HR), 0, 1);
            }
            if (a.get(RnnBuffer.DH0) != null) {
                copyRows(ptr(RnnBuffer.DH0), ld(RnnBuffer.DH0), dh, r, n, r);
            }
            if (lstm && a.get(RnnBuffer.DC0) != null) {
                copyRows(ptr(RnnBuffer.DC0), ld(RnnBuffer.DC0), dc, hid, n, hid);
            }
        } finally {
            be.releaseAll(scratch);
        }
    }
}
