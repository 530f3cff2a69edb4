// One recurrent layer over a whole packed sequence, one or both directions per call, exactly as
// org.rnn4j.backend.RnnLayerArgs specifies. The time loop runs here, so Java pays one JNI
// crossing per layer call, never one per step.
//
// Legend: T steps, N batch (= batchSizes[0]), S = sum(batchSizes) packed rows, I input size,
// H hidden size, P projection size (LSTM only, 0 = none), R output size (P if P > 0 else H),
// G gates (RNN 1, GRU 3, LSTM 4), GH = G*H, W workspace floats per row (cell_workspace_row).
// Step t owns packed rows [off_t, off_t + bt) with bt = batchSizes[t] (non-increasing), so the
// active sequences are always the first bt rows of the (N, .) state buffers.
//
// Forward, per direction (after PyTorch's FullLayer and cuDNN):
//   gi (S, GH) = x W_ih^T + b_ih            one GEMM for all steps
//   per step: gh (bt, GH) = h[0:bt] W_hh^T   one GEMM on the active rows
//             fused pointwise cell (cell_math.h), + b_hh, writes the workspace row, h, c, y
//             LSTM projection: h[0:bt] = (o*tanh c) W_hr^T, one GEMM
// Backward walks the steps against the direction of travel, producing dgates for all rows:
//   per step: dh[0:bt] += dy; LSTM projection dh_pre = dh W_hr; pointwise dgates;
//             dh[0:bt] = dgates_hh W_hh (+ GRU's direct z*dh)
//   then whole-sequence GEMMs: dW_ih += dg^T x, dW_hh += dgh^T hprev,
//   dW_hr += dh_all^T (o*tanh c), bias gradients as column sums (in double), and last
//   dx += dg W_ih, which two concurrent directions share and so take in turn (DxTurns).
// Accumulate/assign: parameter gradients +=, dx +=, dh0/dc0 =, as RnnLayerArgs says.
// All 2-D buffers have unit column stride and a row stride (ld, in floats) of their own.
// Nothing is validated here (Java did it), but nothing is read or written outside the buffers.
#ifndef RNN4J_RNN_LAYER_H
#define RNN4J_RNN_LAYER_H

#include <cblas.h>
#include <sched.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "cell_math.h"

// Runtime dispatch: AVX-512, AVX2+FMA, or SSE2 baseline, so the library keeps JavaCPP's
// -march=x86-64 default and still runs wide on machines that have it.
// (RNN4J_CLONES comes from common.h.)
#define RNN4J_INLINE inline __attribute__((always_inline))

// v16 values never cross a non-inlined call, so the AVX-512 ABI note does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace rnn4j {

// Slots of the per-direction address and row-stride arrays that NativeBackend passes
// (addresses in bytes as jlong, row strides in floats; 0 address = absent / null).
enum RnnSlot {
    SLOT_X, SLOT_H0, SLOT_C0, SLOT_W_IH, SLOT_W_HH, SLOT_B_IH, SLOT_B_HH, SLOT_W_HR,
    SLOT_Y, SLOT_H_N, SLOT_C_N, SLOT_WS,
    SLOT_DY, SLOT_DH_N, SLOT_DC_N,
    SLOT_DX, SLOT_DH0, SLOT_DC0, SLOT_DW_IH, SLOT_DW_HH, SLOT_DB_IH, SLOT_DB_HH, SLOT_DW_HR,
    RNN_NUM_SLOTS
};
// Per-direction integer arguments.
enum RnnDim { DIM_KIND, DIM_REVERSE, DIM_INPUT, DIM_HIDDEN, DIM_PROJ, RNN_NUM_DIMS };

// Return codes of rnn_layer_forward / rnn_layer_backward.
enum RnnStatus { RNN_OK = 0, RNN_OUT_OF_MEMORY = 1 };

// One direction of one layer: what RnnLayerArgs holds, as raw pointers.
struct RnnDir {
    int kind, reverse, T, N, S, I, H, P, R, G, GH, W;
    const int* bs;  // (T) batch sizes
    float* p[RNN_NUM_SLOTS];
    long ld[RNN_NUM_SLOTS];
};

// ---- scratch: one aligned block per call, carved into buffers, never allocated per step ----

struct Arena {
    float* base = nullptr;
    size_t cap = 0, used = 0;
    // Rounds every buffer to 16 floats so each starts 64-byte aligned.
    static size_t round(size_t n) { return (n + 15) & ~size_t(15); }
    bool alloc(size_t floats) {
        cap = floats;
        base = floats ? static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float))) : nullptr;
        return floats == 0 || base != nullptr;
    }
    float* take(size_t n) {
        float* r = base + used;
        used += round(n);
        return r;
    }
    ~Arena() { std::free(base); }
};

// ---- small helpers ----------------------------------------------------------------------

static inline void copy_rows(int rows, int cols, const float* src, long lds, float* dst, long ldd) {
    for (int b = 0; b < rows; b++) std::memcpy(dst + (long)b * ldd, src + (long)b * lds, sizeof(float) * cols);
}

static inline void zero_rows(int rows, int cols, float* dst, long ldd) {
    for (int b = 0; b < rows; b++) std::memset(dst + (long)b * ldd, 0, sizeof(float) * cols);
}

// Step offsets off_t = sum(batchSizes[0..t)), into off (T).
static inline int step_offsets(int T, const int* bs, int* off) {
    int s = 0;
    for (int t = 0; t < T; t++) {
        off[t] = s;
        s += bs[t];
    }
    return s;
}

// Small-M GEMM C (M, Nc) = A (M, K) B^T, with B (Nc, K) row-major: the per-step W_hh product at
// tiny batches, where OpenBLAS sgemm pays its packing for one row (and is slow at M = 1 with
// OPENBLAS_CORETYPE=Haswell). Each row of B is read once for up to 4 rows of A; 16-float vector
// accumulators (one zmm, two ymm or four xmm depending on the clone) and a horizontal sum.
typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));

static RNN4J_INLINE v16 load16(const float* p) { return *reinterpret_cast<const v16u*>(p); }

typedef float v8 __attribute__((vector_size(32)));
typedef float v4 __attribute__((vector_size(16)));

// 16 lanes folded to 4: lanes q, q+4, q+8, q+12 added pairwise.
static RNN4J_INLINE v4 fold16(v16 a) {
    v8 b = __builtin_shufflevector(a, a, 0, 1, 2, 3, 4, 5, 6, 7) +
           __builtin_shufflevector(a, a, 8, 9, 10, 11, 12, 13, 14, 15);
    return __builtin_shufflevector(b, b, 0, 1, 2, 3) + __builtin_shufflevector(b, b, 4, 5, 6, 7);
}

// The lane sums of four vectors at once: {sum a0, sum a1, sum a2, sum a3}, each as
// (x0 + x2) + (x1 + x3), independent of the other three.
static RNN4J_INLINE v4 hsum4x4(v4 a0, v4 a1, v4 a2, v4 a3) {
    v4 u = __builtin_shufflevector(a0, a1, 0, 1, 4, 5) + __builtin_shufflevector(a0, a1, 2, 3, 6, 7);
    v4 v = __builtin_shufflevector(a2, a3, 0, 1, 4, 5) + __builtin_shufflevector(a2, a3, 2, 3, 6, 7);
    return __builtin_shufflevector(u, v, 0, 2, 4, 6) + __builtin_shufflevector(u, v, 1, 3, 5, 7);
}

