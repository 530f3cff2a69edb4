// Fused optimizer steps over one parameter tensor (all buffers contiguous, numel n).
// Formulas and operation order mirror org.rnn4j.backend.OptimizerStep / ReferenceBackend, so
// results agree to the last ulp or two (FMA contraction in the AVX2/AVX-512 builds, isa.h, may
// round once where Java rounds twice).
#pragma once

#include <cmath>

#include "common.h"
#include "isa.h"

namespace rnn4j {

// OptimCode: abi.h (org.rnn4j.backend.OptimizerStep.Kind codes).

// p (n) -= lr * g'; buf (n) is the momentum buffer (unused when momentum == 0)
template <int ISA>
static RNN4J_INLINE void sgd_step_body(float* p, const float* g, float* buf, i64 n, float lr, float momentum,
                                       float dampening, int nesterov, float wd, int first) {
    if (momentum == 0.0f) {
        for (i64 i = 0; i < n; i++) p[i] -= lr * (g[i] + wd * p[i]);
        return;
    }
    for (i64 i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        const float b = first ? gi : momentum * buf[i] + (1 - dampening) * gi;
        buf[i] = b;
        gi = nesterov ? gi + momentum * b : b;
        p[i] -= lr * gi;
    }
}
RNN4J_ISA_DISPATCH(void, sgd_step,
                   (float* p, const float* g, float* buf, i64 n, float lr, float momentum, float dampening,
                    int nesterov, float wd, int first),
                   (p, g, buf, n, lr, momentum, dampening, nesterov, wd, first))

// Adam / AdamW; m, v (n) are the first and second moments. Bias corrections in double, as in
// the reference.
template <int ISA>
static RNN4J_INLINE void adam_step_body(float* p, const float* g, float* m, float* v, i64 n, float lr, float wd,
                                        float b1, float b2, float eps, double bc1, double bc2, int decoupled) {
    const double step_size = (double) lr / bc1;
    const double sqrt_bc2 = std::sqrt(bc2);
    const float keep = 1 - lr * wd;
    for (i64 i = 0; i < n; i++) {
        float gi = g[i];
        float pi = p[i];
        if (decoupled) pi *= keep;
        else gi += wd * pi;
        const float mi = b1 * m[i] + (1 - b1) * gi;
        const float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const double denom = std::sqrt((double) vi) / sqrt_bc2 + (double) eps;
        p[i] = pi - (float) (step_size * (double) mi / denom);
    }
}
RNN4J_ISA_DISPATCH(void, adam_step,
                   (float* p, const float* g, float* m, float* v, i64 n, float lr, float wd, float b1, float b2,
                    float eps, double bc1, double bc2, int decoupled),
                   (p, g, m, v, n, lr, wd, b1, b2, eps, bc1, bc2, decoupled))

inline void optimizer_step(int kind, float* p, const float* g, float* s1, float* s2, i64 n, float lr,
                           float momentum, float dampening, int nesterov, float wd, float b1, float b2, float eps,
                           i64 step, int first) {
    if (kind == O_SGD) {
        sgd_step(p, g, s1, n, lr, momentum, dampening, nesterov, wd, first);
    } else {
        const double bc1 = 1 - std::pow((double) b1, (double) step);
        const double bc2 = 1 - std::pow((double) b2, (double) step);
        adam_step(p, g, s1, s2, n, lr, wd, b1, b2, eps, bc1, bc2, kind == O_ADAMW);
    }
}

// One call for a whole parameter set sharing the step settings: addresses and sizes come as
// arrays (count), so the optimizer pays one JNI crossing per step, not one per tensor.
// s1/s2 entries are 0 where a kind keeps no such state.
inline void optimizer_step_multi(int kind, const std::int64_t* p, const std::int64_t* g, const std::int64_t* s1,
                                 const std::int64_t* s2, const std::int64_t* n, int count, float lr, float momentum,
                                 float dampening, int nesterov, float wd, float b1, float b2, float eps, i64 step,
                                 int first) {
    for (int i = 0; i < count; ++i) {
        optimizer_step(kind, (float*) p[i], (const float*) g[i], (float*) s1[i], (float*) s2[i], n[i], lr, momentum,
                       dampening, nesterov, wd, b1, b2, eps, step, first);
    }
}

}  // namespace rnn4j
