// Reductions over one dimension, softmax, whole-tensor sums, fused cross-entropy.
//
// Layout letters: O = outer, N = the reduced dim, I = inner; x is contiguous (O, N, I).
// Sums accumulate in double: a float running sum over N = 10^5 terms loses ~3 digits, and
// these feed losses and gradient norms where that shows. Double lanes cost little here because
// the loops are memory-bound.
#pragma once

#include <algorithm>
#include <cmath>
#include <new>
#include <vector>

#include "common.h"
#include "isa.h"

namespace rnn4j {

// ReduceCode: abi.h (org.rnn4j.backend.ReduceOp codes).

// sum of x[i] (SQUARES = 0) or x[i]^2 (SQUARES = 1) over contiguous x (n), in double.
// 16 double lanes, lane j summing x[i + j] over the blocks of 16; then s = sum over k < 8 of
// (lane k + lane k+8), in k order; then the tail in order. The lanes sit in the path's own
// registers (8 doubles per zmm, 4 per ymm, 2 per xmm), never wider, so they stay in registers;
// the result is the same on every path (each lane's additions are the same, and a float's square
// is exact in double, so FMA contraction changes nothing). Always inline, so it is compiled
// inside each path's build of sum_contig / sum_squares_contig.
template <int ISA> struct SumLanes;
template <> struct SumLanes<ISA_AVX512> {
    typedef double D __attribute__((vector_size(64)));
    typedef float F __attribute__((vector_size(32)));
};
template <> struct SumLanes<ISA_AVX2> {
    typedef double D __attribute__((vector_size(32)));
    typedef float F __attribute__((vector_size(16)));
};
template <> struct SumLanes<ISA_BASELINE> {
    typedef double D __attribute__((vector_size(16)));
    typedef float F __attribute__((vector_size(8)));
};

template <int ISA, int SQUARES>
RNN4J_INLINE double sum_run(const float* x, i64 n) {
    typedef typename SumLanes<ISA>::D D;
    typedef typename SumLanes<ISA>::F F;
    constexpr int LD = (int) (sizeof(D) / sizeof(double)), G = 16 / LD;  // lanes per register, registers
    // whole-vector operations on acc only (element access would keep it in memory, see peak.h)
    const D zero = {};
    D acc[G];
#pragma GCC unroll 8
    for (int g = 0; g < G; g++) acc[g] = zero;
    i64 i = 0;
    for (; i + 16 <= n; i += 16) {
#pragma GCC unroll 8
        for (int g = 0; g < G; g++) {
            F f;
            std::memcpy(&f, x + i + g * LD, sizeof f);
            const D d = __builtin_convertvector(f, D);
            if (SQUARES) acc[g] += d * d;
            else acc[g] += d;
        }
    }
    double s = 0;
#pragma GCC unroll 4
    for (int g = 0; g < G / 2; g++) {
        const D t = acc[g] + acc[g + G / 2];  // lanes g*LD.. (k) plus lanes g*LD+8.. (k+8)
#pragma GCC unroll 8
        for (int l = 0; l < LD; l++) s += t[l];
    }
    for (; i < n; i++) s += SQUARES ? (double) x[i] * x[i] : (double) x[i];
    return s;
}

template <int ISA>
static RNN4J_INLINE double sum_contig_body(const float* x, i64 n) { return sum_run<ISA, 0>(x, n); }
RNN4J_ISA_DISPATCH(double, sum_contig, (const float* x, i64 n), (x, n))
template <int ISA>
static RNN4J_INLINE double sum_squares_contig_body(const float* x, i64 n) { return sum_run<ISA, 1>(x, n); }
RNN4J_ISA_DISPATCH(double, sum_squares_contig, (const float* x, i64 n), (x, n))

inline double sum_all(const float* x, i64 n) { return sum_contig(x, n); }
inline double sum_squares(const float* x, i64 n) { return sum_squares_contig(x, n); }

// Sum of squares over a set of tensors (a whole gradient set for clip_grad_norm) in one call.
inline double sum_squares_multi(const std::int64_t* x, const std::int64_t* n, int count) {
    double s = 0;
    for (int i = 0; i < count; ++i) s += sum_squares_contig((const float*) x[i], n[i]);
    return s;
}

template <int ISA>
static RNN4J_INLINE void scale_contig_body(float* x, i64 n, float f) {
    for (i64 i = 0; i < n; ++i) x[i] *= f;
}
RNN4J_ISA_DISPATCH(void, scale_contig, (float* x, i64 n, float f), (x, n, f))

// x_i *= f for every tensor of a set (the clipping scale) in one call.
inline void scale_multi(const std::int64_t* x, const std::int64_t* n, int count, float f) {
    for (int i = 0; i < count; ++i) scale_contig((float*) x[i], n[i], f);
}

// acc (I) += x (I) in double: one row of an (N, I) column sum
template <int ISA>
static RNN4J_INLINE void accumulate_row_body(double* acc, const float* x, i64 inner) {
    for (i64 i = 0; i < inner; i++) acc[i] += (double) x[i];
}
RNN4J_ISA_DISPATCH(void, accumulate_row, (double* acc, const float* x, i64 inner), (acc, x, inner))

// out (O, I) = reduce over N of x (O, N, I). MAX/MIN propagate the first NaN met, like the
// reference; ARG* return the first index of the extreme (ties keep the earliest) as a float.
inline void reduce_impl(int op, float* out, const float* x, int outer, int n, int inner) {
    if (op == R_SUM) {
        if (inner == 1) {
            for (i64 o = 0; o < outer; o++) out[o] = (float) sum_contig(x + o * (i64) n, n);
            return;
        }
        std::vector<double> acc((std::size_t) inner);
        for (i64 o = 0; o < outer; o++) {
            std::fill(acc.begin(), acc.end(), 0.0);
            for (i64 j = 0; j < n; j++) accumulate_row(acc.data(), x + (o * n + j) * inner, inner);
            for (i64 i = 0; i < inner; i++) out[o * inner + i] = (float) acc[i];
        }
        return;
    }
    const bool is_max = op == R_MAX || op == R_ARGMAX;
    const bool arg = op == R_ARGMAX || op == R_ARGMIN;
    std::vector<float> best((std::size_t) inner);
    std::vector<int> at((std::size_t) inner);
    for (i64 o = 0; o < outer; o++) {
        const float* xo = x + o * (i64) n * inner;
        for (i64 i = 0; i < inner; i++) {
            best[i] = xo[i];
            at[i] = 0;
        }
        for (i64 j = 1; j < n; j++) {
            const float* row = xo + j * inner;
            for (i64 i = 0; i < inner; i++) {
                const float c = row[i], b = best[i];
                const bool take = !is_nan(b) && (is_nan(c) || (is_max ? c > b : c < b));
                best[i] = take ? c : b;
                at[i] = take ? (int) j : at[i];
            }
        }
        for (i64 i = 0; i < inner; i++) out[o * inner + i] = arg ? (float) at[i] : best[i];
    }
}

// The JNI entry: the (I) accumulators are std::vectors, and a std::bad_alloc escaping a JNI
// function (the binding is @NoException) would terminate the JVM. Returns 0, or -1 when the
// accumulators could not be allocated (Java throws OutOfMemoryError).
inline int reduce(int op, float* out, const float* x, int outer, int n, int inner) {
    try {
        reduce_impl(op, out, x, outer, n, inner);
        return 0;
    } catch (const std::bad_alloc&) {
        return -1;
    }
}

// o (n) = exp(x (n) - shift)
template <int ISA>
static RNN4J_INLINE void exp_shifted_body(float* o, const float* x, float shift, i64 n) {
    for (i64 i = 0; i < n; i++) o[i] = exp_approx(x[i] - shift);
}
RNN4J_ISA_DISPATCH(void, exp_shifted, (float* o, const float* x, float shift, i64 n), (o, x, shift, n))

// max over contiguous x (n); NaN if any element is NaN
template <int ISA>
static RNN4J_INLINE float max_contig_body(const float* x, i64 n) {
    float m = -INFINITY;
    bool nan = false;
    for (i64 i = 0; i < n; i++) {
        m = x[i] > m ? x[i] : m;
        nan |= is_nan(x[i]);
    }
    return nan ? NAN : m;
}
RNN4J_ISA_DISPATCH(float, max_contig, (const float* x, i64 n), (x, n))

// log(sum_i exp(x_i - mx)) over contiguous x (n), in double; uses scratch (>= 256 floats).
// Callers keep mx apart and compute (x - mx) - this: x - mx is exact near the maximum, so the
// entries close to 0 (the likely classes) do not lose digits to the size of mx.
inline double log_sum_exp_shifted(const float* x, i64 n, float mx, float* scratch) {
    double s = 0;
    for (i64 i = 0; i < n; i += 256) {
        const i64 len = n - i < 256 ? n - i : 256;
        exp_shifted(scratch, x + i, mx, len);
        s += sum_contig(scratch, len);
    }
    return std::log(s);
}

// out = softmax or log-softmax of x (O, N, I) over N. out may be x itself (in place).
inline void softmax_impl(float* out, const float* x, int outer, int n, int inner, int log) {
    if (n == 0) return;
    if (inner == 1) {
        float scratch[256];
        for (i64 o = 0; o < outer; o++) {
            const float* xo = x + o * (i64) n;
            float* oo = out + o * (i64) n;
            const float mx = max_contig(xo, n);
            if (log) {
                const float ls = (float) log_sum_exp_shifted(xo, n, mx, scratch);
                for (i64 j = 0; j < n; j++) oo[j] = (xo[j] - mx) - ls;
            } else {
                exp_shifted(oo, xo, mx, n);
                const float inv = (float) (1.0 / sum_contig(oo, n));
                for (i64 j = 0; j < n; j++) oo[j] *= inv;
            }
        }
        return;
    }
    // columns of stride I: keep per-column max and sum in (I) buffers and sweep rows
    std::vector<float> mx((std::size_t) inner), e((std::size_t) inner);
    std::vector<double> sum((std::size_t) inner);
    for (i64 o = 0; o < outer; o++) {
        const float* xo = x + o * (i64) n * inner;
        float* oo = out + o * (i64) n * inner;
        for (i64 i = 0; i < inner; i++) mx[i] = xo[i];
        for (i64 j = 1; j < n; j++) {
            const float* row = xo + j * inner;
            for (i64 i = 0; i < inner; i++) mx[i] = (is_nan(row[i]) || row[i] > mx[i]) && !is_nan(mx[i]) ? row[i] : mx[i];
        }
        std::fill(sum.begin(), sum.end(), 0.0);
        for (i64 j = 0; j < n; j++) {
            const float* row = xo + j * inner;
            for (i64 i = 0; i < inner; i++) e[i] = exp_approx(row[i] - mx[i]);
            accumulate_row(sum.data(), e.data(), inner);
        }
        for (i64 i = 0; i < inner; i++) sum[i] = std::log(sum[i]);  // now log-sum-exp minus mx
        for (i64 j = 0; j < n; j++) {
            const float* row = xo + j * inner;
            float* orow = oo + j * inner;
            for (i64 i = 0; i < inner; i++) {
                const float z = (row[i] - mx[i]) - (float) sum[i];
                orow[i] = log ? z : exp_approx(z);
            }
        }
    }
}

// The JNI entry, as reduce: 0, or -1 when the (I) buffers could not be allocated.
inline int softmax(float* out, const float* x, int outer, int n, int inner, int log) {
    try {
        softmax_impl(out, x, outer, n, inner, log);
        return 0;
    } catch (const std::bad_alloc&) {
        return -1;
    }
}

// Fused log-softmax + NLL over logits (R, C), contiguous.
// loss (R) = lse(z_r) - z_r[t_r], 0 where t_r == ignore;
// dz (R, C) (may be null) = (softmax(z_r) - onehot(t_r)) * grad_scale, 0 rows where ignored.
inline void cross_entropy(float* loss, float* dz, const float* z, const int* target, int rows, int classes,
                          int ignore, float grad_scale) {
    float scratch[256];
    for (i64 r = 0; r < rows; r++) {
        const float* zr = z + r * (i64) classes;
        float* dr = dz == nullptr ? nullptr : dz + r * (i64) classes;
        const int t = target[r];
        if (t == ignore) {
            loss[r] = 0.0f;
            if (dr != nullptr) std::memset(dr, 0, (std::size_t) classes * sizeof(float));
            continue;
        }
        const float mx = max_contig(zr, classes);
        const double ls = log_sum_exp_shifted(zr, classes, mx, scratch);
        loss[r] = (float) (ls + (double) mx - (double) zr[t]);
        if (dr != nullptr) {
            // softmax = exp((z - mx) - ls); exp_shifted subtracts one float, so fold ls into z first
            for (i64 c = 0; c < classes; c++) dr[c] = (zr[c] - mx) - (float) ls;
            exp_shifted(dr, dr, 0.0f, classes);
            for (i64 c = 0; c < classes; c++) dr[c] *= grad_scale;
            dr[t] -= grad_scale;
        }
    }
}

}  // namespace rnn4j