// M rows of A against NR (4 or 1) rows of B. Every output element is summed the same way
// whatever block it falls in (16-lane FMA accumulation, lanes folded by fold16 and hsum4x4, then
// the K % 16 tail), so a row's result does not depend on how the rows of B are split between
// blocks or threads. The horizontal sums of four rows share their shuffles.
template <int M, int NR>
static RNN4J_INLINE void gemm_nt_block(int K, const float* A, long lda, const float* B, long ldb, float* C, long ldc) {
    const float* b[NR];
    for (int q = 0; q < NR; q++) b[q] = B + (long)q * ldb;
    v16 acc[M][NR];
    for (int m = 0; m < M; m++)
        for (int q = 0; q < NR; q++) acc[m][q] = v16{};
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        v16 w[NR];
        for (int q = 0; q < NR; q++) w[q] = load16(b[q] + k);
        for (int m = 0; m < M; m++) {
            v16 a = load16(A + m * lda + k);
            for (int q = 0; q < NR; q++) acc[m][q] += a * w[q];
        }
    }
    for (int m = 0; m < M; m++) {
        const float* a = A + m * lda;
        v4 sums;
        if (NR == 4) {
            sums = hsum4x4(fold16(acc[m][0]), fold16(acc[m][NR > 1 ? 1 : 0]), fold16(acc[m][NR > 2 ? 2 : 0]),
                           fold16(acc[m][NR > 3 ? 3 : 0]));
        } else {
            v4 f = fold16(acc[m][0]);
            sums = hsum4x4(f, f, f, f);
        }
        for (int q = 0; q < NR; q++) {
            float s = sums[q];
            for (int kk = k; kk < K; kk++) s += a[kk] * b[q][kk];
            C[m * ldc + q] = s;
        }
    }
}

template <int M>
static RNN4J_INLINE void gemm_nt_rows(int Nc, int K, const float* A, long lda, const float* B, long ldb,
                                      float* C, long ldc) {
    int j = 0;
    for (; j + 4 <= Nc; j += 4) gemm_nt_block<M, 4>(K, A, lda, B + (long)j * ldb, ldb, C + j, ldc);
    for (; j < Nc; j++) gemm_nt_block<M, 1>(K, A, lda, B + (long)j * ldb, ldb, C + j, ldc);
}

// Rows of A up to which the register-blocked kernel beats OpenBLAS sgemm.
static const int SMALL_M = 4;

RNN4J_CLONES static void gemm_nt_small(int M, int Nc, int K, const float* A, long lda, const float* B, long ldb,
                                       float* C, long ldc) {
    for (; M >= 4; M -= 4, A += 4 * lda, C += 4 * ldc) gemm_nt_rows<4>(Nc, K, A, lda, B, ldb, C, ldc);
    switch (M) {
        case 3: gemm_nt_rows<3>(Nc, K, A, lda, B, ldb, C, ldc); break;
        case 2: gemm_nt_rows<2>(Nc, K, A, lda, B, ldb, C, ldc); break;
        case 1: gemm_nt_rows<1>(Nc, K, A, lda, B, ldb, C, ldc); break;
        default: break;
    }
}

// C (M, Nc) = A (M, K) B^T (assign), B (Nc, K) row-major: a Linear without bias.
static inline void linear_nt(int M, int Nc, int K, const float* A, long lda, const float* B, long ldb, float* C,
                             long ldc) {
    if (M <= 0 || Nc <= 0) return;
    if (K == 0) {
        zero_rows(M, Nc, C, ldc);
    } else if (M <= SMALL_M) {
        gemm_nt_small(M, Nc, K, A, lda, B, ldb, C, ldc);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, Nc, K, 1.0f, A, (int)lda, B, (int)ldb, 0.0f, C,
                    (int)ldc);
    }
}

// OpenBLAS's thread count is one process-wide setting: openblas_set_num_threads_local, despite
// its name, sets it for every thread in the OpenBLAS we link (checked: a count set in one thread
// is what another thread reads back), so saving and restoring it around a section is a race
// between Java threads and between the two directions. Sections that run two OpenBLAS callers
// at once instead lower it for their duration and then put back the layer's budget `threads`
// (the configured count), never a saved value that another caller may have changed meanwhile.
static inline void blas_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

// ---- packed W_hh panels: the per-step hidden GEMM of batches above SMALL_M ------------------
//
// OpenBLAS packs its B operand on every sgemm call: per step, the whole of W_hh (4 MB at
// H = 512), whether one row is active or 64. Measured on the Zen 4 CI machine (2 threads,
// N = 2048, K = 512): about 330 us per call + 10.5 us per row, so a packed batch whose rows
// fall away pays the full packing on each of its steps. A layer call packs W_hh^T here once,
// in column panels of PANEL outputs (K rows of PANEL floats, zero-padded past the panel's
// width), and every step runs a register-blocked kernel over them: MR rows of h against one
// panel, 2*MR vector accumulators, one FMA chain per output over k = 0..K-1 (so a result does
// not depend on the row block it falls in). Panels are outer, row blocks inner: a panel
// (K * PANEL floats, 64 KB at K = 512) stays in L2 while the active rows stream past it.
// One core on the panels runs at about 105 GFLOP/s from 5 rows up, so a direction that has one
// thread (each direction of a bidirectional layer on two cores, or rnn4j.threads=1) uses them
// for every step, and one with more threads for the steps whose active rows are too few for
// OpenBLAS's threads to pay for its packing (panel_rows_limit): the tail of a packed batch.
// With two or more threads and a batch large enough (want_split), the caller and the step worker
// each take half of the hidden units, with their own W_ih and W_hh panels: the input projection
// and every step run on the panels and OpenBLAS is not called at all, which matters because
// OpenBLAS's pool threads keep spinning for a while after each threaded call and would take the
// worker's core (measured: the worker's half ran 40% slower right after a threaded sgemm).
static const int PANEL = 32;

struct Panel {
    int col;            // first output column (in the GH gate columns)
    int width;          // 1..PANEL valid columns
    const float* data;  // (K, PANEL), 64-byte aligned
};

template <int MR>
static RNN4J_INLINE void panel_rows(int K, const float* A, long lda, const float* bp, float* C, long ldc,
                                    int width, bool acc) {
    v16 acc0[MR], acc1[MR];
    const float* a[MR];
    for (int r = 0; r < MR; r++) {
        acc0[r] = v16{};
        acc1[r] = v16{};
        a[r] = A + (long)r * lda;
    }
    for (int k = 0; k < K; k++) {
        const v16 b0 = *reinterpret_cast<const v16*>(bp + (long)k * PANEL);
        const v16 b1 = *reinterpret_cast<const v16*>(bp + (long)k * PANEL + 16);
        for (int r = 0; r < MR; r++) {
            const float x = a[r][k];
            acc0[r] += b0 * x;
            acc1[r] += b1 * x;
        }
    }
    for (int r = 0; r < MR; r++) {
        float* c = C + (long)r * ldc;
        if (acc) {  // C += the product, as sgemm with beta = 1 (the product summed first)
            for (int q = 0; q < width; q++) c[q] += q < 16 ? acc0[r][q] : acc1[r][q - 16];
        } else if (width == PANEL) {
            *reinterpret_cast<v16u*>(c) = acc0[r];
            *reinterpret_cast<v16u*>(c + 16) = acc1[r];
        } else {
            for (int q = 0; q < width; q++) c[q] = q < 16 ? acc0[r][q] : acc1[r][q - 16];
        }
    }
}

