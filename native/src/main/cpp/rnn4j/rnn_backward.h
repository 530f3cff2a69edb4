// The backward of one direction (rnn_abi.h has the legend and the header family). It walks the
// steps against the direction of travel, producing dgates for all rows:
//   per step: dh[0:bt] += dy; LSTM projection dh_pre = dh W_hr; pointwise dgates;
//             dh[0:bt] = dgates_hh W_hh (+ GRU's direct z*dh), on W_hh panels at few active rows
//   then whole-sequence GEMMs (OpenBLAS): dW_ih += dg^T x, dW_hh += dgh^T hprev,
//   dW_hr += dh_all^T (o*tanh c), bias gradients as column sums (in double), and last
//   dx += dg W_ih, which two concurrent directions share and so take in turn (DxTurns).
// Accumulate/assign: parameter gradients +=, dx +=, dh0/dc0 =, as RnnLayerArgs says.
#pragma once

#include <cblas.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "cell_math.h"
#include "gemm_panels.h"
#include "rnn_abi.h"
#include "rnn_step_worker.h"

namespace rnn4j {

// LSTM units [j0, j1) of one row: dr (H) gradient of o*tanh(c), dcs (H) running gradient of c
// (replaced by that of c_prev), w (W) the step's saved i, f, g, o, c, cp (H) c_prev, gb (GH) the
// gates' pre-activation gradients. The buffers are distinct (restrict): without it GCC left this
// loop scalar on every path (20% of an A LSTM backward on Zen 4, in vdivss).
static RNN4J_INLINE void lstm_units_backward(int H, int j0, int j1, const float* __restrict dr, float* __restrict dcs,
                                             const float* __restrict w, const float* __restrict cp,
                                             float* __restrict gb) {
    for (int j = j0; j < j1; j++) {
        float di, df, dgg, dout;
        float dcv = dcs[j];
        lstm_backward(dr[j], dcv, w[j], w[H + j], w[2 * H + j], w[3 * H + j], w[4 * H + j], cp[j], di, df, dgg, dout);
        dcs[j] = dcv;
        gb[j] = di;
        gb[H + j] = df;
        gb[2 * H + j] = dgg;
        gb[3 * H + j] = dout;
    }
}

// GRU units [j0, j1) of one row: dhio (H) the gradient of the step's output, replaced in place
// by the direct path dh*z; w (W) saved r, z, n, hn; hp (H) h_prev; gb / ghb (GH) the input- and
// hidden-side pre-activation gradients.
static RNN4J_INLINE void gru_units_backward(int H, int j0, int j1, float* __restrict dhio, const float* __restrict w,
                                            const float* __restrict hp, float* __restrict gb, float* __restrict ghb) {
    for (int j = j0; j < j1; j++) {
        float r_, z_, n_, hn_, direct;
        gru_backward(dhio[j], w[j], w[H + j], w[2 * H + j], w[3 * H + j], hp[j], r_, z_, n_, hn_, direct);
        gb[j] = r_;
        gb[H + j] = z_;
        gb[2 * H + j] = n_;
        ghb[j] = r_;
        ghb[H + j] = z_;
        ghb[2 * H + j] = hn_;
        dhio[j] = direct;
    }
}

// Pointwise part of one backward step for rows [0, bt) of step t: dhp (bt, H) ld lddhp gradient
// of the unprojected output, dh (N, R) running state gradient (GRU: replaced by the direct path
// dh*z, the W_hh part is added by the caller's GEMM), dc (N, H) running cell gradient (LSTM, in
// place), wsp (bt, W) ld ldw this step's saved activations, cprev (bt) row pointers to c_{t-1}
// (LSTM), hprev (bt, R) previous states, dg (bt, GH) input-side and dgh (bt, GH) hidden-side
// pre-activation gradients (dgh only written for GRU; the others share dg). Only hidden units
// [j0, j1) are touched (column j of every gate block, of dh, dc): disjoint ranges can run on
// different threads.
template <int ISA>
static RNN4J_INLINE void backward_pointwise_body(int kind, int H, int j0, int j1, int bt, const float* dhp,
                                                 long lddhp, float* dh,
                                                 float* dc, const float* wsp, long ldw, const float* const* cprev,
                                                 const float* hprev, float* dg, float* dgh) {
    const int GH = cell_gates(kind) * H;
    for (int b = 0; b < bt; b++) {
        const float* w = wsp + (long)b * ldw;     // (W)
        const float* dr = dhp + (long)b * lddhp;  // (H)
        float* gb = dg + (long)b * GH;            // (GH)
        switch (kind) {
            case CELL_RNN_TANH:
                for (int j = j0; j < j1; j++) gb[j] = rnn_tanh_backward(dr[j], w[j]);
                break;
            case CELL_RNN_RELU:
                for (int j = j0; j < j1; j++) gb[j] = rnn_relu_backward(dr[j], w[j]);
                break;
            case CELL_LSTM:
                lstm_units_backward(H, j0, j1, dr, dc + (long)b * H, w, cprev[b], gb);
                break;
            case CELL_GRU:  // no projection, so dhp is dh: read and replaced in place
                gru_units_backward(H, j0, j1, dh + (long)b * H, w, hprev + (long)b * H, gb, dgh + (long)b * GH);
                break;
            default: break;
        }
    }
}

RNN4J_ISA_DISPATCH_AT(void, backward_pointwise,
                      (int kind, int H, int j0, int j1, int bt, const float* dhp, long lddhp, float* dh, float* dc,
                       const float* wsp, long ldw, const float* const* cprev, const float* hprev, float* dg,
                       float* dgh),
                      (kind, H, j0, j1, bt, dhp, lddhp, dh, dc, wsp, ldw, cprev, hprev, dg, dgh))

// acc[j] += the sums of columns j in [c0, c1) of m (rows, GH), row by row, in double.
static inline void accumulate_columns(int rows, int GH, int c0, int c1, const float* m, double* acc) {
    for (int s = 0; s < rows; s++) {
        const float* r = m + (long)s * GH;
        for (int j = c0; j < c1; j++) acc[j] += r[j];
    }
}

// The two directions of a bidirectional layer read the same input, so both add their input
// gradient into the one dx buffer. When they run concurrently the adds take turns: direction 0
// first, then direction 1, the order of the sequential path, so dx is the same either way and
// never a torn sum of two GEMMs writing at once. A direction that fails still hands on its turn.
struct DxTurns {
    std::mutex m;
    std::condition_variable cv;
    int next = 0;
    void wait_for(int k) {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return next >= k; });
    }
    void done(int k) {
        {
            std::lock_guard<std::mutex> lock(m);
            if (next < k + 1) next = k + 1;
        }
        cv.notify_all();
    }
};

