// The recurrent layer's own GEMMs, one build per ISA path (isa.h): weight panels packed once
// per layer call with a register-blocked micro-kernel, and a small-M kernel for one to four
// rows against a weight matrix in its natural layout. Everything else goes to OpenBLAS, which
// chooses its own kernels for the CPU (OPENBLAS_CORETYPE overrides it).
//
// Legend: M rows of the left operand (active batch rows), K depth, Nc output columns; panels
// hold W^T in column blocks of PW outputs, PW = 2 vectors of the path (AVX-512 32, AVX2 16,
// baseline 8).
#pragma once

#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "blas_count.h"
#include "common.h"
#include "isa.h"

namespace rnn4j {

// ---- tile shapes per path -------------------------------------------------------------------
//
// A panel tile is MR rows x 2 vectors: 2*MR accumulators, 2 panel vectors and one broadcast.
//   AVX-512: 32 zmm, MR = 8 -> 16 + 2 + 1 registers (12 rows were no faster on Zen 4: the
//            kernel is bound by the FMA ports from 6 rows up, and more rows cost tail work)
//   AVX2:    16 ymm, MR = 6 -> 12 + 2 + 1 = 15 registers (the 6x16 tile of BLIS/OpenBLAS Haswell)
//   SSE2:    16 xmm, MR = 4 -> 8 + 2 + 1, plus a temporary per product (no FMA)
template <int ISA> struct Tile;
template <> struct Tile<ISA_AVX512> { static constexpr int MR = 8; };
template <> struct Tile<ISA_AVX2> { static constexpr int MR = 6; };
template <> struct Tile<ISA_BASELINE> { static constexpr int MR = 4; };

// Output columns per panel on a path.
inline int panel_width(int isa) {
    return isa == ISA_AVX512 ? 2 * Simd<ISA_AVX512>::L : isa == ISA_AVX2 ? 2 * Simd<ISA_AVX2>::L : 2 * Simd<ISA_BASELINE>::L;
}

struct Panel {
    int col;            // first output column
    int width;          // 1..PW valid columns
    const float* data;  // (K, PW), 64-byte aligned, zero past width
};

// Fills panel P (output columns [col, col + width)) with data d (K, pw): element (k, q) is
// src[q * sq + k * sk] for q < width, else 0. src points at the panel's first column.
static inline void fill_panel(Panel& P, int pw, int col, int width, float* d, int K, const float* src, long sq, long sk) {
    P.col = col;
    P.width = width;
    P.data = d;
    for (int k = 0; k < K; k++) {
        float* row = d + (long)k * pw;
        for (int q = 0; q < pw; q++) row[q] = q < width ? src[q * sq + k * sk] : 0.0f;
    }
}

// Panels of B (K, .) itself, row-major, ld ldb (the backward's dh = dg W_hh): columns [j0, j1)
// in panels of pw. Count only when out == nullptr.
static inline int make_panels_n(int pw, int j0, int j1, int K, const float* B, long ldb, Panel* out, float* buf) {
    int n = 0;
    for (int j = j0; j < j1; j += pw, n++)
        if (out) fill_panel(out[n], pw, j, std::min(pw, j1 - j), buf + (long)n * K * pw, K, B + j, 1, ldb);
    return n;
}

// Panels of W^T for gate columns g*H + [j0, j1) of every gate g, W (G*H, K) row-major, ld ldw:
// how many, and (when out != nullptr) the descriptors with data carved from buf (K * pw each).
static inline int make_panels(int pw, int G, int H, int j0, int j1, int K, const float* W, long ldw, Panel* out,
                              float* buf) {
    int n = 0;
    for (int g = 0; g < G; g++) {
        for (int j = j0; j < j1; j += pw, n++) {
            const int col = g * H + j;  // W^T: output column col is row col of W
            if (out)
                fill_panel(out[n], pw, col, std::min(pw, j1 - j), buf + (long)n * K * pw, K, W + (long)col * ldw, ldw, 1);
        }
    }
    return n;
}

// ---- the panel micro-kernel -------------------------------------------------------------------

template <typename V>
static RNN4J_INLINE V loadu(const float* p) {
    V v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <typename V>
static RNN4J_INLINE void storeu(float* p, V v) {
    std::memcpy(p, &v, sizeof v);
}

// C (MR, width) = (or +=, when acc) A (MR, K) lda times one panel bp (K, PW). One multiply-add
// chain per output over k = 0..K-1 in order, so a result does not depend on the row block it
// falls in, on MR, or on which thread runs it. The accumulators are only ever touched as whole
// vectors (an element access keeps the array in memory and the loop runs from the stack).
template <int ISA, int MR>
static RNN4J_INLINE void panel_block(int K, const float* A, long lda, const float* bp, float* C, long ldc, int width,
                                     bool acc) {
    typedef typename Simd<ISA>::V V;
    constexpr int L = Simd<ISA>::L, PW = 2 * L;
    V c0[MR], c1[MR];
    const float* a[MR];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        c0[r] = V{};
        c1[r] = V{};
        a[r] = A + (long)r * lda;
    }
    for (int k = 0; k < K; k++) {
        const V b0 = *reinterpret_cast<const V*>(bp + (long)k * PW);
        const V b1 = *reinterpret_cast<const V*>(bp + (long)k * PW + L);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            const float x = a[r][k];
            c0[r] += b0 * x;
            c1[r] += b1 * x;
        }
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        float* c = C + (long)r * ldc;
        if (width == PW) {
            if (acc) {  // C += the product, as sgemm with beta = 1 (the product summed first)
                storeu(c, loadu<V>(c) + c0[r]);
                storeu(c + L, loadu<V>(c + L) + c1[r]);
            } else {
                storeu(c, c0[r]);
                storeu(c + L, c1[r]);
            }
        } else {
            alignas(64) float t[PW];
            *reinterpret_cast<V*>(t) = c0[r];
            *reinterpret_cast<V*>(t + L) = c1[r];
            if (acc)
                for (int q = 0; q < width; q++) c[q] += t[q];
            else
                for (int q = 0; q < width; q++) c[q] = t[q];
        }
    }
}