// The rows left over after the MR-row blocks, fewer than MR: panel_rows<rows>.
template <int R>
static RNN4J_INLINE void panel_tail(int rows, int K, const float* A, long lda, const float* bp, float* C, long ldc,
                                    int width, bool acc) {
    if constexpr (R > 0) {
        if (rows == R) panel_rows<R>(K, A, lda, bp, C, ldc, width, acc);
        else panel_tail<R - 1>(rows, K, A, lda, bp, C, ldc, width, acc);
    }
}

template <int MR>
static RNN4J_INLINE void panels_gemm_mr(int M, int K, const float* A, long lda, const Panel* pan, int npan, float* C,
                                        long ldc, bool acc) {
    for (int q = 0; q < npan; q++) {
        const Panel& P = pan[q];
        float* c = C + P.col;
        int m = 0;
        for (; m + MR <= M; m += MR)
            panel_rows<MR>(K, A + (long)m * lda, lda, P.data, c + (long)m * ldc, ldc, P.width, acc);
        panel_tail<MR - 1>(M - m, K, A + (long)m * lda, lda, P.data, c + (long)m * ldc, ldc, P.width, acc);
    }
}

// Rows per block: 8 with AVX-512 (16 zmm accumulators of 32 registers), else 2 (a v16 is two
// ymm or four xmm registers there, and 2 rows already fill most of them).
static bool has_avx512() {
    static const bool v = (__builtin_cpu_init(), __builtin_cpu_supports("avx512f") != 0);
    return v;
}

// C[:, panel columns] (M, .) = A (M, K) B over the given panels of B (K, .): assign, or add
// when acc.
RNN4J_CLONES static void panels_gemm(int M, int K, const float* A, long lda, const Panel* pan, int npan, float* C,
                                     long ldc, bool acc = false) {
    if (has_avx512()) panels_gemm_mr<8>(M, K, A, lda, pan, npan, C, ldc, acc);
    else panels_gemm_mr<2>(M, K, A, lda, pan, npan, C, ldc, acc);
}

// Fills panel P (output columns [col, col + width)) with data d (K, PANEL): element (k, q) is
// src[q * sq + k * sk] for q < width, else 0. src points at the panel's first column.
static void fill_panel(Panel& P, int col, int width, float* d, int K, const float* src, long sq, long sk) {
    P.col = col;
    P.width = width;
    P.data = d;
    for (int k = 0; k < K; k++) {
        float* row = d + (long)k * PANEL;
        for (int q = 0; q < PANEL; q++) row[q] = q < width ? src[q * sq + k * sk] : 0.0f;
    }
}

// Panels of B (K, Nc) row-major, ld ldb, itself (not transposed): the backward's dh = dg W_hh,
// columns [0, Nc) in panels of PANEL. Count only when out == nullptr.
static int make_panels_n(int Nc, int K, const float* B, long ldb, Panel* out, float* buf) {
    int n = 0;
    for (int j = 0; j < Nc; j += PANEL, n++)
        if (out) fill_panel(out[n], j, std::min(PANEL, Nc - j), buf + (long)n * K * PANEL, K, B + j, 1, ldb);
    return n;
}

// Active rows up to which one thread on the panels beats OpenBLAS sgemm with `threads` threads.
// Measured on the Zen 4 CI machine (N = 2048 outputs, K = 512): the panels take 19.3 us per row
// on one core; OpenBLAS about 330 us per call (packing the weights) + 21 us per row / threads.
// One thread: the panels always. Two: up to about 37 rows. More threads: the same model gives
// 17-23 rows; it was not measured on a machine with more cores (OpenBLAS's packing is itself
// split between its threads there, so the true crossover is probably lower).
static int panel_rows_limit(int threads) {
    if (threads <= 1) return 1 << 30;
    const double perRowGain = 19.3 - 21.0 / threads;
    return perRowGain <= 0 ? (1 << 30) : (int)(330.0 / perRowGain);
}

// Panels for gate columns g*H + [j0, j1) of every gate g: how many, and (when out != nullptr)
// the descriptors with their data carved from buf (K * PANEL floats each) and filled from W (GH,
// K) row-major, ld ldw.
static int make_panels(int G, int H, int j0, int j1, int K, const float* W, long ldw, Panel* out, float* buf) {
    int n = 0;
    for (int g = 0; g < G; g++) {
        for (int j = j0; j < j1; j += PANEL, n++) {
            const int col = g * H + j;  // W^T: output column col is row col of W
            if (out) fill_panel(out[n], col, std::min(PANEL, j1 - j), buf + (long)n * K * PANEL, K, W + (long)col * ldw, ldw, 1);
        }
    }
    return n;
}

// ---- forward ------------------------------------------------------------------------------

// Pointwise part of one forward step for rows [0, bt) and hidden units [j0, j1): gi (bt, GH)
// input sums incl. b_ih, gh (bt, GH) hidden products without bias, bhh (GH) (zeros when absent),
// hin (N, R) the previous state, hout (N, R) the new state (may be hin; not written for LSTM with
// projection), c (N, H) cell state (updated in place), wsp (bt, W) ld ldw this step's workspace
// rows, y (bt, R) ld ldy this step's output rows (not written for LSTM with projection: done
// after the projection GEMM). Unit j touches only column j of each gate block, so disjoint unit
// ranges can run on different threads.
// LSTM units [j0, j1) of one row: xi, hh (GH) input sums and hidden products, cs (H) cell state
// in place, w (W) workspace row, hs / yr (R) new state and output (PROJ: o*tanh(c) into w instead).
template <bool PROJ>
static RNN4J_INLINE void lstm_units(int H, int j0, int j1, const float* __restrict xi, const float* __restrict hh,
                                    const float* __restrict bhh, float* __restrict cs, float* __restrict w,
                                    float* __restrict hs, float* __restrict yr) {
    for (int j = j0; j < j1; j++) {
        float i, f, g, o, cn, hv;
        lstm_forward(xi[j] + hh[j] + bhh[j], xi[H + j] + hh[H + j] + bhh[H + j],
                     xi[2 * H + j] + hh[2 * H + j] + bhh[2 * H + j], xi[3 * H + j] + hh[3 * H + j] + bhh[3 * H + j],
                     cs[j], i, f, g, o, cn, hv);
        w[j] = i;
        w[H + j] = f;
        w[2 * H + j] = g;
        w[3 * H + j] = o;
        w[4 * H + j] = cn;
        cs[j] = cn;
        if (PROJ) {
            w[5 * H + j] = hv;
        } else {
            hs[j] = hv;
            yr[j] = hv;
        }
    }
}