// Hands on direction k's turn however backward_dir returns.
struct DxTurnGuard {
    DxTurns* turns;
    int k;
    ~DxTurnGuard() {
        if (turns) turns->done(k);
    }
};

// The per-step part of a backward split between this thread and the step worker (two threads,
// one direction, no projection, a batch above SMALL_M), as the forward's wide split: each part
// owns hidden units [u[part], u[part+1]) and packs its own columns of W_hh into panels once.
// A step is two rounds: phase 0, dh += dy and the pointwise gradients of the part's units
// (every gate's column j touches only unit j); phase 1, once every part's dgates are written,
// the part's columns of dh = dgh W_hh on its panels. No threaded OpenBLAS call runs meanwhile.
// The arithmetic depends on the shape and thread budget only: a call that finds the worker
// taken runs every part itself and gets the same bits.
struct BwdPlan {
    const RnnDir* d;
    const int* off;
    float *dg, *dgh, *hprev, *dh, *dc;
    const float* const* cprev;
    const Panel* panels;
    int nparts;                        // parts per round (plan_parts)
    int pan[StepWorker::MAX_PARTS + 1];  // part k owns panels [pan[k], pan[k+1])
    int u[StepWorker::MAX_PARTS + 1];    // and hidden units [u[k], u[k+1])
    double* colAcc;  // (GH) bias-gradient sums
    double* colAccH; // (GH) those of dgh where it differs from dg (GRU), else colAcc
    int s, phase;
};