// The rows left after the MR-row blocks (fewer than MR): panel_block<rows>.
template <int ISA, int R>
static RNN4J_INLINE void panel_tail(int rows, int K, const float* A, long lda, const float* bp, float* C, long ldc,
                                    int width, bool acc) {
    if constexpr (R > 0) {
        if (rows == R) panel_block<ISA, R>(K, A, lda, bp, C, ldc, width, acc);
        else panel_tail<ISA, R - 1>(rows, K, A, lda, bp, C, ldc, width, acc);
    }
}

// C[:, panel columns] (M, .) = (or +=) A (M, K) B over the given panels of B. Panels outer,
// row blocks inner: a panel (K * PW floats, 64 KB at K = 512 on AVX-512) stays in L2 while the
// rows stream past it.
template <int ISA>
static RNN4J_INLINE void panels_gemm_body(int M, int K, const float* A, long lda, const Panel* pan, int npan, float* C,
                                          long ldc, bool acc) {
    constexpr int MR = Tile<ISA>::MR;
    for (int q = 0; q < npan; q++) {
        const Panel& P = pan[q];
        float* c = C + P.col;
        int m = 0;
        for (; m + MR <= M; m += MR)
            panel_block<ISA, MR>(K, A + (long)m * lda, lda, P.data, c + (long)m * ldc, ldc, P.width, acc);
        panel_tail<ISA, MR - 1>(M - m, K, A + (long)m * lda, lda, P.data, c + (long)m * ldc, ldc, P.width, acc);
    }
}
RNN4J_ISA_DISPATCH_AT(void, panels_gemm,
                      (int M, int K, const float* A, long lda, const Panel* pan, int npan, float* C, long ldc, bool acc),
                      (M, K, A, lda, pan, npan, C, ldc, acc))