// The buffers are distinct (restrict, so the loops vectorise without alias checks); with
// projection hin and hout are one buffer, which LSTM then neither reads nor writes here.
RNN4J_CLONES static void forward_pointwise(int kind, int H, int P, int bt, int j0, int j1,
                                           const float* __restrict gi, const float* __restrict gh,
                                           const float* __restrict bhh, const float* __restrict hin,
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
                    float v = rnn_tanh_forward(xi[j] + hh[j] + bhh[j]);
                    w[j] = v;
                    hs[j] = v;
                    yr[j] = v;
                }
                break;
            case CELL_RNN_RELU:
                for (int j = j0; j < j1; j++) {
                    float v = rnn_relu_forward(xi[j] + hh[j] + bhh[j]);
                    w[j] = v;
                    hs[j] = v;
                    yr[j] = v;
                }
                break;
            case CELL_LSTM:
                // two loops, so neither has a branch in it (the branchy one does not vectorise)
                if (P > 0) lstm_units<true>(H, j0, j1, xi, hh, bhh, c + (long)b * H, w, hs, yr);
                else lstm_units<false>(H, j0, j1, xi, hh, bhh, c + (long)b * H, w, hs, yr);
                break;
            case CELL_GRU:
                for (int j = j0; j < j1; j++) {
                    float hn = hh[2 * H + j] + bhh[2 * H + j];
                    float r, z, n, hv;
                    gru_forward(xi[j], xi[H + j], xi[2 * H + j], hh[j] + bhh[j], hh[H + j] + bhh[H + j], hn, hp[j],
                                r, z, n, hv);
                    w[j] = r;
                    w[H + j] = z;
                    w[2 * H + j] = n;
                    w[3 * H + j] = hn;
                    hs[j] = hv;
                    yr[j] = hv;
                }
                break;
            default: break;
        }
    }
}

// C[:, g*H + j] (M, .) = A (M, K) W[g*H + j, :]^T for every gate g and units j in [j0, j1):
// the gate rows of one unit range (one GEMM when the range is all units).
static inline void gate_rows_nt(int M, int G, int H, int j0, int j1, int K, const float* A, long lda,
                                const float* W, long ldw, float* C, long ldc) {
    if (j0 == 0 && j1 == H) {
        linear_nt(M, G * H, K, A, lda, W, ldw, C, ldc);
        return;
    }
    for (int g = 0; g < G; g++) {
        const long r0 = (long)g * H + j0;
        linear_nt(M, j1 - j0, K, A, lda, W + r0 * ldw, ldw, C + r0, ldc);
    }
}

// ---- the step worker: one persistent thread that takes half of each forward step -------------
//
// A small-batch step is a matrix-vector product over the weights (memory-bound) plus pointwise
// math; a larger batch's step is a GEMM on the packed panels plus pointwise math. Split by
// hidden unit into two parts, part 0 always on the calling thread and part 1 always
// on this one worker, each core keeps reading the same half of the weight rows, which stays hot in
// its own L2 across calls, and each part owns whole gate sets, so it also does its pointwise math.
//
// A layer call is a sequence of rounds (a step, or a step's projection); a round is finished
// before the next is published. The caller publishes a round, runs part 0, then claims part 1
// back with a CAS if the worker has not claimed it yet (asleep, descheduled, or busy waking up)
// and runs it itself; so a call is never slower than single-threaded by more than the hand-off,
// and every part runs exactly once, with the same arithmetic wherever it runs. One caller at a
// time (a try-lock): another Java thread that finds the worker taken computes alone.
// The worker spins a short while for the next round, then sleeps on a futex.
class StepWorker {
public:
    typedef void (*PartFn)(void* arg, int part);

    // The worker, locked for this caller, or nullptr when it is taken or could not be started.
    static StepWorker* acquire() {
        StepWorker* w = instance();
        if (w == nullptr || w->busy_.exchange(true, std::memory_order_acquire)) return nullptr;
        return w;
    }

    void release() { busy_.store(false, std::memory_order_release); }

    // Runs fn(arg, 0) here and fn(arg, 1) on the worker (or here, if it has not taken it in time).
    void round(PartFn fn, void* arg) {
        fn_ = fn;
        arg_ = arg;
        const std::uint64_t g = ++gen_;
        state_.store(g << 2 | OPEN, std::memory_order_seq_cst);
        wake_.fetch_add(1, std::memory_order_seq_cst);
        if (sleeping_.load(std::memory_order_seq_cst)) futex(&wake_, FUTEX_WAKE_PRIVATE, 1);
        fn(arg, 0);
        std::uint64_t open = g << 2 | OPEN;
        if (state_.compare_exchange_strong(open, g << 2 | CALLER, std::memory_order_acq_rel)) {
            fn(arg, 1);
            return;
        }
        for (unsigned spins = 0; done_.load(std::memory_order_acquire) != g; spins++) {
            if (spins < 20000) cpu_relax();
            else sched_yield();  // the worker was descheduled mid-part
        }
    }

private:
    enum { OPEN = 1, WORKER = 2, CALLER = 3 };
    // how long the worker polls for the next round before it sleeps
    static constexpr long SPIN_NS = 100000;

    std::atomic<std::uint64_t> state_{0};  // gen << 2 | OPEN / WORKER / CALLER of the latest round
    std::atomic<std::uint64_t> done_{0};   // gen of the latest round whose part 1 the worker finished
    std::atomic<int> wake_{0};             // futex word, bumped on every publish
    std::atomic<int> sleeping_{0};
    std::atomic<bool> busy_{false};        // the caller lock
    std::uint64_t gen_ = 0;                // caller side, under busy_
    PartFn fn_ = nullptr;                  // the round: published by state_, read after claiming it
    void* arg_ = nullptr;

    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    static long futex(std::atomic<int>* addr, int op, int val) {
        static_assert(sizeof(std::atomic<int>) == sizeof(int), "futex word");
        return syscall(SYS_futex, reinterpret_cast<int*>(addr), op, val, nullptr, nullptr, 0);
    }

    static long now_ns() {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000L + ts.tv_nsec;
    }

    // Created on first use, never destroyed (a detached thread that sleeps when idle).
    static StepWorker* instance() {
        static StepWorker* const w = start();
        return w;
    }

    static StepWorker* start() {
        StepWorker* w = new (std::nothrow) StepWorker();
        if (w == nullptr) return nullptr;
        try {
            std::thread(&StepWorker::loop, w).detach();
        } catch (...) {
            delete w;
            return nullptr;
        }
        return w;
    }

    std::uint64_t wait_for_round(std::uint64_t seen) {
        long deadline = now_ns() + SPIN_NS;
        for (;;) {
            for (int i = 0; i < 64; i++) {
                std::uint64_t s = state_.load(std::memory_order_acquire);
                if ((s >> 2) > seen) return s;
                cpu_relax();
            }
            if (now_ns() < deadline) continue;
            const int w = wake_.load(std::memory_order_seq_cst);
            sleeping_.store(1, std::memory_order_seq_cst);
            std::uint64_t s = state_.load(std::memory_order_seq_cst);
            if ((s >> 2) <= seen) futex(&wake_, FUTEX_WAIT_PRIVATE, w);  // returns at once if wake_ moved
            sleeping_.store(0, std::memory_order_relaxed);
            deadline = now_ns() + SPIN_NS;
        }
    }

    void loop() {
        std::uint64_t seen = 0;
        for (;;) {
            std::uint64_t s = wait_for_round(seen);
            seen = s >> 2;
            if ((s & 3) != OPEN) continue;
            if (!state_.compare_exchange_strong(s, seen << 2 | WORKER, std::memory_order_acq_rel)) continue;
            fn_(arg_, 1);
            done_.store(seen, std::memory_order_release);
        }
    }
};

