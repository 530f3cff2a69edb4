// rnn4j native kernels: shared definitions for the CPU (g++) and CUDA (nvcc) builds.
//
// Every kernel header includes this one. Functions marked RNN4J_HD are plain arithmetic, so the
// same source is the CPU kernel and, under nvcc, the device function: the GPU math is tested
// on the CPU.
#pragma once

#include <cstdint>
#include <cstring>

#include "abi.h"

#ifndef RNN4J_INLINE
#define RNN4J_INLINE inline __attribute__((always_inline))
#endif

#ifdef __CUDACC__
#define RNN4J_HD __host__ __device__
#else
#define RNN4J_HD
#endif

// The scalar math below (and elementwise.h's unary_op / binary_op) is called from kernels' ISA
// builds (isa.h); on the CPU it is always inlined, so it is compiled inside each build. A plain
// `inline` copy left out of line (g++ does that when a TU has many callers) is the baseline's:
// scalar, no FMA, and the calling loop no longer vectorises.
#ifdef __CUDACC__
#define RNN4J_HD_INLINE RNN4J_HD inline
#else
#define RNN4J_HD_INLINE RNN4J_INLINE
#endif

namespace rnn4j {

typedef std::int64_t i64;

RNN4J_HD_INLINE float bits_to_float(std::int32_t i) {
#ifdef __CUDA_ARCH__
    return __int_as_float(i);
#else
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
#endif
}

RNN4J_HD_INLINE bool is_nan(float x) {
    return x != x;
}

// 2^n for integer-valued n in [-75, 64]: always a normal float, built from its exponent bits.
RNN4J_HD_INLINE float pow2i(std::int32_t n) {
    return bits_to_float((n + 127) << 23);
}

// exp(x) without libm, so loops calling it vectorise (glibc's vector expf needs -ffast-math
// and glibc >= 2.35). Cephes expf: x = n*ln2 + r, |r| <= ln2/2, degree-6 polynomial for e^r.
// Bound <= 2 ulp (measured 0.99 ulp on a 2e6-point sweep of [-87, 88.7], NativeMathTest).
// Gradual underflow is kept: 2^n is applied as two normal halves, so results
// below FLT_MIN round once into the denormals; overflow gives +inf; NaN propagates.
RNN4J_HD_INLINE float exp_approx(float x) {
    float xc = is_nan(x) ? 0.0f : x;
    xc = xc < -104.0f ? -104.0f : xc;
    xc = xc > 89.0f ? 89.0f : xc;
    // round to nearest with the 1.5*2^23 trick: explicit arithmetic, no rint() call
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = xc - n * 0.693359375f;           // ln2 split in two so n*C1 is exact
    r = r - n * -2.12194440e-4f;
    float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r2 + r + 1.0f;
    std::int32_t ni = (std::int32_t) n;        // in [-150, 128]
    std::int32_t h = ni >> 1;                  // floor(ni / 2), arithmetic shift
    float res = (y * pow2i(h)) * pow2i(ni - h);
    res = x < -104.0f ? 0.0f : res;
    return is_nan(x) ? x : res;
}

// tanh(x): Cephes tanhf. |x| < 0.625: odd polynomial (no cancellation near 0); otherwise
// 1 - 2/(e^{2|x|} + 1) with the sign put back. Both branches are computed and selected so
// the loop vectorises. Bound <= 3 ulp (measured 1.33 ulp over [-10, 10], NativeMathTest).
RNN4J_HD_INLINE float tanh_approx(float x) {
    float ax = x < 0.0f ? -x : x;
    float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * x + x;
    float t = exp_approx(2.0f * (ax > 44.0f ? 44.0f : ax));
    float big = 1.0f - 2.0f / (t + 1.0f);
    big = x < 0.0f ? -big : big;
    float res = ax < 0.625f ? small : big;
    return is_nan(x) ? x : res;
}

// sigmoid(x) = 1 / (1 + e^{-x}); e^{-x} = inf for x << 0 gives exactly 0. Bound <= 3 ulp
// (measured 2.38 ulp over [-80, 30], NativeMathTest).
RNN4J_HD_INLINE float sigmoid_approx(float x) {
    return 1.0f / (1.0f + exp_approx(-x));
}

}  // namespace rnn4j