// ---- small-M GEMM against B in its natural layout ---------------------------------------------
//
// C (M, Nc) = A (M, K) B^T, B (Nc, K) row-major, M <= 4: the per-step W_hh product at tiny
// batches (one stream, a cell), where packing panels or OpenBLAS's own packing costs more than
// the product. Each row of B is read once for all M rows of A, as a matrix-vector product is
// memory-bound. Per output: L-lane multiply-add partial sums over k in steps of L, the lanes
// folded to 4 by halving, then (x0 + x2) + (x1 + x3), then the K % L tail in order; this is
// the same for every output whatever block of B it falls in, so a row's result does not depend
// on Nc or on how the rows of B are split between blocks or threads.
// NR rows of B per block: 4 with 32 zmm (16 accumulators at M = 4), 2 with 16 registers.
// At M = 1 (one stream, a cell step: the latency case) a block has only NR multiply-add chains
// of FMA latency each, so it takes more rows of B: NR1 = 8 on AVX-512 (8 accumulators + 8 rows
// in registers), 4 with 16 registers. Blocking never changes an output's arithmetic.
template <int ISA> struct SmallTile { static constexpr int NR = 2, NR1 = 4; };
template <> struct SmallTile<ISA_AVX512> { static constexpr int NR = 4, NR1 = 8; };

// The lanes of v summed: a halving tree down to 4 lanes (element q of each half-sum is
// t[q] + t[q + w]), then (t0 + t2) + (t1 + t3). Done in registers with shuffles: going through
// memory (store, then scalar adds) cost about as much as the multiply-adds of a 256-deep row at
// M = 1. The same additions in the same order as the scalar tree, so the same bits.
template <typename V, int L>
static RNN4J_INLINE float fold_lanes(V v) {
    vf4 f;
    if constexpr (L == 16) {
        const vf8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) +
                      __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
        f = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
    } else if constexpr (L == 8) {
        f = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    } else {
        f = v;
    }
    const vf4 g = f + __builtin_shufflevector(f, f, 2, 3, 0, 1);  // (t0 + t2, t1 + t3, ., .)
    return g[0] + g[1];
}