// Below this many weight floats read per step, the hand-off costs more than half the step saves.
static const long SPLIT_MIN_FLOATS = 32768;

// One direction's forward as rounds over unit ranges: a round is a step's cell (phase 0: gate
// GEMMs and pointwise math of units [u[part], u[part+1])) or, for LSTM with projection, a step's
// projection (phase 1: output columns [pr[part], pr[part+1])). With one part it is the plain
// single-threaded forward.
struct FwdPlan {
    const RnnDir* d;
    const int* off;  // (T) step offsets
    float* gi;       // (S, GH) input projection of all steps
    float* gh;       // (N, GH) hidden products of one step; parts write disjoint columns
    float* h[2];     // (N, R) state ping-pong without projection (parts read all of h_{t-1});
                     // with projection h[0] only, the two phases keep reads and writes apart
    float* c;        // (N, H) cell state, per unit
    float* stepWs;   // (N, W) one step's workspace in inference, else null
    const float* bhh;
    bool giInRound;  // gi is computed by the parts in step 0 (S <= SMALL_M), else beforehand
    const Panel* panels;  // packed W_hh^T panels (batches above SMALL_M), else null
    int pan[3];           // part k owns panels [pan[k], pan[k+1])
    int panelRows;        // steps with at most this many active rows use the panels
    const Panel* ihPanels;  // packed W_ih^T panels when the parts also compute gi (wide split)
    int ipan[3];            // part k owns W_ih panels [ipan[k], ipan[k+1])
    int u[3], pr[3];
    int s, phase;    // the round
};

// gi[r][g*H + j] += b_ih[g*H + j] for every row r < S, gate g and unit j in [j0, j1).
static inline void add_bias_units(int S, int G, int H, int j0, int j1, const float* bih, float* gi, int GH) {
    for (int r = 0; r < S; r++) {
        float* g = gi + (long)r * GH;
        for (int k = 0; k < G; k++)
            for (int j = k * H + j0; j < k * H + j1; j++) g[j] += bih[j];
    }
}

static void forward_part(void* arg, int part) {
    const FwdPlan& pl = *static_cast<const FwdPlan*>(arg);
    const RnnDir& d = *pl.d;
    const int H = d.H, P = d.P, R = d.R, GH = d.GH, N = d.N;
    float* const* p = d.p;
    const long* ld = d.ld;
    const bool proj = d.kind == CELL_LSTM && P > 0;
    const int t = d.reverse ? d.T - 1 - pl.s : pl.s;
    const int bt = d.bs[t];
    const long row0 = pl.off[t];
    float* wsp = pl.stepWs ? pl.stepWs : p[SLOT_WS] + row0 * ld[SLOT_WS];  // (bt, W)
    const long ldw = pl.stepWs ? d.W : ld[SLOT_WS];
    float* yrow = p[SLOT_Y] + row0 * ld[SLOT_Y];  // (bt, R)
    if (pl.phase == 2) {
        // gi (S, GH) for this part's units from the W_ih panels, 256 rows of x at a time so that
        // a block of x stays in cache across the part's panels; then + b_ih
        const int j0 = pl.u[part], j1 = pl.u[part + 1];
        if (j1 <= j0) return;
        for (int r0 = 0; r0 < d.S; r0 += 256) {
            const int rows = std::min(256, d.S - r0);
            panels_gemm(rows, d.I, p[SLOT_X] + (long)r0 * ld[SLOT_X], ld[SLOT_X], pl.ihPanels + pl.ipan[part],
                        pl.ipan[part + 1] - pl.ipan[part], pl.gi + (long)r0 * GH, GH);
        }
        if (const float* bih = p[SLOT_B_IH]) add_bias_units(d.S, d.G, H, j0, j1, bih, pl.gi, GH);
        return;
    }
    if (pl.phase == 1) {
        // h[0:bt, q0:q1) = (o*tanh c) (bt, H) W_hr[q0:q1)^T, and the same into y
        const int q0 = pl.pr[part], q1 = pl.pr[part + 1];
        if (q1 <= q0) return;
        float* h = pl.h[0];
        linear_nt(bt, q1 - q0, H, wsp + 5 * H, ldw, p[SLOT_W_HR] + (long)q0 * ld[SLOT_W_HR], ld[SLOT_W_HR], h + q0, R);
        copy_rows(bt, q1 - q0, h + q0, R, yrow + q0, ld[SLOT_Y]);
        return;
    }
    const int j0 = pl.u[part], j1 = pl.u[part + 1];
    if (j1 <= j0) return;
    if (pl.giInRound && pl.s == 0) {
        // gi (S, GH) for this part's units: x W_ih^T + b_ih
        gate_rows_nt(d.S, d.G, H, j0, j1, d.I, p[SLOT_X], ld[SLOT_X], p[SLOT_W_IH], ld[SLOT_W_IH], pl.gi, GH);
        if (const float* bih = p[SLOT_B_IH]) add_bias_units(d.S, d.G, H, j0, j1, bih, pl.gi, GH);
    }
    const float* hin = proj ? pl.h[0] : pl.h[pl.s & 1];
    float* hout = proj ? pl.h[0] : pl.h[(pl.s + 1) & 1];
    // rows not active at t keep their state: in reverse, the rows that become active later
    // (shorter sequences) still hold h0, which is where such a sequence starts.
    if (pl.panels && bt <= pl.panelRows)
        panels_gemm(bt, R, hin, R, pl.panels + pl.pan[part], pl.pan[part + 1] - pl.pan[part], pl.gh, GH);
    else gate_rows_nt(bt, d.G, H, j0, j1, R, hin, R, p[SLOT_W_HH], ld[SLOT_W_HH], pl.gh, GH);
    forward_pointwise(d.kind, H, P, bt, j0, j1, pl.gi + row0 * GH, pl.gh, pl.bhh, hin, hout, pl.c, wsp, ldw, yrow,
                      ld[SLOT_Y]);
    if (hout != hin)
        for (int b = bt; b < N; b++)
            std::memcpy(hout + (long)b * R + j0, hin + (long)b * R + j0, sizeof(float) * (j1 - j0));
}

// Panel boundaries bounds[3] of the two parts' unit ranges u[3] (part k owns panels
// [bounds[k], bounds[k+1])), all zero when !used; returns the total.
static int count_part_panels(bool used, int G, int H, const int* u, int* bounds) {
    bounds[0] = 0;
    bounds[1] = used ? make_panels(G, H, u[0], u[1], 0, nullptr, 0, nullptr, nullptr) : 0;
    bounds[2] = bounds[1] + (used ? make_panels(G, H, u[1], u[2], 0, nullptr, 0, nullptr, nullptr) : 0);
    return bounds[2];
}

// Arena floats for n panels of depth K and their descriptors.
static size_t panels_floats(int n, int K) {
    return n == 0 ? 0 : Arena::round((size_t)n * sizeof(Panel) / sizeof(float)) + Arena::round((size_t)n * K * PANEL);
}

// Packs W (GH, K) into the panels counted by count_part_panels, carved from a.
static const Panel* pack_part_panels(Arena& a, int G, int H, const int* u, const int* bounds, int K, const float* W,
                                     long ldw) {
    static_assert(sizeof(Panel) % sizeof(float) == 0, "Panel carved from float memory");
    Panel* pan = reinterpret_cast<Panel*>(a.take((size_t)bounds[2] * sizeof(Panel) / sizeof(float)));
    float* buf = a.take((size_t)bounds[2] * K * PANEL);
    make_panels(G, H, u[0], u[1], K, W, ldw, pan, buf);
    make_panels(G, H, u[1], u[2], K, W, ldw, pan + bounds[1], buf + (size_t)bounds[1] * K * PANEL);
    return pan;
}