static void backward_part(void* arg, int part) {
    const BwdPlan& pl = *static_cast<const BwdPlan*>(arg);
    const RnnDir& d = *pl.d;
    const int H = d.H, R = d.R, GH = d.GH;
    const int j0 = pl.u[part], j1 = pl.u[part + 1];
    if (j1 <= j0) return;
    const int t = d.reverse ? d.T - 1 - pl.s : pl.s;
    const int bt = d.bs[t];
    const long row0 = pl.off[t];
    if (pl.phase == 0) {
        for (int b = 0; b < bt; b++) {
            float* dhb = pl.dh + (long)b * R;
            const float* g = d.dy.row(row0 + b);
            for (int j = j0; j < j1; j++) dhb[j] += g[j];
        }
        backward_pointwise(d.isa, d.kind, H, j0, j1, bt, pl.dh, R, pl.dh, pl.dc, d.ws.row(row0), d.ws.ld, pl.cprev,
                           pl.hprev + row0 * R, pl.dg + row0 * GH, pl.dgh + row0 * GH);
        // the bias gradients' column sums of this step's rows, while they are in cache (a pass
        // over all of dg after the loop re-read 52 MB per gradient for config B: 4-7% of the
        // backward). This part owns units [j0, j1), so columns g*H + [j0, j1) of every gate.
        if (d.db_ih.p || d.db_hh.p) {
            for (int g = 0; g < d.G; g++) {
                const int c0 = g * H + j0, c1 = g * H + j1;
                accumulate_columns(bt, GH, c0, c1, pl.dg + row0 * GH, pl.colAcc);
                if (pl.colAccH != pl.colAcc) accumulate_columns(bt, GH, c0, c1, pl.dgh + row0 * GH, pl.colAccH);
            }
        }
    } else {
        panels_gemm(d.isa, bt, GH, pl.dgh + row0 * GH, GH, pl.panels + pl.pan[part], pl.pan[part + 1] - pl.pan[part],
                    pl.dh, R, d.kind == CELL_GRU);
    }
}

// Splits the backward steps with the step worker? The forward's wide-split rule, without
// projection (its per-step dh W_hr stays one OpenBLAS call).
static bool want_bwd_split(const RnnDir& d, int threads) { return d.P == 0 && wide_split(d, threads); }

