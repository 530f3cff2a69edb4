// The forward of one direction (rnn_abi.h has the legend and the header family), after
// PyTorch's FullLayer and cuDNN:
//   gi (S, GH) = x W_ih^T                   one GEMM for all steps (or the parts' W_ih panels);
//                                           b_ih is added in the pointwise step, as gi + b_ih first
//   per step: gh (bt, GH) = h[0:bt] W_hh^T   small-M kernel, W_hh panels, or OpenBLAS
//             fused pointwise cell (cell_math.h), + b_hh, writes the workspace row, h, c, y
//             LSTM projection: h[0:bt] = (o*tanh c) W_hr^T, one GEMM
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "cell_math.h"
#include "gemm_panels.h"
#include "rnn_abi.h"
#include "rnn_step_worker.h"

namespace rnn4j {

// One gate block's activations for units [j0, j1): out[j] = act((xi[j] + bih[j]) + hh[j] + bhh[j]),
// act = sigmoid, or tanh when TANH.
template <bool TANH>
static RNN4J_INLINE void gate_units(int j0, int j1, const float* __restrict xi, const float* __restrict hh,
                                    const float* __restrict bih, const float* __restrict bhh, float* __restrict out) {
    for (int j = j0; j < j1; j++) {
        const float pre = (xi[j] + bih[j]) + hh[j] + bhh[j];
        out[j] = TANH ? tanh_approx(pre) : sigmoid_approx(pre);
    }
}

// LSTM units [j0, j1) of one row: xi, hh (GH) input sums and hidden products, cs (H) cell state
// in place, w (W) workspace row, hs / yr (R) new state and output (PROJ: o*tanh(c) into w instead).
// lstm_forward's arithmetic in passes: each gate's activations into w, then c and h. One loop
// doing all of it per unit had ~470 instructions per vector of units along a chain of three
// transcendentals (sigmoid -> c -> tanh); longer than the out-of-order window, it ran at about
// one instruction per cycle, 18% of an A LSTM forward on Zen 4. Each pass's units are
// independent, so the core overlaps them.
template <bool PROJ>
static RNN4J_INLINE void lstm_units(int H, int j0, int j1, const float* __restrict xi, const float* __restrict hh,
                                    const float* __restrict bih, const float* __restrict bhh, float* __restrict cs, float* __restrict w,
                                    float* __restrict hs, float* __restrict yr) {
    gate_units<false>(j0, j1, xi, hh, bih, bhh, w);                                      // i
    gate_units<false>(j0, j1, xi + H, hh + H, bih + H, bhh + H, w + H);                  // f
    gate_units<true>(j0, j1, xi + 2 * H, hh + 2 * H, bih + 2 * H, bhh + 2 * H, w + 2 * H);  // g
    gate_units<false>(j0, j1, xi + 3 * H, hh + 3 * H, bih + 3 * H, bhh + 3 * H, w + 3 * H);  // o
    const float* __restrict wi = w;
    const float* __restrict wf = w + H;
    const float* __restrict wg = w + 2 * H;
    const float* __restrict wo = w + 3 * H;
    float* __restrict wc = w + 4 * H;
    float* __restrict wh = w + 5 * H;
    for (int j = j0; j < j1; j++) {
        const float cn = lstm_cell(wi[j], wf[j], wg[j], cs[j]);
        const float hv = lstm_hidden(wo[j], cn);
        wc[j] = cn;
        cs[j] = cn;
        if (PROJ) {
            wh[j] = hv;
        } else {
            hs[j] = hv;
            yr[j] = hv;
        }
    }
}

// GRU units [j0, j1) of one row, gru_forward's arithmetic in two passes as lstm_units: r and z
// into w, then n and h. hp (H) the previous state, hs / yr (H) the new state and output.
static RNN4J_INLINE void gru_units(int H, int j0, int j1, const float* __restrict xi, const float* __restrict hh,
                                   const float* __restrict bih, const float* __restrict bhh, const float* __restrict hp,
                                   float* __restrict w, float* __restrict hs, float* __restrict yr) {
    float* __restrict wr = w;
    float* __restrict wz = w + H;
    for (int j = j0; j < j1; j++) wr[j] = sigmoid_approx((xi[j] + bih[j]) + (hh[j] + bhh[j]));
    for (int j = j0; j < j1; j++) wz[j] = sigmoid_approx((xi[H + j] + bih[H + j]) + (hh[H + j] + bhh[H + j]));
    float* __restrict wn = w + 2 * H;
    float* __restrict whn = w + 3 * H;
    for (int j = j0; j < j1; j++) {
        const float hn = hh[2 * H + j] + bhh[2 * H + j];
        const float n = gru_candidate(xi[2 * H + j] + bih[2 * H + j], wr[j], hn);
        const float hv = gru_hidden(wz[j], n, hp[j]);
        wn[j] = n;
        whn[j] = hn;
        hs[j] = hv;
        yr[j] = hv;
    }
}

// Pointwise part of one forward step for rows [0, bt) and hidden units [j0, j1): gi (bt, GH)
// input products without bias, gh (bt, GH) hidden products without bias, bih / bhh (GH) the
// biases (zeros when absent; each gate sums (gi + b_ih) + (gh + b_hh) as PyTorch's gi and gh),
// hin (N, R) the previous state, hout (N, R) the new state (may be hin; not written for LSTM with
// projection), c (N, H) cell state (updated in place), wsp (bt, W) ld ldw this step's workspace
// rows, y (bt, R) ld ldy this step's output rows (not written for LSTM with projection: done
// after the projection GEMM). Unit j touches only column j of each gate block, so disjoint unit
// ranges can run on different threads.
// The buffers are distinct (restrict, so the loops vectorise without alias checks); with
// projection hin and hout are one buffer, which LSTM then neither reads nor writes here.
template <int ISA>
static RNN4J_INLINE void forward_pointwise_body(int kind, int H, int P, int bt, int j0, int j1,
                                                const float* __restrict gi, const float* __restrict gh,
                                                const float* __restrict bih, const float* __restrict bhh,
                                                const float* __restrict hin,
                                                float* __restrict hout, float* __restrict c, float* __restrict wsp,
                                                long ldw, float* __restrict y, long ldy) {
    const int GH = cell_gates(kind) * H;
    const int R = P > 0 ? P : H;
    for (int b = 0; b < bt; b++) {
        const float* xi = gi + (long)b * GH;  // (GH)
        const float* hh = gh + (long)b * GH;  // (GH)
        float* w = wsp + (long)b * ldw;       // (W)
        const float* hp = hin + (long)b * R;  // (R)
        float* hs = hout + (long)b * R;       // (R)
        float* yr = y + (long)b * ldy;        // (R)
        switch (kind) {
            case CELL_RNN_TANH:
                for (int j = j0; j < j1; j++) {
                    float v = rnn_tanh_forward((xi[j] + bih[j]) + hh[j] + bhh[j]);
                    w[j] = v;
                    hs[j] = v;
                    yr[j] = v;
                }
                break;
            case CELL_RNN_RELU:
                for (int j = j0; j < j1; j++) {
                    float v = rnn_relu_forward((xi[j] + bih[j]) + hh[j] + bhh[j]);
                    w[j] = v;
                    hs[j] = v;
                    yr[j] = v;
                }
                break;
            case CELL_LSTM:
                // two loops, so neither has a branch in it (the branchy one does not vectorise)
                if (P > 0) lstm_units<true>(H, j0, j1, xi, hh, bih, bhh, c + (long)b * H, w, hs, yr);
                else lstm_units<false>(H, j0, j1, xi, hh, bih, bhh, c + (long)b * H, w, hs, yr);
                break;
            case CELL_GRU:
                gru_units(H, j0, j1, xi, hh, bih, bhh, hp, w, hs, yr);
                break;
            default: break;
        }
    }
}

// C[:, g*H + j] (M, .) = A (M, K) W[g*H + j, :]^T for every gate g and units j in [j0, j1):
RNN4J_ISA_DISPATCH_AT(void, forward_pointwise,
                      (int kind, int H, int P, int bt, int j0, int j1, const float* __restrict gi,
                       const float* __restrict gh, const float* __restrict bih, const float* __restrict bhh,
                       const float* __restrict hin,
                       float* __restrict hout, float* __restrict c, float* __restrict wsp, long ldw,
                       float* __restrict y, long ldy),
                      (kind, H, P, bt, j0, j1, gi, gh, bih, bhh, hin, hout, c, wsp, ldw, y, ldy))

// the gate rows of one unit range (one GEMM when the range is all units).
static inline void gate_rows_nt(int isa, int M, int G, int H, int j0, int j1, int K, const float* A, long lda,
                                const float* W, long ldw, float* C, long ldc) {
    if (j0 == 0 && j1 == H) {
        linear_nt(isa, M, G * H, K, A, lda, W, ldw, C, ldc);
        return;
    }
    for (int g = 0; g < G; g++) {
        const long r0 = (long)g * H + j0;
        linear_nt(isa, M, j1 - j0, K, A, lda, W + r0 * ldw, ldw, C + r0, ldc);
    }
}


// One direction's forward as rounds over unit ranges: a round is a step's cell (phase 0: gate
// GEMMs and pointwise math of units [u[part], u[part+1])) or, for LSTM with projection, a step's
// projection (phase 1: output columns [pr[part], pr[part+1])). With one part it is the plain
// single-threaded forward.
struct FwdPlan {
    const RnnDir* d;
    const int* off;  // (T) step offsets
    float* gi;       // (giRows, GH) input products x W_ih^T of the current chunk of steps
    long giRow0;     // the chunk's first packed row (gi's row 0)
    float* gh;       // (N, GH) hidden products of one step; parts write disjoint columns
    float* h[2];     // (N, R) state ping-pong without projection (parts read all of h_{t-1});
                     // with projection h[0] only, the two phases keep reads and writes apart
    float* c;        // (N, H) cell state, per unit
    float* stepWs;   // (N, W) one step's workspace in inference, else null
    const float* bih;  // b_ih and b_hh, or zeros where absent
    const float* bhh;
    bool giInRound;  // gi is computed by the parts in step 0 (S <= SMALL_M), else beforehand
    const Panel* panels;  // packed W_hh^T panels (batches above SMALL_M), else null
    int pan[StepWorker::MAX_PARTS + 1];   // part k owns panels [pan[k], pan[k+1])
    int panelRows;        // steps with at most this many active rows use the panels
    long giRows;     // rows of the chunk
    const Panel* ihPanels;  // packed W_ih^T panels when the parts also compute gi (wide split)
    int ipan[StepWorker::MAX_PARTS + 1];  // part k owns W_ih panels [ipan[k], ipan[k+1])
    int nparts;                           // parts per round (plan_parts)
    int u[StepWorker::MAX_PARTS + 1];     // part k owns hidden units [u[k], u[k+1])
    int pr[StepWorker::MAX_PARTS + 1];    // and projection outputs [pr[k], pr[k+1])
    int blas;        // OpenBLAS threads of the parts' calls: 1 when splittable (blas_count.h)
    int s, phase;    // the round
};

// Packed rows [r0, r1) of the steps s in [s0, s1) (in the direction of travel: step s is time
// T-1-s in reverse), which are contiguous.
static inline void chunk_rows(const RnnDir& d, int s0, int s1, long& r0, long& r1) {
    const int tLo = d.reverse ? d.T - s1 : s0, tHi = d.reverse ? d.T - 1 - s0 : s1 - 1;
    r0 = 0;
    for (int t = 0; t < tLo; t++) r0 += d.bs[t];
    r1 = r0;
    for (int t = tLo; t <= tHi; t++) r1 += d.bs[t];
}

static void forward_part(void* arg, int part) {
    const FwdPlan& pl = *static_cast<const FwdPlan*>(arg);
    const BlasWant blasWant(pl.blas);  // the same count on the worker and here
    const RnnDir& d = *pl.d;
    const int H = d.H, P = d.P, R = d.R, GH = d.GH, N = d.N;
    const bool proj = d.kind == CELL_LSTM && P > 0;
    const int t = d.reverse ? d.T - 1 - pl.s : pl.s;
    const int bt = d.bs[t];
    const long row0 = pl.off[t];
    float* wsp = pl.stepWs ? pl.stepWs : d.ws.p + row0 * d.ws.ld;  // (bt, W)
    const long ldw = pl.stepWs ? d.W : d.ws.ld;
    float* yrow = d.y.p + row0 * d.y.ld;  // (bt, R)
    if (pl.phase == 2) {
        // gi (S, GH) for this part's units from the W_ih panels, 256 rows of x at a time so that
        // a block of x stays in cache across the part's panels
        const int j0 = pl.u[part], j1 = pl.u[part + 1];
        if (j1 <= j0) return;
        for (long r0 = 0; r0 < pl.giRows; r0 += 256) {
            const int rows = (int)std::min(256L, pl.giRows - r0);
            panels_gemm(d.isa, rows, d.I, d.x.p + (pl.giRow0 + r0) * d.x.ld, d.x.ld, pl.ihPanels + pl.ipan[part],
                        pl.ipan[part + 1] - pl.ipan[part], pl.gi + r0 * GH, GH, false);
        }
        return;
    }
    if (pl.phase == 1) {
        // h[0:bt, q0:q1) = (o*tanh c) (bt, H) W_hr[q0:q1)^T, and the same into y
        const int q0 = pl.pr[part], q1 = pl.pr[part + 1];
        if (q1 <= q0) return;
        float* h = pl.h[0];
        linear_nt(d.isa, bt, q1 - q0, H, wsp + 5 * H, ldw, d.w_hr.p + (long)q0 * d.w_hr.ld, d.w_hr.ld, h + q0, R);
        copy_rows(bt, q1 - q0, h + q0, R, yrow + q0, d.y.ld);
        return;
    }
    const int j0 = pl.u[part], j1 = pl.u[part + 1];
    if (j1 <= j0) return;
    if (pl.giInRound && pl.s == 0) {
        // gi (S, GH) for this part's units: x W_ih^T
        gate_rows_nt(d.isa, d.S, d.G, H, j0, j1, d.I, d.x.p, d.x.ld, d.w_ih.p, d.w_ih.ld, pl.gi, GH);
    }
    const float* hin = proj ? pl.h[0] : pl.h[pl.s & 1];
    float* hout = proj ? pl.h[0] : pl.h[(pl.s + 1) & 1];
    // rows not active at t keep their state: in reverse, the rows that become active later
    // (shorter sequences) still hold h0, which is where such a sequence starts.
    if (pl.panels && bt <= pl.panelRows)
        panels_gemm(d.isa, bt, R, hin, R, pl.panels + pl.pan[part], pl.pan[part + 1] - pl.pan[part], pl.gh, GH, false);
    else gate_rows_nt(d.isa, bt, d.G, H, j0, j1, R, hin, R, d.w_hh.p, d.w_hh.ld, pl.gh, GH);
    forward_pointwise(d.isa, d.kind, H, P, bt, j0, j1, pl.gi + (row0 - pl.giRow0) * GH, pl.gh, pl.bih, pl.bhh, hin, hout, pl.c, wsp, ldw, yrow,
                      d.y.ld);
    if (hout != hin)
        for (int b = bt; b < N; b++)
            std::memcpy(hout + (long)b * R + j0, hin + (long)b * R + j0, sizeof(float) * (j1 - j0));
}

// Panel boundaries bounds[nparts + 1] of the parts' unit ranges u (part k owns panels
// [bounds[k], bounds[k+1])), all zero when !used; returns the total.
static int count_part_panels(int pw, bool used, int G, int H, int nparts, const int* u, int* bounds) {
    bounds[0] = 0;
    for (int k = 0; k < nparts; k++)
        bounds[k + 1] = bounds[k] + (used ? make_panels(pw, G, H, u[k], u[k + 1], 0, nullptr, 0, nullptr, nullptr) : 0);
    return bounds[nparts];
}

// Packs W (GH, K) into the panels counted by count_part_panels, carved from a.
static const Panel* pack_part_panels(Arena& a, int pw, int G, int H, int nparts, const int* u, const int* bounds, int K,
                                     const float* W, long ldw) {
    static_assert(sizeof(Panel) % sizeof(float) == 0, "Panel carved from float memory");
    Panel* pan = reinterpret_cast<Panel*>(a.take((size_t)bounds[nparts] * sizeof(Panel) / sizeof(float)));
    float* buf = a.take((size_t)bounds[nparts] * K * pw);
    for (int k = 0; k < nparts; k++)
        make_panels(pw, G, H, u[k], u[k + 1], K, W, ldw, pan + bounds[k], buf + (size_t)bounds[k] * K * pw);
    return pan;
}

// Splits the steps of a forward between this thread and the step worker?
static bool want_split(const RnnDir& d, int threads) {
    if (threads < 2 || d.H < 32) return false;
    if (d.N > SMALL_M) return wide_split(d, threads);
    const long perStep = (long)d.GH * (d.R + (d.S <= SMALL_M ? d.I : 0)) + (long)d.P * d.H;
    return perStep >= SPLIT_MIN_FLOATS;
}

// threads: the budget of this direction (OpenBLAS for the whole-sequence GEMM; 2 or more also
// lets small-batch steps use the step worker).
static int forward_dir(const RnnDir& d, int threads) {
    const int T = d.T, N = d.N, S = d.S, I = d.I, H = d.H, P = d.P, R = d.R, GH = d.GH, W = d.W;
    const bool lstm = d.kind == CELL_LSTM, proj = lstm && P > 0;
    const int pw = panel_width(d.isa);
    const BlasWant blasWant(threads);  // this direction's OpenBLAS calls: its budget (blas_count.h)

    FwdPlan pl;
    const bool splittable = want_split(d, threads);
    StepWorker* worker = splittable ? StepWorker::acquire() : nullptr;
    const bool split = worker != nullptr;
    // the parts: consecutive unit ranges (multiples of 16, for whole vectors) and projection
    // output ranges (multiples of 4); unsplittable, one part takes everything. Like the
    // backward, the parts depend on the shape and budget only: a call that finds the worker
    // taken runs every part itself (run_round), so it computes what the split computes, bit for bit.
    // (small batches: two, the step is a few microseconds of matrix-vector product)
    pl.nparts = splittable ? (N > SMALL_M ? plan_parts(H) : 2) : 1;
    split_range(H, pl.nparts, 16, pl.u);
    split_range(P, pl.nparts, 4, pl.pr);
    pl.giInRound = splittable && S <= SMALL_M;
    // gi in chunks of steps, each computed just before its steps run: a chunk (about 512 rows
    // on the panels, 2048 through OpenBLAS, which repacks W_ih per call) is still in cache when
    // the steps read it, and the scratch stays small (52 MB of gi for config B was paged in,
    // and out, on every call).
    const int giSteps = pl.giInRound ? T : std::max(1, std::min(T, ((splittable && N > SMALL_M ? 512 : 2048) + N - 1) / N));
    long giRowsMax = 0;
    for (int s0 = 0; s0 < T; s0 += giSteps) {
        long r0, r1;
        chunk_rows(d, s0, std::min(T, s0 + giSteps), r0, r1);
        giRowsMax = std::max(giRowsMax, r1 - r0);
    }
    // while the parts run, their OpenBLAS calls (the projection's) take one thread each,
    // whichever thread runs a part and whether or not the worker was free
    pl.blas = splittable ? 1 : threads;
    // Batches above SMALL_M: W_hh^T packed once into panels, each part's panels contiguous,
    // used by the steps with few enough active rows (all steps in a wide split, where W_ih^T is
    // packed too). Whether to use them depends on the layer's shape and thread budget only,
    // never on whether the worker was free: a call that finds it taken computes the same panels
    // alone, so concurrent and serial calls agree bit for bit.
    const bool wide = splittable && N > SMALL_M;
    pl.panelRows = wide ? (1 << 30) : panel_rows_limit(threads);
    const bool packed = N > SMALL_M && d.bs[T - 1] <= pl.panelRows;
    const int npan = count_part_panels(pw, packed, d.G, H, pl.nparts, pl.u, pl.pan);
    const int nipan = count_part_panels(pw, wide, d.G, H, pl.nparts, pl.u, pl.ipan);

    Arena a;
    const bool ownWs = d.ws.p == nullptr;
    size_t need = Arena::round(T) + Arena::round((size_t)giRowsMax * GH) + Arena::round((size_t)N * GH) +
                  Arena::round((size_t)N * R) * 2 + (lstm ? Arena::round((size_t)N * H) : 0) + Arena::round(GH) +
                  (ownWs ? Arena::round((size_t)N * W) : 0) +
                  panels_floats(pw, npan, R) + panels_floats(pw, nipan, I);
    if (!a.alloc(need)) {
        if (worker) worker->release();
        return RNN_OUT_OF_MEMORY;
    }
    pl.d = &d;
    int* off = reinterpret_cast<int*>(a.take(T));
    pl.off = off;
    pl.gi = a.take((size_t)giRowsMax * GH);
    pl.gh = a.take((size_t)N * GH);
    pl.h[0] = a.take((size_t)N * R);
    pl.h[1] = a.take((size_t)N * R);
    pl.c = lstm ? a.take((size_t)N * H) : nullptr;
    float* zeros = a.take(GH);  // (GH) stands in for an absent b_hh
    pl.stepWs = ownWs ? a.take((size_t)N * W) : nullptr;
    step_offsets(T, d.bs, off);
    std::memset(zeros, 0, sizeof(float) * GH);
    pl.bih = d.b_ih.p ? d.b_ih.p : zeros;
    pl.bhh = d.b_hh.p ? d.b_hh.p : zeros;
    pl.panels = packed ? pack_part_panels(a, pw, d.G, H, pl.nparts, pl.u, pl.pan, R, d.w_hh.p, d.w_hh.ld) : nullptr;
    pl.ihPanels = wide ? pack_part_panels(a, pw, d.G, H, pl.nparts, pl.u, pl.ipan, I, d.w_ih.p, d.w_ih.ld) : nullptr;

    // a round: every part, shared with the worker, or all here when the worker is taken
    auto run_round = [&] { StepWorker::run_parts(worker, forward_part, &pl, pl.nparts); };
    // gi = x W_ih^T for steps [s0, s1) (b_ih: in the pointwise step)
    auto input_chunk = [&](int s0, int s1) {
        long r0, r1;
        chunk_rows(d, s0, s1, r0, r1);
        pl.giRow0 = r0;
        pl.giRows = r1 - r0;
        if (pl.giInRound) return;  // the parts compute it in step 0
        if (wide) {
            pl.s = s0;
            pl.phase = 2;
            run_round();
        } else {
            if (split) worker->hot(false);  // OpenBLAS's threads want the worker's core
            linear_nt(d.isa, (int)(r1 - r0), GH, I, d.x.p + r0 * d.x.ld, d.x.ld, d.w_ih.p, d.w_ih.ld, pl.gi, GH);
            if (split) worker->hot(true);
        }
    };
    copy_rows(N, R, d.h0.p, d.h0.ld, pl.h[0], R);
    if (!proj) copy_rows(N, R, d.h0.p, d.h0.ld, pl.h[1], R);
    if (lstm) copy_rows(N, H, d.c0.p, d.c0.ld, pl.c, H);

    for (int s = 0; s < T; s++) {
        if (cancelled(d)) {
            if (split) {
                blas_threads(threads);
                worker->release();
            }
            return RNN_INTERRUPTED;
        }
        if (s % giSteps == 0) input_chunk(s, std::min(T, s + giSteps));
        pl.s = s;
        for (pl.phase = 0; pl.phase < (proj ? 2 : 1); pl.phase++) run_round();
    }
    if (split) worker->release();
    copy_rows(N, R, pl.h[proj ? 0 : T & 1], R, d.h_n.p, d.h_n.ld);
    if (lstm) copy_rows(N, H, pl.c, H, d.c_n.p, d.c_n.ld);
    return RNN_OK;
}

}  // namespace rnn4j