// Splits the steps of a forward between this thread and the step worker?
static bool want_split(const RnnDir& d, int threads) {
    if (threads < 2 || d.H < 32) return false;
    // wide split: the two parts run every step on their own panels, gi included, so the forward
    // makes no threaded OpenBLAS call (whose pool threads would spin on the worker's core). Only
    // with a budget of exactly two threads: the worker is one thread, and with more cores
    // OpenBLAS's own threads over the whole batch are the better use of them.
    if (d.N > SMALL_M) return threads == 2 && (long)d.N * d.GH * d.R >= 8L * SPLIT_MIN_FLOATS;
    const long perStep = (long)d.GH * (d.R + (d.S <= SMALL_M ? d.I : 0)) + (long)d.P * d.H;
    return perStep >= SPLIT_MIN_FLOATS;
}

// threads: the budget of this direction (OpenBLAS for the whole-sequence GEMM; 2 or more also
// lets small-batch steps use the step worker).
static int forward_dir(const RnnDir& d, int threads) {
    const int T = d.T, N = d.N, S = d.S, I = d.I, H = d.H, P = d.P, R = d.R, GH = d.GH, W = d.W;
    const bool lstm = d.kind == CELL_LSTM, proj = lstm && P > 0;
    float* const* p = d.p;
    const long* ld = d.ld;

    FwdPlan pl;
    const bool splittable = want_split(d, threads);
    StepWorker* worker = splittable ? StepWorker::acquire() : nullptr;
    const bool split = worker != nullptr;
    // part 0 gets the first half of the units (a multiple of 16, for whole vectors) and of the
    // projection outputs; without the worker one part takes everything
    const int uh = split ? (H / 2 + 8) / 16 * 16 : H;
    const int ph = split ? (P / 2 + 2) / 4 * 4 : P;
    pl.u[0] = 0, pl.u[1] = uh, pl.u[2] = H;
    pl.pr[0] = 0, pl.pr[1] = ph, pl.pr[2] = P;
    pl.giInRound = split && S <= SMALL_M;
    // Batches above SMALL_M: W_hh^T packed once into panels, each part's panels contiguous,
    // used by the steps with few enough active rows (all steps in a wide split, where W_ih^T is
    // packed too). Whether to use them depends on the layer's shape and thread budget only,
    // never on whether the worker was free: a call that finds it taken computes the same panels
    // alone, so concurrent and serial calls agree bit for bit.
    const bool wide = splittable && N > SMALL_M;
    pl.panelRows = wide ? (1 << 30) : panel_rows_limit(threads);
    const bool packed = N > SMALL_M && d.bs[T - 1] <= pl.panelRows;
    const int npan = count_part_panels(packed, d.G, H, pl.u, pl.pan);
    const int nipan = count_part_panels(wide, d.G, H, pl.u, pl.ipan);

    Arena a;
    const bool ownWs = p[SLOT_WS] == nullptr;
    size_t need = Arena::round(T) + Arena::round((size_t)S * GH) + Arena::round((size_t)N * GH) +
                  Arena::round((size_t)N * R) * 2 + (lstm ? Arena::round((size_t)N * H) : 0) + Arena::round(GH) +
                  (ownWs ? Arena::round((size_t)N * W) : 0) +
                  panels_floats(npan, R) + panels_floats(nipan, I);
    if (!a.alloc(need)) {
        if (worker) worker->release();
        return RNN_OUT_OF_MEMORY;
    }
    pl.d = &d;
    int* off = reinterpret_cast<int*>(a.take(T));
    pl.off = off;
    pl.gi = a.take((size_t)S * GH);
    pl.gh = a.take((size_t)N * GH);
    pl.h[0] = a.take((size_t)N * R);
    pl.h[1] = a.take((size_t)N * R);
    pl.c = lstm ? a.take((size_t)N * H) : nullptr;
    float* zeros = a.take(GH);  // (GH) stands in for an absent b_hh
    pl.stepWs = ownWs ? a.take((size_t)N * W) : nullptr;
    step_offsets(T, d.bs, off);
    std::memset(zeros, 0, sizeof(float) * GH);
    pl.bhh = p[SLOT_B_HH] ? p[SLOT_B_HH] : zeros;
    pl.panels = packed ? pack_part_panels(a, d.G, H, pl.u, pl.pan, R, p[SLOT_W_HH], ld[SLOT_W_HH]) : nullptr;
    pl.ihPanels = wide ? pack_part_panels(a, d.G, H, pl.u, pl.ipan, I, p[SLOT_W_IH], ld[SLOT_W_IH]) : nullptr;

    if (wide) {
        pl.s = 0;
        pl.phase = 2;
        if (split) worker->round(forward_part, &pl);
        else forward_part(&pl, 0);
    } else if (!pl.giInRound) {
        // gi = x W_ih^T + b_ih, all steps at once
        linear_nt(S, GH, I, p[SLOT_X], ld[SLOT_X], p[SLOT_W_IH], ld[SLOT_W_IH], pl.gi, GH);
        if (const float* bih = p[SLOT_B_IH]) {
            for (int s = 0; s < S; s++) {
                float* g = pl.gi + (long)s * GH;
                for (int j = 0; j < GH; j++) g[j] += bih[j];
            }
        }
    }
    copy_rows(N, R, p[SLOT_H0], ld[SLOT_H0], pl.h[0], R);
    if (!proj) copy_rows(N, R, p[SLOT_H0], ld[SLOT_H0], pl.h[1], R);
    if (lstm) copy_rows(N, H, p[SLOT_C0], ld[SLOT_C0], pl.c, H);

    // while the two parts run, the projection's OpenBLAS calls (if any) take one thread each
    if (split) blas_threads(1);
    for (int s = 0; s < T; s++) {
        pl.s = s;
        for (pl.phase = 0; pl.phase < (proj ? 2 : 1); pl.phase++) {
            if (split) worker->round(forward_part, &pl);
            else forward_part(&pl, 0);
        }
    }
    if (split) {
        blas_threads(threads);
        worker->release();
    }
    copy_rows(N, R, pl.h[proj ? 0 : T & 1], R, p[SLOT_H_N], ld[SLOT_H_N]);
    if (lstm) copy_rows(N, H, pl.c, H, p[SLOT_C_N], ld[SLOT_C_N]);
    return RNN_OK;
}

// ---- backward -----------------------------------------------------------------------------