static int backward_dir(const RnnDir& d, DxTurns* turns, int k, int threads) {
    DxTurnGuard guard{turns, k};
    const BlasWant blasWant(threads);  // this direction's OpenBLAS calls: its budget (blas_count.h)
    const int T = d.T, N = d.N, S = d.S, I = d.I, H = d.H, P = d.P, R = d.R, GH = d.GH;
    const bool lstm = d.kind == CELL_LSTM, gru = d.kind == CELL_GRU, proj = lstm && P > 0;
    const float* ws = d.ws.p;  // (S, W) ld d.ws.ld, required in backward
    const long ldws = d.ws.ld;

    // steps with few enough active rows run dh = dgh W_hh on panels of W_hh packed once; in a
    // split every step does, each part on the panels of its own columns
    const bool splittable = want_bwd_split(d, threads);
    StepWorker* worker = splittable ? StepWorker::acquire() : nullptr;
    const int panelRows = splittable ? (1 << 30) : panel_rows_limit(threads);
    const bool packed = d.bs[T - 1] <= panelRows;
    const int pw = panel_width(d.isa);
    BwdPlan bp;
    // the parts: consecutive unit ranges (multiples of 16, for whole vectors), which are also
    // their columns of dh (R = H in a split). Unsplit, one part has all R columns.
    bp.nparts = splittable ? plan_parts(H) : 1;
    split_range(R, bp.nparts, 16, bp.u);
    bp.pan[0] = 0;
    for (int q = 0; q < bp.nparts; q++)
        bp.pan[q + 1] = bp.pan[q] + (packed ? make_panels_n(pw, bp.u[q], bp.u[q + 1], GH, nullptr, 0, nullptr, nullptr) : 0);
    const int npan = bp.pan[bp.nparts];

    Arena a;
    size_t need = panels_floats(pw, npan, GH) +
                  Arena::round(T) + Arena::round((size_t)S * GH) * (gru ? 2 : 1) + Arena::round((size_t)S * R) +
                  Arena::round((size_t)N * R) + (lstm ? Arena::round((size_t)N * H) : 0) +
                  (proj ? Arena::round((size_t)S * P) + Arena::round((size_t)N * H) : 0) +
                  Arena::round((size_t)N * 2) /* cprev pointers */ + Arena::round((size_t)GH * 4) /* doubles */;
    if (!a.alloc(need)) {
        if (worker) worker->release();
        return RNN_OUT_OF_MEMORY;
    }
    int* off = reinterpret_cast<int*>(a.take(T));     // (T)
    float* dg = a.take((size_t)S * GH);               // (S, GH) input-side pre-activation gradients
    float* dgh = gru ? a.take((size_t)S * GH) : dg;   // (S, GH) hidden-side (differs for GRU's n block)
    float* hprev = a.take((size_t)S * R);             // (S, R) state each row started from
    float* dh = a.take((size_t)N * R);                // (N, R) running gradient of the hidden state
    float* dc = lstm ? a.take((size_t)N * H) : nullptr;            // (N, H) running gradient of c
    float* dhAll = proj ? a.take((size_t)S * P) : nullptr;         // (S, P) dh of every row, for dW_hr
    float* dhPre = proj ? a.take((size_t)N * H) : nullptr;         // (N, H) dh W_hr of one step
    const float** cprev = reinterpret_cast<const float**>(a.take((size_t)N * 2));  // (N) row pointers
    double* colAcc = reinterpret_cast<double*>(a.take((size_t)GH * 4));           // (2, GH)
    step_offsets(T, d.bs, off);
    Panel* pan = nullptr;
    if (packed) {
        pan = reinterpret_cast<Panel*>(a.take((size_t)npan * sizeof(Panel) / sizeof(float)));
        float* buf = a.take((size_t)npan * GH * pw);
        for (int q = 0; q < bp.nparts; q++)
            make_panels_n(pw, bp.u[q], bp.u[q + 1], GH, d.w_hh.p, d.w_hh.ld, pan + bp.pan[q],
                          buf + (size_t)bp.pan[q] * GH * pw);
    }
    bp.d = &d;
    bp.off = off;
    bp.dg = dg, bp.dgh = dgh, bp.hprev = hprev, bp.dh = dh, bp.dc = dc;
    bp.cprev = cprev;
    bp.panels = pan;
    bp.colAcc = colAcc;
    // column sums of dg (and of dgh, GRU) over the steps, for the split's bias gradients
    bp.colAccH = dgh != dg ? colAcc + GH : colAcc;
    if (splittable) std::memset(colAcc, 0, sizeof(double) * 2 * GH);

    // hprev: the previous step in the direction of travel where the sequence has one, else h0.
    for (int t = 0; t < T; t++) {
        const int prevT = d.reverse ? t + 1 : t - 1;
        const int prevB = (prevT >= 0 && prevT < T) ? d.bs[prevT] : 0;
        for (int b = 0; b < d.bs[t]; b++) {
            const float* src = b < prevB ? d.y.p + (long)(off[prevT] + b) * d.y.ld : d.h0.p + (long)b * d.h0.ld;
            std::memcpy(hprev + (long)(off[t] + b) * R, src, sizeof(float) * R);
        }
    }
    if (d.dh_n.p) copy_rows(N, R, d.dh_n.p, d.dh_n.ld, dh, R);
    else zero_rows(N, R, dh, R);
    if (lstm) {
        if (d.dc_n.p) copy_rows(N, H, d.dc_n.p, d.dc_n.ld, dc, H);
        else zero_rows(N, H, dc, H);
    }

    for (int s = T - 1; s >= 0; s--) {
        if (cancelled(d)) {
            if (worker) worker->release();
            return RNN_INTERRUPTED;
        }
        const int t = d.reverse ? T - 1 - s : s;
        const int bt = d.bs[t];
        const long row0 = off[t];
        if (lstm) {
            const int prevT = d.reverse ? t + 1 : t - 1;
            const int prevB = (prevT >= 0 && prevT < T) ? d.bs[prevT] : 0;
            for (int b = 0; b < bt; b++)
                cprev[b] = b < prevB ? ws + (long)(off[prevT] + b) * ldws + 4 * H : d.c0.p + (long)b * d.c0.ld;
        }
        if (splittable) {
            bp.s = s;
            for (bp.phase = 0; bp.phase < 2; bp.phase++) StepWorker::run_parts(worker, backward_part, &bp, bp.nparts);
            continue;
        }
        const float* dyr = d.dy.p + row0 * d.dy.ld;  // (bt, R)
        for (int b = 0; b < bt; b++) {
            float* dhb = dh + (long)b * R;
            const float* g = dyr + (long)b * d.dy.ld;
            for (int j = 0; j < R; j++) dhb[j] += g[j];
        }
        const float* dhp = dh;  // (bt, H) gradient of o*tanh(c) / of h
        long lddhp = R;
        if (proj) {
            copy_rows(bt, P, dh, R, dhAll + row0 * P, P);
            // dhPre (bt, H) = dh (bt, P) W_hr (P, H)
            sgemm_rm(CblasNoTrans, CblasNoTrans, bt, H, P, 1.0f, dh, R, d.w_hr.p,
                        (int)d.w_hr.ld, 0.0f, dhPre, H);
            dhp = dhPre;
            lddhp = H;
        }
        backward_pointwise(d.isa, d.kind, H, 0, H, bt, dhp, lddhp, dh, dc, ws + row0 * ldws, ldws, cprev, hprev + row0 * R,
                           dg + row0 * GH, dgh + row0 * GH);
        // dh[0:bt] (bt, R) = dgh (bt, GH) W_hh (GH, R) (+ GRU's direct path already in dh)
        if (pan && bt <= panelRows)
            panels_gemm(d.isa, bt, GH, dgh + row0 * GH, GH, pan, npan, dh, R, gru);
        else
            sgemm_rm(CblasNoTrans, CblasNoTrans, bt, R, GH, 1.0f, dgh + row0 * GH, GH,
                        d.w_hh.p, (int)d.w_hh.ld, gru ? 1.0f : 0.0f, dh, R);
    }
    if (d.dh0.p) copy_rows(N, R, dh, R, d.dh0.p, d.dh0.ld);
    if (lstm && d.dc0.p) copy_rows(N, H, dc, H, d.dc0.p, d.dc0.ld);
    // The whole-sequence gradients: OpenBLAS GEMMs on this direction's thread budget, split or not
    // (the worker is released first, so it sleeps instead of spinning beside OpenBLAS's threads).
    // A split once ran them in parts on single-threaded calls, while OpenBLAS's pool spun for
    // 0.1 s after every threaded call (blas_count.h's pool spin fixed that): each part packed all
    // of x and hprev again, 15% of a B LSTM backward in sgemm_*copy; one threaded call packs
    // them once.
    if (worker) worker->release();
    if (d.dw_ih.p && I > 0)  // (GH, I) += dg^T (GH, S) x (S, I)
        sgemm_rm(CblasTrans, CblasNoTrans, GH, I, S, 1.0f, dg, GH, d.x.p, (int)d.x.ld, 1.0f,
                    d.dw_ih.p, (int)d.dw_ih.ld);
    if (d.dw_hh.p)  // (GH, R) += dgh^T (GH, S) hprev (S, R)
        sgemm_rm(CblasTrans, CblasNoTrans, GH, R, S, 1.0f, dgh, GH, hprev, R, 1.0f, d.dw_hh.p,
                    (int)d.dw_hh.ld);
    // the bias gradients: column sums of dg (and of dgh, GRU) in double, gathered step by step
    // in a split's phase 0, else here in one pass over the rows
    if (d.db_ih.p || d.db_hh.p) {
        if (!splittable) {
            std::memset(colAcc, 0, sizeof(double) * 2 * GH);
            accumulate_columns(S, GH, 0, GH, dg, bp.colAcc);
            if (bp.colAccH != bp.colAcc) accumulate_columns(S, GH, 0, GH, dgh, bp.colAccH);
        }
        for (int j = 0; j < GH; j++) {
            if (d.db_ih.p) d.db_ih.p[j] += (float)bp.colAcc[j];
            if (d.db_hh.p) d.db_hh.p[j] += (float)bp.colAccH[j];
        }
    }
    if (proj && d.dw_hr.p)  // (P, H) += dhAll^T (P, S) (o*tanh c) (S, H)
        sgemm_rm(CblasTrans, CblasNoTrans, P, H, S, 1.0f, dhAll, P, ws + 5 * H, (int)ldws, 1.0f,
                    d.dw_hr.p, (int)d.dw_hr.ld);
    if (d.dx.p && I > 0) {  // (S, I) += dg (S, GH) W_ih (GH, I), shared by the directions: last, in turn
        if (turns) turns->wait_for(k);
        sgemm_rm(CblasNoTrans, CblasNoTrans, S, I, GH, 1.0f, dg, GH, d.w_ih.p,
                    (int)d.w_ih.ld, 1.0f, d.dx.p, (int)d.dx.ld);
    }
    return RNN_OK;
}

}  // namespace rnn4j
