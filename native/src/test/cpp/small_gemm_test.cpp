// gemm_nt_small (gemm_panels.h) bit for bit against its earlier version (frozen below), on every
// path this CPU runs, for M = 1..6 rows, many widths Nc and depths K (with and without a K % L
// tail), padded leading dimensions: the per-output arithmetic (L lanes of multiply-adds over k in
// steps of L, lanes folded by halving to 4, (x0 + x2) + (x1 + x3), the tail in order) must not
// change with a new blocking, and an output must not depend on M, Nc or its block. Also checks
// that nothing is written past Nc. Built by hand (README.md in this folder).
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "rnn4j/rnn_layer.h"

// The small-M kernel as it was before the M = 1 blocking and the vector lane fold (commit
// d947b83), kept verbatim under other names: the kernel now must give the same bits.
namespace frozen {
using namespace rnn4j;
template <typename V, int L>
static RNN4J_INLINE float fold_lanes_ref(V v) {
    alignas(64) float t[L];
    *reinterpret_cast<V*>(t) = v;
    // halving tree down to 4 lanes: element q of the half-sum is t[q] + t[q + w]
    if constexpr (L >= 16)
        for (int q = 0; q < 8; q++) t[q] = t[q] + t[q + 8];
    if constexpr (L >= 8)
        for (int q = 0; q < 4; q++) t[q] = t[q] + t[q + 4];
    return (t[0] + t[2]) + (t[1] + t[3]);
}

template <int ISA, int M, int NR>
static RNN4J_INLINE void small_block_ref(int K, const float* A, long lda, const float* B, long ldb, float* C, long ldc) {
    typedef typename Simd<ISA>::V V;
    constexpr int L = Simd<ISA>::L;
    V acc[M][NR];
#pragma GCC unroll 16
    for (int m = 0; m < M; m++)
#pragma GCC unroll 16
        for (int q = 0; q < NR; q++) acc[m][q] = V{};
    int k = 0;
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
#pragma GCC unroll 16
        for (int q = 0; q < NR; q++) s[m][q] = fold_lanes_ref<V, L>(acc[m][q]);
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
static RNN4J_INLINE void small_rows_ref(int Nc, int K, const float* A, long lda, const float* B, long ldb, float* C,
                                    long ldc) {
    constexpr int NR = SmallTile<ISA>::NR;
    int j = 0;
    for (; j + NR <= Nc; j += NR) small_block_ref<ISA, M, NR>(K, A, lda, B + (long)j * ldb, ldb, C + j, ldc);
    for (; j < Nc; j++) small_block_ref<ISA, M, 1>(K, A, lda, B + (long)j * ldb, ldb, C + j, ldc);
}

template <int ISA>
static RNN4J_INLINE void gemm_nt_small_ref_body(int M, int Nc, int K, const float* A, long lda, const float* B, long ldb,
                                            float* C, long ldc) {
    for (; M >= 4; M -= 4, A += 4 * lda, C += 4 * ldc) small_rows_ref<ISA, 4>(Nc, K, A, lda, B, ldb, C, ldc);
    switch (M) {
        case 3: small_rows_ref<ISA, 3>(Nc, K, A, lda, B, ldb, C, ldc); break;
        case 2: small_rows_ref<ISA, 2>(Nc, K, A, lda, B, ldb, C, ldc); break;
        case 1: small_rows_ref<ISA, 1>(Nc, K, A, lda, B, ldb, C, ldc); break;
        default: break;
    }
}
RNN4J_ISA_DISPATCH_AT(void, gemm_nt_small_ref,
                      (int M, int Nc, int K, const float* A, long lda, const float* B, long ldb, float* C, long ldc),
                      (M, Nc, K, A, lda, B, ldb, C, ldc))
}  // namespace frozen

using namespace rnn4j;

int main() {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-1, 1);
    int fails = 0, cases = 0;
    for (int isa = isa_detect(); isa >= ISA_BASELINE; isa--) {
        for (int M = 1; M <= 6; M++)
            for (int Nc : {1, 3, 4, 7, 8, 9, 16, 33, 1024})
                for (int K : {1, 7, 16, 31, 64, 128, 131, 256}) {
                    const long lda = K + 3, ldb = K + 5, ldc = Nc + 2;
                    std::vector<float> A(M * lda), B(Nc * ldb), C(M * ldc, -7.f), R(M * ldc, -7.f);
                    for (auto& v : A) v = u(rng);
                    for (auto& v : B) v = u(rng);
                    gemm_nt_small(isa, M, Nc, K, A.data(), lda, B.data(), ldb, C.data(), ldc);
                    frozen::gemm_nt_small_ref(isa, M, Nc, K, A.data(), lda, B.data(), ldb, R.data(), ldc);
                    cases++;
                    if (std::memcmp(C.data(), R.data(), sizeof(float) * C.size()) != 0) {
                        if (fails < 10) std::printf("FAIL isa=%d M=%d Nc=%d K=%d\n", isa, M, Nc, K);
                        fails++;
                    }
                }
    }
    std::printf("%d cases, %d failures\n", cases, fails);
    return fails != 0;
}
