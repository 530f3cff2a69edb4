// GEMM through OpenBLAS (row-major cblas_sgemm), with a small-M path of our own, and the
// OpenBLAS thread count.
//
// C_b (M, N) = alpha * op(A_b) (M, K) * op(B_b) (K, N) + beta * C_b for b in [0, batch);
// matrix b of X starts at X + b * strideX; leading dims in floats.
#pragma once

#include <cblas.h>

#include "blas_count.h"
#include "common.h"
#include "isa.h"

namespace rnn4j {

// C (M, N) = beta*C + alpha * op(A) (M, K) * B (K, N), B not transposed, M small (<= 4);
// op(A)[i, q] = a[i * a_rs + q * a_cs], which covers both transposes of A.
// OpenBLAS spends ~100 us of fixed cost on M = 1 at N = 1024 (thread hand-off and packing);
// this streams each row of B once per call and keeps the M output rows in L1. The inner j loop
// is a plain axpy the compiler vectorises for each ISA path's build (isa.h).
template <int ISA>
static RNN4J_INLINE void gemm_small_m_nn_body(int m, int n, int k, float alpha, const float* a, i64 a_rs, i64 a_cs,
                                              const float* b, int ldb, float beta, float* c, int ldc) {
    for (int i = 0; i < m; i++) {
        float* ci = c + (i64) i * ldc;
        if (beta == 0.0f) for (int j = 0; j < n; j++) ci[j] = 0.0f;
        else if (beta != 1.0f) for (int j = 0; j < n; j++) ci[j] *= beta;
    }
    // block N so the M output strips stay in L1 while all K rows of B stream by
    const int NB = 512;
    for (int j0 = 0; j0 < n; j0 += NB) {
        const int nb = n - j0 < NB ? n - j0 : NB;
        for (int q = 0; q < k; q++) {
            const float* bq = b + (i64) q * ldb + j0;
            for (int i = 0; i < m; i++) {
                const float s = alpha * a[i * a_rs + q * a_cs];
                float* ci = c + (i64) i * ldc + j0;
                for (int j = 0; j < nb; j++) ci[j] += s * bq[j];
            }
        }
    }
}
RNN4J_ISA_DISPATCH(void, gemm_small_m_nn,
                   (int m, int n, int k, float alpha, const float* a, i64 a_rs, i64 a_cs, const float* b, int ldb,
                    float beta, float* c, int ldc),
                   (m, n, k, alpha, a, a_rs, a_cs, b, ldb, beta, c, ldc))

inline void gemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a, int lda, i64 stride_a,
                 const float* b, int ldb, i64 stride_b, float beta, float* c, int ldc, i64 stride_c, int batch) {
    if (m <= 0 || n <= 0) return;
    for (int p = 0; p < batch; p++) {
        const float* ap = a + p * stride_a;
        const float* bp = b + p * stride_b;
        float* cp = c + p * stride_c;
        if (k <= 0) {
            // OpenBLAS rejects lda < 1 here; the product is empty, so C = beta * C
            for (int i = 0; i < m; i++) {
                float* ci = cp + (i64) i * ldc;
                for (int j = 0; j < n; j++) ci[j] = beta == 0.0f ? 0.0f : beta * ci[j];
            }
            continue;
        }
        if (m <= 4 && !trans_b) {
            gemm_small_m_nn(m, n, k, alpha, ap, trans_a ? 1 : lda, trans_a ? lda : 1, bp, ldb, beta, cp, ldc);
            continue;
        }
        sgemm_rm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, ap, lda, bp,
                 ldb, beta, cp, ldc);
    }
}

// The configured count: OpenBLAS switches to it at the next call that wants it (blas_count.h).
inline void set_num_threads(int n) { BlasCount::get().configure(n); }
// The count the calling thread's next OpenBLAS call runs with (blas_count.h): the configured
// budget outside a layer section; the process-wide OpenBLAS setting is an implementation detail.
inline int get_num_threads() { return blas_wanted(); }
// OpenBLAS's pool spin after a threaded call, 2^log2 ticks unless OPENBLAS_THREAD_TIMEOUT is set
// (blas_count.h says why); returns the log2 in force, 0 when this OpenBLAS cannot be told.
inline int set_blas_pool_spin(int log2) { return BlasCount::get().set_pool_spin(log2); }

}  // namespace rnn4j
