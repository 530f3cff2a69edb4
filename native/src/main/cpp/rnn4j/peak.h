// A register-only multiply-add loop per ISA path: the machine's arithmetic peak that the
// benchmark tables quote next to each kernel's GFLOP/s (FmaPeakBenchmark). Independent
// accumulators (more than FMA latency x pipes on every CPU seen: Zen 3/4/5, Skylake-X), no
// memory traffic, acc = acc * m + a with m just below 1 so values stay near 1 (no overflow, no
// denormals). AVX2 and AVX-512 contract to one FMA per vector; the baseline issues a mulps and
// an addps (SSE2 has no FMA), which is that path's peak too.
#pragma once

#include "isa.h"

namespace rnn4j {

// Accumulators and lanes per path; FLOPs per loop iteration = 2 * ACC * LANES.
template <int ISA> struct PeakShape { static constexpr int ACC = 12, LANES = Simd<ISA>::L; };
template <> struct PeakShape<ISA_AVX512> { static constexpr int ACC = 16, LANES = 16; };

template <int ISA>
static RNN4J_INLINE float fma_peak_loop_body(long iters) {
    constexpr int ACC = PeakShape<ISA>::ACC, L = PeakShape<ISA>::LANES;
    typedef typename Simd<ISA>::V V;
    // whole-vector initialisation and reduction only: element writes or reads of the array would
    // keep it in memory (no scalar replacement), and the loop would run from the stack
    const V zero = {};
    const V m = zero + 0.9999999f, a = zero + 1e-7f;
    V acc[ACC];
#pragma GCC unroll 16
    for (int i = 0; i < ACC; i++) acc[i] = zero + (1.0f + 1e-3f * (float) i);
    for (long it = 0; it < iters; it++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) acc[i] = acc[i] * m + a;
        // keeps every accumulator live in a register each iteration
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) __asm__ volatile("" : "+v"(acc[i]));
    }
    V t = acc[0];
#pragma GCC unroll 16
    for (int i = 1; i < ACC; i++) t += acc[i];
    float s = 0.0f;
    for (int l = 0; l < L; l++) s += t[l];
    return s;
}
RNN4J_ISA_DISPATCH_AT(float, fma_peak_loop, (long iters), (iters))

// Runs `iters` iterations on path `isa` (clamped to what the CPU has); returns a checksum.
inline float fma_peak(int isa, long iters) { return fma_peak_loop(isa_clamp(isa), iters); }

template <int ISA>
constexpr long peak_flops() {
    return 2L * PeakShape<ISA>::ACC * PeakShape<ISA>::LANES;
}

// FLOPs one iteration of fma_peak performs on path `isa` (clamped as fma_peak is).
inline long fma_peak_flops(int isa) {
    const int p = isa_clamp(isa);
    return p == ISA_AVX512 ? peak_flops<ISA_AVX512>() : p == ISA_AVX2 ? peak_flops<ISA_AVX2>() : peak_flops<ISA_BASELINE>();
}

}  // namespace rnn4j
