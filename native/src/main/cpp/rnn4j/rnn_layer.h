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
//   then whole-sequence GEMMs: dW_ih += dg^T x, dW_hh += dgh^T hprev, dx += dg W_ih,
//   dW_hr += dh_all^T (o*tanh c); bias gradients are column sums (in double).
// Accumulate/assign: parameter gradients +=, dx +=, dh0/dc0 =, as RnnLayerArgs says.
// All 2-D buffers have unit column stride and a row stride (ld, in floats) of their own.
// Nothing is validated here (Java did it), but nothing is read or written outside the buffers.
#ifndef RNN4J_RNN_LAYER_H
#define RNN4J_RNN_LAYER_H

#include <cblas.h>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

static RNN4J_INLINE float hsum16(v16 v) {
    float s = 0;
    for (int i = 0; i < 16; i++) s += v[i];
    return s;
}

template <int M>
static RNN4J_INLINE void gemm_nt_rows(int Nc, int K, const float* A, long lda, const float* B, long ldb,
                                      float* C, long ldc) {
    int j = 0;
    for (; j + 4 <= Nc; j += 4) {
        const float* b0 = B + (long)j * ldb;  // (4, K) rows j..j+3 of B
        const float* b1 = b0 + ldb;
        const float* b2 = b1 + ldb;
        const float* b3 = b2 + ldb;
        v16 acc[M][4];
        for (int m = 0; m < M; m++)
            for (int q = 0; q < 4; q++) acc[m][q] = v16{};
        int k = 0;
        for (; k + 16 <= K; k += 16) {
            v16 w0 = load16(b0 + k), w1 = load16(b1 + k), w2 = load16(b2 + k), w3 = load16(b3 + k);
            for (int m = 0; m < M; m++) {
                v16 a = load16(A + m * lda + k);
                acc[m][0] += a * w0;
                acc[m][1] += a * w1;
                acc[m][2] += a * w2;
                acc[m][3] += a * w3;
            }
        }
        for (int m = 0; m < M; m++) {
            const float* a = A + m * lda;
            float s0 = hsum16(acc[m][0]), s1 = hsum16(acc[m][1]), s2 = hsum16(acc[m][2]), s3 = hsum16(acc[m][3]);
            for (int kk = k; kk < K; kk++) {
                s0 += a[kk] * b0[kk];
                s1 += a[kk] * b1[kk];
                s2 += a[kk] * b2[kk];
                s3 += a[kk] * b3[kk];
            }
            float* c = C + m * ldc + j;
            c[0] = s0;
            c[1] = s1;
            c[2] = s2;
            c[3] = s3;
        }
    }
    for (; j < Nc; j++) {
        const float* b = B + (long)j * ldb;
        for (int m = 0; m < M; m++) {
            float s = 0;
            for (int k = 0; k < K; k++) s += A[m * lda + k] * b[k];
            C[m * ldc + j] = s;
        }
    }
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

// ---- forward ------------------------------------------------------------------------------

// Pointwise part of one forward step for rows [0, bt): gi (bt, GH) input sums incl. b_ih,
// gh (bt, GH) hidden products without bias, bhh (GH) (zeros when absent), h (N, R) and c (N, H)
// running state (updated in place), wsp (bt, W) ld ldw this step's workspace rows,
// y (bt, R) ld ldy this step's output rows (not written for LSTM with projection: done after
// the projection GEMM).
RNN4J_CLONES static void forward_pointwise(int kind, int H, int P, int bt, const float* gi, const float* gh,
                                           const float* bhh, float* h, float* c, float* wsp, long ldw, float* y,
                                           long ldy) {
    const int GH = cell_gates(kind) * H;
    const int R = P > 0 ? P : H;
    for (int b = 0; b < bt; b++) {
        const float* xi = gi + (long)b * GH;  // (GH)
        const float* hh = gh + (long)b * GH;  // (GH)
        float* w = wsp + (long)b * ldw;       // (W)
        float* hs = h + (long)b * R;          // (R)
        float* yr = y + (long)b * ldy;        // (R)
        switch (kind) {
            case CELL_RNN_TANH:
                for (int j = 0; j < H; j++) {
                    float v = rnn_tanh_forward(xi[j] + hh[j] + bhh[j]);
                    w[j] = v;
                    hs[j] = v;
                    yr[j] = v;
                }
                break;
            case CELL_RNN_RELU:
                for (int j = 0; j < H; j++) {
                    float v = rnn_relu_forward(xi[j] + hh[j] + bhh[j]);
                    w[j] = v;
                    hs[j] = v;
                    yr[j] = v;
                }
                break;
            case CELL_LSTM: {
                float* cs = c + (long)b * H;  // (H)
                for (int j = 0; j < H; j++) {
                    float i, f, g, o, cn, hv;
                    lstm_forward(xi[j] + hh[j] + bhh[j], xi[H + j] + hh[H + j] + bhh[H + j],
                                 xi[2 * H + j] + hh[2 * H + j] + bhh[2 * H + j],
                                 xi[3 * H + j] + hh[3 * H + j] + bhh[3 * H + j], cs[j], i, f, g, o, cn, hv);
                    w[j] = i;
                    w[H + j] = f;
                    w[2 * H + j] = g;
                    w[3 * H + j] = o;
                    w[4 * H + j] = cn;
                    cs[j] = cn;
                    if (P > 0) {
                        w[5 * H + j] = hv;
                    } else {
                        hs[j] = hv;
                        yr[j] = hv;
                    }
                }
                break;
            }
            case CELL_GRU:
                for (int j = 0; j < H; j++) {
                    float hn = hh[2 * H + j] + bhh[2 * H + j];
                    float r, z, n, hv;
                    gru_forward(xi[j], xi[H + j], xi[2 * H + j], hh[j] + bhh[j], hh[H + j] + bhh[H + j], hn, hs[j],
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

static int forward_dir(const RnnDir& d) {
    const int T = d.T, N = d.N, S = d.S, I = d.I, H = d.H, P = d.P, R = d.R, GH = d.GH, W = d.W;
    const bool lstm = d.kind == CELL_LSTM;
    float* const* p = d.p;
    const long* ld = d.ld;

    Arena a;
    const bool ownWs = p[SLOT_WS] == nullptr;
    size_t need = Arena::round(T) + Arena::round((size_t)S * GH) + Arena::round((size_t)N * GH) +
                  Arena::round((size_t)N * R) + (lstm ? Arena::round((size_t)N * H) : 0) + Arena::round(GH) +
                  (ownWs ? Arena::round((size_t)N * W) : 0);
    if (!a.alloc(need)) return RNN_OUT_OF_MEMORY;
    int* off = reinterpret_cast<int*>(a.take(T));  // (T) step offsets
    float* gi = a.take((size_t)S * GH);           // (S, GH) input projection of all steps
    float* gh = a.take((size_t)N * GH);           // (N, GH) hidden projection of one step
    float* h = a.take((size_t)N * R);             // (N, R) running hidden state
    float* c = lstm ? a.take((size_t)N * H) : nullptr;  // (N, H) running cell state
    float* zeros = a.take(GH);                    // (GH) stands in for an absent b_hh
    float* stepWs = ownWs ? a.take((size_t)N * W) : nullptr;  // (N, W) workspace of one step in inference
    step_offsets(T, d.bs, off);

    // gi = x W_ih^T + b_ih, all steps at once
    linear_nt(S, GH, I, p[SLOT_X], ld[SLOT_X], p[SLOT_W_IH], ld[SLOT_W_IH], gi, GH);
    if (const float* bih = p[SLOT_B_IH]) {
        for (int s = 0; s < S; s++) {
            float* g = gi + (long)s * GH;
            for (int j = 0; j < GH; j++) g[j] += bih[j];
        }
    }
    std::memset(zeros, 0, sizeof(float) * GH);
    const float* bhh = p[SLOT_B_HH] ? p[SLOT_B_HH] : zeros;

    copy_rows(N, R, p[SLOT_H0], ld[SLOT_H0], h, R);
    if (lstm) copy_rows(N, H, p[SLOT_C0], ld[SLOT_C0], c, H);

    for (int s = 0; s < T; s++) {
        const int t = d.reverse ? T - 1 - s : s;
        const int bt = d.bs[t];
        const long row0 = off[t];
        // rows not active at t keep their state: in reverse, the rows that become active later
        // (shorter sequences) still hold h0, which is where such a sequence starts.
        linear_nt(bt, GH, R, h, R, p[SLOT_W_HH], ld[SLOT_W_HH], gh, GH);
        float* wsp = ownWs ? stepWs : p[SLOT_WS] + row0 * ld[SLOT_WS];  // (bt, W)
        const long ldw = ownWs ? W : ld[SLOT_WS];
        float* yrow = p[SLOT_Y] + row0 * ld[SLOT_Y];  // (bt, R)
        forward_pointwise(d.kind, H, P, bt, gi + row0 * GH, gh, bhh, h, c, wsp, ldw, yrow, ld[SLOT_Y]);
        if (lstm && P > 0) {
            // h[0:bt] (bt, P) = (o*tanh c) (bt, H) W_hr^T
            linear_nt(bt, P, H, wsp + 5 * H, ldw, p[SLOT_W_HR], ld[SLOT_W_HR], h, R);
            copy_rows(bt, R, h, R, yrow, ld[SLOT_Y]);
        }
    }
    copy_rows(N, R, h, R, p[SLOT_H_N], ld[SLOT_H_N]);
    if (lstm) copy_rows(N, H, c, H, p[SLOT_C_N], ld[SLOT_C_N]);
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

static int backward_dir(const RnnDir& d) {
    const int T = d.T, N = d.N, S = d.S, I = d.I, H = d.H, P = d.P, R = d.R, GH = d.GH;
    const bool lstm = d.kind == CELL_LSTM, gru = d.kind == CELL_GRU, proj = lstm && P > 0;
    float* const* p = d.p;
    const long* ld = d.ld;
    const float* ws = p[SLOT_WS];  // (S, W) ld ld[SLOT_WS], required in backward
    const long ldws = ld[SLOT_WS];

    Arena a;
    size_t need = Arena::round(T) + Arena::round((size_t)S * GH) * (gru ? 2 : 1) + Arena::round((size_t)S * R) +
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
    if (p[SLOT_DX] && I > 0)  // (S, I) += dg (S, GH) W_ih (GH, I)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, S, I, GH, 1.0f, dg, GH, p[SLOT_W_IH],
                    (int)ld[SLOT_W_IH], 1.0f, p[SLOT_DX], (int)ld[SLOT_DX]);
    if (p[SLOT_DB_IH]) add_column_sums(S, GH, dg, p[SLOT_DB_IH], colAcc);
    if (p[SLOT_DB_HH]) add_column_sums(S, GH, dgh, p[SLOT_DB_HH], colAcc);
    if (proj && p[SLOT_DW_HR])  // (P, H) += dhAll^T (P, S) (o*tanh c) (S, H)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, P, H, S, 1.0f, dhAll, P, ws + 5 * H, (int)ldws, 1.0f,
                    p[SLOT_DW_HR], (int)ld[SLOT_DW_HR]);
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
// budget allows, each with its own OpenBLAS thread count (thread-local, OpenBLAS >= 0.3.27) so
// the total never exceeds `threads`. A single direction uses the whole budget.
template <typename Fn>
static int run_dirs(int ndirs, const long long* ptrs, const long long* lds, const int* dims, const int* batchSizes,
                    int T, int threads, Fn fn) {
    RnnDir dirs[2];
    for (int k = 0; k < ndirs; k++)
        unpack_dir(dirs[k], ptrs + k * RNN_NUM_SLOTS, lds + k * RNN_NUM_SLOTS, dims + k * RNN_NUM_DIMS, batchSizes, T);
    if (threads < 1) threads = 1;
    if (ndirs == 1 || threads < 2) {
        int prev = openblas_set_num_threads_local(threads);
        int rc = RNN_OK;
        for (int k = 0; k < ndirs && rc == RNN_OK; k++) rc = fn(dirs[k]);
        openblas_set_num_threads_local(prev);
        return rc;
    }
    const int second = threads / 2, first = threads - second;
    int rc1 = RNN_OK;
    std::thread other;
    try {
        other = std::thread([&] {
            openblas_set_num_threads_local(second);
            rc1 = fn(dirs[1]);
        });
    } catch (...) {  // no thread to be had: run both here
        int prev = openblas_set_num_threads_local(threads);
        int rc = fn(dirs[0]);
        if (rc == RNN_OK) rc = fn(dirs[1]);
        openblas_set_num_threads_local(prev);
        return rc;
    }
    int prev = openblas_set_num_threads_local(first);
    int rc0 = fn(dirs[0]);
    openblas_set_num_threads_local(prev);
    other.join();
    return rc0 != RNN_OK ? rc0 : rc1;
}

// ptrs, lds: (ndirs, RNN_NUM_SLOTS) addresses in bytes (0 = null) and row strides in floats;
// dims: (ndirs, RNN_NUM_DIMS); batchSizes: (T), shared by the directions; threads: total budget.
// Returns an RnnStatus.
inline int rnn_layer_forward(int ndirs, const long long* ptrs, const long long* lds, const int* dims,
                             const int* batchSizes, int T, int threads) {
    return run_dirs(ndirs, ptrs, lds, dims, batchSizes, T, threads, [](const RnnDir& d) { return forward_dir(d); });
}

inline int rnn_layer_backward(int ndirs, const long long* ptrs, const long long* lds, const int* dims,
                              const int* batchSizes, int T, int threads) {
    return run_dirs(ndirs, ptrs, lds, dims, batchSizes, T, threads, [](const RnnDir& d) { return backward_dir(d); });
}

}  // namespace rnn4j

#endif