// Pointwise part of one backward step for rows [0, bt) of step t: dhp (bt, H) ld lddhp gradient
// of the unprojected output, dh (N, R) running state gradient (GRU: replaced by the direct path
// dh*z, the W_hh part is added by the caller's GEMM), dc (N, H) running cell gradient (LSTM, in
// place), wsp (bt, W) ld ldw this step's saved activations, cprev (bt) row pointers to c_{t-1}
// (LSTM), hprev (bt, R) previous states, dg (bt, GH) input-side and dgh (bt, GH) hidden-side
// pre-activation gradients (dgh only written for GRU; the others share dg).
RNN4J_CLONES static void backward_pointwise(int kind, int H, int bt, const float* dhp, long lddhp, float* dh,
                                            float* dc, const float* wsp, long ldw, const float* const* cprev,
                                            const float* hprev, float* dg, float* dgh) {
    const int GH = cell_gates(kind) * H;
    for (int b = 0; b < bt; b++) {
        const float* w = wsp + (long)b * ldw;     // (W)
        const float* dr = dhp + (long)b * lddhp;  // (H)
        float* gb = dg + (long)b * GH;            // (GH)
        switch (kind) {
            case CELL_RNN_TANH:
                for (int j = 0; j < H; j++) gb[j] = rnn_tanh_backward(dr[j], w[j]);
                break;
            case CELL_RNN_RELU:
                for (int j = 0; j < H; j++) gb[j] = rnn_relu_backward(dr[j], w[j]);
                break;
            case CELL_LSTM: {
                float* dcb = dc + (long)b * H;  // (H)
                const float* cp = cprev[b];     // (H)
                for (int j = 0; j < H; j++) {
                    float di, df, dgg, dout;
                    float dcv = dcb[j];
                    lstm_backward(dr[j], dcv, w[j], w[H + j], w[2 * H + j], w[3 * H + j], w[4 * H + j], cp[j], di,
                                  df, dgg, dout);
                    dcb[j] = dcv;
                    gb[j] = di;
                    gb[H + j] = df;
                    gb[2 * H + j] = dgg;
                    gb[3 * H + j] = dout;
                }
                break;
            }
            case CELL_GRU: {
                float* ghb = dgh + (long)b * GH;     // (GH)
                float* dhb = dh + (long)b * H;       // (H), R = H for GRU
                const float* hp = hprev + (long)b * H;  // (H)
                for (int j = 0; j < H; j++) {
                    float r_, z_, n_, hn_, direct;
                    gru_backward(dr[j], w[j], w[H + j], w[2 * H + j], w[3 * H + j], hp[j], r_, z_, n_, hn_, direct);
                    gb[j] = r_;
                    gb[H + j] = z_;
                    gb[2 * H + j] = n_;
                    ghb[j] = r_;
                    ghb[H + j] = z_;
                    ghb[2 * H + j] = hn_;
                    dhb[j] = direct;
                }
                break;
            }
            default: break;
        }
    }
}

// dst (GH) += column sums of m (S, GH), summed in double so long sequences do not lose digits.
static void add_column_sums(int S, int GH, const float* m, float* dst, double* acc) {
    for (int j = 0; j < GH; j++) acc[j] = 0;
    for (int s = 0; s < S; s++) {
        const float* r = m + (long)s * GH;
        for (int j = 0; j < GH; j++) acc[j] += r[j];
    }
    for (int j = 0; j < GH; j++) dst[j] += (float)acc[j];
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

static int backward_dir(const RnnDir& d, DxTurns* turns, int k, int threads) {
    DxTurnGuard guard{turns, k};
    const int T = d.T, N = d.N, S = d.S, I = d.I, H = d.H, P = d.P, R = d.R, GH = d.GH;
    const bool lstm = d.kind == CELL_LSTM, gru = d.kind == CELL_GRU, proj = lstm && P > 0;
    float* const* p = d.p;
    const long* ld = d.ld;
    const float* ws = p[SLOT_WS];  // (S, W) ld ld[SLOT_WS], required in backward
    const long ldws = ld[SLOT_WS];

    // steps with few enough active rows run dh = dgh W_hh on panels of W_hh packed once
    const int panelRows = panel_rows_limit(threads);
    const bool packed = d.bs[T - 1] <= panelRows;
    const int npan = packed ? make_panels_n(R, GH, nullptr, 0, nullptr, nullptr) : 0;

    Arena a;
    size_t need = panels_floats(npan, GH) +
                  Arena::round(T) + Arena::round((size_t)S * GH) * (gru ? 2 : 1) + Arena::round((size_t)S * R) +
                  Arena::round((size_t)N * R) + (lstm ? Arena::round((size_t)N * H) : 0) +
                  (proj ? Arena::round((size_t)S * P) + Arena::round((size_t)N * H) : 0) +
                  Arena::round((size_t)N * 2) /* cprev pointers */ + Arena::round((size_t)GH * 2) /* doubles */;
    if (!a.alloc(need)) return RNN_OUT_OF_MEMORY;
    int* off = reinterpret_cast<int*>(a.take(T));     // (T)
    float* dg = a.take((size_t)S * GH);               // (S, GH) input-side pre-activation gradients
    float* dgh = gru ? a.take((size_t)S * GH) : dg;   // (S, GH) hidden-side (differs for GRU's n block)
    float* hprev = a.take((size_t)S * R);             // (S, R) state each row started from
    float* dh = a.take((size_t)N * R);                // (N, R) running gradient of the hidden state
    float* dc = lstm ? a.take((size_t)N * H) : nullptr;            // (N, H) running gradient of c
    float* dhAll = proj ? a.take((size_t)S * P) : nullptr;         // (S, P) dh of every row, for dW_hr
    float* dhPre = proj ? a.take((size_t)N * H) : nullptr;         // (N, H) dh W_hr of one step
    const float** cprev = reinterpret_cast<const float**>(a.take((size_t)N * 2));  // (N) row pointers
    double* colAcc = reinterpret_cast<double*>(a.take((size_t)GH * 2));           // (GH)
    step_offsets(T, d.bs, off);
    Panel* pan = nullptr;
    if (packed) {
        pan = reinterpret_cast<Panel*>(a.take((size_t)npan * sizeof(Panel) / sizeof(float)));
        make_panels_n(R, GH, p[SLOT_W_HH], ld[SLOT_W_HH], pan, a.take((size_t)npan * GH * PANEL));
    }

    // hprev: the previous step in the direction of travel where the sequence has one, else h0.
    for (int t = 0; t < T; t++) {
        const int prevT = d.reverse ? t + 1 : t - 1;
        const int prevB = (prevT >= 0 && prevT < T) ? d.bs[prevT] : 0;
        for (int b = 0; b < d.bs[t]; b++) {
            const float* src = b < prevB ? p[SLOT_Y] + (long)(off[prevT] + b) * ld[SLOT_Y] : p[SLOT_H0] + (long)b * ld[SLOT_H0];
            std::memcpy(hprev + (long)(off[t] + b) * R, src, sizeof(float) * R);
        }
    }
    if (p[SLOT_DH_N]) copy_rows(N, R, p[SLOT_DH_N], ld[SLOT_DH_N], dh, R);
    else zero_rows(N, R, dh, R);
    if (lstm) {
        if (p[SLOT_DC_N]) copy_rows(N, H, p[SLOT_DC_N], ld[SLOT_DC_N], dc, H);
        else zero_rows(N, H, dc, H);
    }

    for (int s = T - 1; s >= 0; s--) {
        const int t = d.reverse ? T - 1 - s : s;
        const int bt = d.bs[t];
        const long row0 = off[t];
        const float* dyr = p[SLOT_DY] + row0 * ld[SLOT_DY];  // (bt, R)
        for (int b = 0; b < bt; b++) {
            float* dhb = dh + (long)b * R;
            const float* g = dyr + (long)b * ld[SLOT_DY];
            for (int j = 0; j < R; j++) dhb[j] += g[j];
        }
        const float* dhp = dh;  // (bt, H) gradient of o*tanh(c) / of h
        long lddhp = R;
        if (proj) {
            copy_rows(bt, P, dh, R, dhAll + row0 * P, P);
            // dhPre (bt, H) = dh (bt, P) W_hr (P, H)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bt, H, P, 1.0f, dh, R, p[SLOT_W_HR],
                        (int)ld[SLOT_W_HR], 0.0f, dhPre, H);
            dhp = dhPre;
            lddhp = H;
        }
        if (lstm) {
            const int prevT = d.reverse ? t + 1 : t - 1;
            const int prevB = (prevT >= 0 && prevT < T) ? d.bs[prevT] : 0;
            for (int b = 0; b < bt; b++)
                cprev[b] = b < prevB ? ws + (long)(off[prevT] + b) * ldws + 4 * H : p[SLOT_C0] + (long)b * ld[SLOT_C0];
        }
        backward_pointwise(d.kind, H, bt, dhp, lddhp, dh, dc, ws + row0 * ldws, ldws, cprev, hprev + row0 * R,
                           dg + row0 * GH, dgh + row0 * GH);
        // dh[0:bt] (bt, R) = dgh (bt, GH) W_hh (GH, R) (+ GRU's direct path already in dh)
        if (pan && bt <= panelRows)
            panels_gemm(bt, GH, dgh + row0 * GH, GH, pan, npan, dh, R, gru);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, bt, R, GH, 1.0f, dgh + row0 * GH, GH,
                        p[SLOT_W_HH], (int)ld[SLOT_W_HH], gru ? 1.0f : 0.0f, dh, R);
    }
    if (p[SLOT_DH0]) copy_rows(N, R, dh, R, p[SLOT_DH0], ld[SLOT_DH0]);
    if (lstm && p[SLOT_DC0]) copy_rows(N, H, dc, H, p[SLOT_DC0], ld[SLOT_DC0]);

    // whole-sequence gradients
    if (p[SLOT_DW_IH] && I > 0)  // (GH, I) += dg^T (GH, S) x (S, I)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, I, S, 1.0f, dg, GH, p[SLOT_X], (int)ld[SLOT_X], 1.0f,
                    p[SLOT_DW_IH], (int)ld[SLOT_DW_IH]);
    if (p[SLOT_DW_HH])  // (GH, R) += dgh^T (GH, S) hprev (S, R)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, GH, R, S, 1.0f, dgh, GH, hprev, R, 1.0f, p[SLOT_DW_HH],
                    (int)ld[SLOT_DW_HH]);
    if (p[SLOT_DB_IH]) add_column_sums(S, GH, dg, p[SLOT_DB_IH], colAcc);
    if (p[SLOT_DB_HH]) add_column_sums(S, GH, dgh, p[SLOT_DB_HH], colAcc);
    if (proj && p[SLOT_DW_HR])  // (P, H) += dhAll^T (P, S) (o*tanh c) (S, H)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, P, H, S, 1.0f, dhAll, P, ws + 5 * H, (int)ldws, 1.0f,
                    p[SLOT_DW_HR], (int)ld[SLOT_DW_HR]);
    if (p[SLOT_DX] && I > 0) {  // (S, I) += dg (S, GH) W_ih (GH, I), shared by the directions: last, in turn
        if (turns) turns->wait_for(k);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, I, GH, 1.0f, dg, GH, p[SLOT_W_IH],
                    (int)ld[SLOT_W_IH], 1.0f, p[SLOT_DX], (int)ld[SLOT_DX]);
    }
    return RNN_OK;
}