// fold_lanes of four vectors at once, the same additions in the same order (so the same bits),
// four halvings sharing each shuffle and add: the lanes of a0..a3 summed into one vf4. Per
// output one fold_lanes costs about six shuffles and adds; here the four share eleven.
template <typename V, int L>
static RNN4J_INLINE vf4 fold_lanes4(V a0, V a1, V a2, V a3) {
    vf16 q;  // 128-bit lane i: (t0, t1, t2, t3) of vector i after the halvings down to 4 lanes
    if constexpr (L == 16) {
        // h_i = a_i[0:8] + a_i[8:16], two per register; then f_i = h_i[0:4] + h_i[4:8]
        const vf16 h01 = __builtin_shufflevector(a0, a1, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                         __builtin_shufflevector(a0, a1, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        const vf16 h23 = __builtin_shufflevector(a2, a3, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
                         __builtin_shufflevector(a2, a3, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        q = __builtin_shufflevector(h01, h23, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
            __builtin_shufflevector(h01, h23, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    } else if constexpr (L == 8) {
        const vf8 f01 = __builtin_shufflevector(a0, a1, 0, 1, 2, 3, 8, 9, 10, 11) +
                        __builtin_shufflevector(a0, a1, 4, 5, 6, 7, 12, 13, 14, 15);
        const vf8 f23 = __builtin_shufflevector(a2, a3, 0, 1, 2, 3, 8, 9, 10, 11) +
                        __builtin_shufflevector(a2, a3, 4, 5, 6, 7, 12, 13, 14, 15);
        q = __builtin_shufflevector(f01, f23, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    } else {
        const vf8 f01 = __builtin_shufflevector(a0, a1, 0, 1, 2, 3, 4, 5, 6, 7);
        const vf8 f23 = __builtin_shufflevector(a2, a3, 0, 1, 2, 3, 4, 5, 6, 7);
        q = __builtin_shufflevector(f01, f23, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    // per lane (t0 + t2, t1 + t3), then their sum, as fold_lanes
    const vf16 g = q + __builtin_shufflevector(q, q, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    const vf16 r = g + __builtin_shufflevector(g, g, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
    return __builtin_shufflevector(r, r, 0, 4, 8, 12);
}

template <int ISA, int M, int NR>
static RNN4J_INLINE void small_block(int K, const float* A, long lda, const float* B, long ldb, float* C, long ldc) {
    typedef typename Simd<ISA>::V V;
    constexpr int L = Simd<ISA>::L;
    V acc[M][NR];
#pragma GCC unroll 16
    for (int m = 0; m < M; m++)
#pragma GCC unroll 16
        for (int q = 0; q < NR; q++) acc[m][q] = V{};
    int k = 0;
    if constexpr (M == 1 && NR == 8) {
        // Eight rows of B from three base pointers and one byte stride s (rows 0, 1, 2, 4 from
        // b0, 3, 5, 7 from b3, 6 from b6) in base + s * scale addressing. Written plainly, the
        // compiler keeps eight row pointers live and, with the block loop's own values, spills
        // them: five stack reloads per iteration beside nine loads (the asm keeps s opaque so
        // the addresses stay base + index). The same products in the same order.
        const char* b0 = reinterpret_cast<const char*>(B);
        long s = ldb * (long)sizeof(float);
        const char* b3 = b0 + 3 * s;
        const char* b6 = b0 + 6 * s;
        const float* a = A;
        for (; k + L <= K; k += L) {
            __asm__("" : "+r"(s));
            const V x = loadu<V>(a);
            acc[0][0] += x * loadu<V>(reinterpret_cast<const float*>(b0));
            acc[0][1] += x * loadu<V>(reinterpret_cast<const float*>(b0 + s));
            acc[0][2] += x * loadu<V>(reinterpret_cast<const float*>(b0 + 2 * s));
            acc[0][3] += x * loadu<V>(reinterpret_cast<const float*>(b3));
            acc[0][4] += x * loadu<V>(reinterpret_cast<const float*>(b0 + 4 * s));
            acc[0][5] += x * loadu<V>(reinterpret_cast<const float*>(b3 + 2 * s));
            acc[0][6] += x * loadu<V>(reinterpret_cast<const float*>(b6));
            acc[0][7] += x * loadu<V>(reinterpret_cast<const float*>(b3 + 4 * s));
            a += L;
            b0 += L * sizeof(float);
            b3 += L * sizeof(float);
            b6 += L * sizeof(float);
        }
    }
    for (; k + L <= K; k += L) {
        V w[NR];
#pragma GCC unroll 16
        for (int q = 0; q < NR; q++) w[q] = loadu<V>(B + (long)q * ldb + k);
#pragma GCC unroll 16
        for (int m = 0; m < M; m++) {
            const V a = loadu<V>(A + (long)m * lda + k);
#pragma GCC unroll 16
            for (int q = 0; q < NR; q++) acc[m][q] += a * w[q];
        }
    }
    float s[M][NR];
#pragma GCC unroll 16
    for (int m = 0; m < M; m++)
        if constexpr (NR % 4 == 0) {
#pragma GCC unroll 4
            for (int q = 0; q < NR; q += 4) {
                const vf4 f = fold_lanes4<V, L>(acc[m][q], acc[m][q + 1], acc[m][q + 2], acc[m][q + 3]);
#pragma GCC unroll 4
                for (int i = 0; i < 4; i++) s[m][q + i] = f[i];
            }
        } else {
#pragma GCC unroll 4
            for (int q = 0; q < NR; q++) s[m][q] = fold_lanes<V, L>(acc[m][q]);
        }
    for (int m = 0; m < M; m++)  // the K % L tail, in order
        for (int q = 0; q < NR; q++) {
            const float* a = A + (long)m * lda;
            const float* b = B + (long)q * ldb;
            float t = s[m][q];
            for (long kk = k; kk < (long)K; kk++) t += a[kk] * b[kk];
            s[m][q] = t;
        }
    for (int m = 0; m < M; m++)
        for (int q = 0; q < NR; q++) C[(long)m * ldc + q] = s[m][q];
}

template <int ISA, int M>
static RNN4J_INLINE void small_rows(int Nc, int K, const float* A, long lda, const float* B, long ldb, float* C,
                                    long ldc) {
    constexpr int NR = M == 1 ? SmallTile<ISA>::NR1 : SmallTile<ISA>::NR;
    int j = 0;
    for (; j + NR <= Nc; j += NR) small_block<ISA, M, NR>(K, A, lda, B + (long)j * ldb, ldb, C + j, ldc);
    for (; j < Nc; j++) small_block<ISA, M, 1>(K, A, lda, B + (long)j * ldb, ldb, C + j, ldc);
}

template <int ISA>
static RNN4J_INLINE void gemm_nt_small_body(int M, int Nc, int K, const float* A, long lda, const float* B, long ldb,
                                            float* C, long ldc) {
    for (; M >= 4; M -= 4, A += 4 * lda, C += 4 * ldc) small_rows<ISA, 4>(Nc, K, A, lda, B, ldb, C, ldc);
    switch (M) {
        case 3: small_rows<ISA, 3>(Nc, K, A, lda, B, ldb, C, ldc); break;
        case 2: small_rows<ISA, 2>(Nc, K, A, lda, B, ldb, C, ldc); break;
        case 1: small_rows<ISA, 1>(Nc, K, A, lda, B, ldb, C, ldc); break;
        default: break;
    }
}
RNN4J_ISA_DISPATCH_AT(void, gemm_nt_small,
                      (int M, int Nc, int K, const float* A, long lda, const float* B, long ldb, float* C, long ldc),
                      (M, Nc, K, A, lda, B, ldb, C, ldc))

// Rows of A up to which the small-M kernel beats OpenBLAS sgemm.
static const int SMALL_M = 4;

static inline void zero_rows(int rows, int cols, float* dst, long ldd) {
    for (int b = 0; b < rows; b++) std::memset(dst + (long)b * ldd, 0, sizeof(float) * cols);
}

// C (M, Nc) = A (M, K) B^T (assign), B (Nc, K) row-major: a Linear without bias.
static inline void linear_nt(int isa, int M, int Nc, int K, const float* A, long lda, const float* B, long ldb,
                             float* C, long ldc) {
    if (M <= 0 || Nc <= 0) return;
    if (K == 0) {
        zero_rows(M, Nc, C, ldc);
    } else if (M <= SMALL_M) {
        gemm_nt_small(isa, M, Nc, K, A, lda, B, ldb, C, ldc);
    } else {
        sgemm_rm(CblasNoTrans, CblasTrans, M, Nc, K, 1.0f, A, (int)lda, B, (int)ldb, 0.0f, C, (int)ldc);
    }
}

// OpenBLAS's thread count for this thread's calls from here on (blas_count.h): sections that
// run two OpenBLAS callers at once lower it for their duration and then put back the layer's
// budget `threads`. It is this thread's only: the process-wide count is switched per call, only
// while no GEMM of another count runs (a count lowered process-wide changed concurrent callers'
// results: OpenBLAS's single-threaded driver blocks the depth differently).
static inline void blas_threads(int n) { blas_want = n < 1 ? 1 : n; }

}  // namespace rnn4j
