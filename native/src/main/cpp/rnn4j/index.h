// Row selection and its adjoint. x is contiguous (O, N, I); index arrays are range-checked by
// the Java side (Tensor) before they get here.
#pragma once

#include "common.h"
#include "isa.h"

namespace rnn4j {

// out (O, J, I) = x (O, N, I) at rows idx (J)
inline void index_select(float* out, const float* x, int outer, int n, int inner, const int* idx, int nidx) {
    for (i64 o = 0; o < outer; o++) {
        for (i64 j = 0; j < nidx; j++) {
            std::memcpy(out + (o * nidx + j) * inner, x + (o * n + idx[j]) * inner, (std::size_t) inner * sizeof(float));
        }
    }
}

// out (O, I) += g (I), one row
template <int ISA>
static RNN4J_INLINE void add_row_body(float* out, const float* g, i64 inner) {
    for (i64 i = 0; i < inner; i++) out[i] += g[i];
}
RNN4J_ISA_DISPATCH(void, add_row, (float* out, const float* g, i64 inner), (out, g, inner))

// out (O, N, I) += g (O, J, I) at rows idx (J); rows may repeat, so strictly sequential
inline void index_add(float* out, const float* g, int outer, int n, int inner, const int* idx, int nidx) {
    for (i64 o = 0; o < outer; o++) {
        for (i64 j = 0; j < nidx; j++) add_row(out + (o * n + idx[j]) * inner, g + (o * nidx + j) * inner, inner);
    }
}

// out (O, M, I) = x (O, N, I) with out[o, j, i] = x[o, idx[o, j, i], i]; idx (O, M, I)
inline void gather(float* out, const float* x, int outer, int n, int inner, int m, const int* idx) {
    for (i64 o = 0; o < outer; o++) {
        const float* xo = x + o * (i64) n * inner;
        for (i64 j = 0; j < m; j++) {
            const i64 q0 = (o * m + j) * inner;
            for (i64 i = 0; i < inner; i++) out[q0 + i] = xo[(i64) idx[q0 + i] * inner + i];
        }
    }
}

// adjoint of gather: out (O, N, I) += g (O, M, I) at idx (O, M, I)
inline void scatter_add(float* out, const float* g, int outer, int n, int inner, int m, const int* idx) {
    for (i64 o = 0; o < outer; o++) {
        float* oo = out + o * (i64) n * inner;
        for (i64 j = 0; j < m; j++) {
            const i64 q0 = (o * m + j) * inner;
            for (i64 i = 0; i < inner; i++) oo[(i64) idx[q0 + i] * inner + i] += g[q0 + i];
        }
    }
}

}  // namespace rnn4j