// ---- entry points: one call = one layer, ndirs (1 or 2) directions -------------------------

static inline void unpack_dir(RnnDir& d, const long long* ptrs, const long long* lds, const int* dims,
                              const int* batchSizes, int T) {
    d.kind = dims[DIM_KIND];
    d.reverse = dims[DIM_REVERSE];
    d.I = dims[DIM_INPUT];
    d.H = dims[DIM_HIDDEN];
    d.P = d.kind == CELL_LSTM ? dims[DIM_PROJ] : 0;
    d.R = d.P > 0 ? d.P : d.H;
    d.G = cell_gates(d.kind);
    d.GH = d.G * d.H;
    d.W = cell_workspace_row(d.kind, d.H, d.P);
    d.T = T;
    d.bs = batchSizes;
    d.N = batchSizes[0];
    d.S = 0;
    for (int t = 0; t < T; t++) d.S += batchSizes[t];
    for (int i = 0; i < RNN_NUM_SLOTS; i++) {
        d.p[i] = reinterpret_cast<float*>(static_cast<intptr_t>(ptrs[i]));
        d.ld[i] = (long)lds[i];
    }
}

// Runs fn on each direction; two directions run concurrently on two threads when the thread
// budget allows, each given half of it (OpenBLAS runs with threads / 2 meanwhile), so the total
// never exceeds `threads`. A single direction uses the whole budget.
template <typename Fn>
static int run_dirs(int ndirs, const long long* ptrs, const long long* lds, const int* dims, const int* batchSizes,
                    int T, int threads, Fn fn) {
    RnnDir dirs[2];
    for (int k = 0; k < ndirs; k++)
        unpack_dir(dirs[k], ptrs + k * RNN_NUM_SLOTS, lds + k * RNN_NUM_SLOTS, dims + k * RNN_NUM_DIMS, batchSizes, T);
    if (threads < 1) threads = 1;
    if (ndirs == 1 || threads < 2) {
        int rc = RNN_OK;
        for (int k = 0; k < ndirs && rc == RNN_OK; k++) rc = fn(dirs[k], k, threads, nullptr);
        return rc;
    }
    const int half = threads / 2;
    int rc1 = RNN_OK;
    DxTurns turns;
    std::thread other;
    blas_threads(half);
    try {
        other = std::thread([&] { rc1 = fn(dirs[1], 1, half, &turns); });
    } catch (...) {  // no thread to be had: run both here
        blas_threads(threads);
        int rc = fn(dirs[0], 0, threads, nullptr);
        if (rc == RNN_OK) rc = fn(dirs[1], 1, threads, nullptr);
        return rc;
    }
    int rc0 = fn(dirs[0], 0, half, &turns);
    other.join();
    blas_threads(threads);
    return rc0 != RNN_OK ? rc0 : rc1;
}

// ptrs, lds: (ndirs, RNN_NUM_SLOTS) addresses in bytes (0 = null) and row strides in floats;
// dims: (ndirs, RNN_NUM_DIMS); batchSizes: (T), shared by the directions; threads: total budget.
// Returns an RnnStatus.
inline int rnn_layer_forward(int ndirs, const long long* ptrs, const long long* lds, const int* dims,
                             const int* batchSizes, int T, int threads) {
    return run_dirs(ndirs, ptrs, lds, dims, batchSizes, T, threads, [](const RnnDir& d, int, int th, DxTurns*) { return forward_dir(d, th); });
}

inline int rnn_layer_backward(int ndirs, const long long* ptrs, const long long* lds, const int* dims,
                              const int* batchSizes, int T, int threads) {
    return run_dirs(ndirs, ptrs, lds, dims, batchSizes, T, threads, [](const RnnDir& d, int k, int th, DxTurns* turns) { return backward_dir(d, turns, k, th); });
}

}  // namespace rnn4j

#endif
