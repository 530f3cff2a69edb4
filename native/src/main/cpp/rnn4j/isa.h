// Instruction-set paths of the CPU kernels, chosen at run time, reported and forcible.
//
// Every hot kernel exists in three builds of one source: AVX-512 (F/BW/DQ/VL, 32 zmm), AVX2 +
// FMA (16 ymm) and the x86-64 baseline (SSE2, 16 xmm, no FMA). The library itself is compiled
// for the baseline (JavaCPP's -march=x86-64), so it loads on any x86-64 CPU; each kernel body is
// an always-inline template `name_body<ISA>` and RNN4J_ISA_DISPATCH emits one function per path
// with that path's target attribute (so the body is compiled, register-allocated and vectorised
// for that register file) plus the dispatcher `name`, which switches on the active path.
//
// Why not GCC's target_clones: its ifunc resolver picks once, by itself, at load time; it cannot
// be forced to a lower path (for tests and benchmarks of each path on one machine), it does not
// say what it picked, and a minimal target_clones function in a plain g++ 12 executable was seen
// to resolve to `default` on an AVX2 CPU (Zen 3, BUILD-NOTES). Here the choice is one atomic int:
// detected once with __builtin_cpu_init / __builtin_cpu_supports (which also check that the OS
// saves the wide registers, XCR0), lowered on request (rnn4j.isa / RNN4J_ISA through
// NativeBackend), readable from Java (isa_active) and the same for every kernel family.
//
// A recurrent layer call reads the path once (RnnDir::isa) and passes it down, so a concurrent
// isa_set never mixes two paths' panel layouts inside one call.
#pragma once

#include <atomic>

namespace rnn4j {

// Explicit codes, shared with org.rnn4j.nativecpu.Isa (never Java ordinal()).
enum Isa { ISA_BASELINE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__CUDACC__)
#define RNN4J_X86_PATHS 1
#define RNN4J_TARGET_AVX512                                                                              \
    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,bmi,bmi2,lzcnt,popcnt,f16c," \
                          "prefer-vector-width=512")))
#define RNN4J_TARGET_AVX2 __attribute__((target("avx2,fma,bmi,bmi2,lzcnt,popcnt,f16c")))
#else
#define RNN4J_X86_PATHS 0
#define RNN4J_TARGET_AVX512
#define RNN4J_TARGET_AVX2
#endif

#define RNN4J_INLINE inline __attribute__((always_inline))

// The best path this CPU (and its OS) supports, detected once.
inline int isa_detect() {
#if RNN4J_X86_PATHS
    static const int v = [] {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
            __builtin_cpu_supports("fma"))
            return (int) ISA_AVX512;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return (int) ISA_AVX2;
        return (int) ISA_BASELINE;
    }();
    return v;
#else
    return ISA_BASELINE;
#endif
}

inline std::atomic<int>& isa_slot() {
    static std::atomic<int> slot{isa_detect()};
    return slot;
}

// The path the kernels take now.
inline int isa_active() { return isa_slot().load(std::memory_order_relaxed); }

// Path `want` (an Isa code) as this CPU can run it: above the detected path gives the detected
// path, below 0 the baseline. isa_set makes it the path in force (process-wide) and returns it.
inline int isa_clamp(int want) {
    const int best = isa_detect();
    return want < ISA_BASELINE ? (int) ISA_BASELINE : (want > best ? best : want);
}

inline int isa_set(int want) {
    const int v = isa_clamp(want);
    isa_slot().store(v, std::memory_order_relaxed);
    return v;
}

// The native register of each path as a GCC vector type: 16 floats in a zmm, 8 in a ymm, 4 in an
// xmm. Kernels are written against Simd<ISA>::V and L, never wider than the path's registers
// (a 16-float vector in an AVX2 build is split into halves and spilled: BUILD-NOTES).
typedef float vf16 __attribute__((vector_size(64)));
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf4 __attribute__((vector_size(16)));
template <int ISA> struct Simd;
template <> struct Simd<ISA_AVX512> { typedef vf16 V; static constexpr int L = 16; };
template <> struct Simd<ISA_AVX2> { typedef vf8 V; static constexpr int L = 8; };
template <> struct Simd<ISA_BASELINE> { typedef vf4 V; static constexpr int L = 4; };

#define RNN4J_UNPAREN(...) __VA_ARGS__

// Emits name_avx512, name_avx2, name_base (each name_body<ISA> compiled for its path) and
// `ret name(int isa, params...)`, which runs the given path. params and args are parenthesised
// lists: RNN4J_ISA_DISPATCH_AT(void, scale, (float* x, i64 n), (x, n)).
#if RNN4J_X86_PATHS
#define RNN4J_ISA_DISPATCH_AT(ret, name, params, args)                                                  \
    RNN4J_TARGET_AVX512 __attribute__((noinline)) static ret name##_avx512 params {                     \
        return name##_body<ISA_AVX512> args;                                                           \
    }                                                                                                   \
    RNN4J_TARGET_AVX2 __attribute__((noinline)) static ret name##_avx2 params {                         \
        return name##_body<ISA_AVX2> args;                                                             \
    }                                                                                                   \
    __attribute__((noinline)) static ret name##_base params { return name##_body<ISA_BASELINE> args; } \
    static inline ret name(int isa_, RNN4J_UNPAREN params) {                                            \
        return isa_ == ISA_AVX512 ? name##_avx512 args : isa_ == ISA_AVX2 ? name##_avx2 args : name##_base args; \
    }
#else
#define RNN4J_ISA_DISPATCH_AT(ret, name, params, args)                   \
    static inline ret name(int, RNN4J_UNPAREN params) { return name##_body<ISA_BASELINE> args; }
#endif

// As RNN4J_ISA_DISPATCH_AT, and `ret name(params...)` on the active path.
#define RNN4J_ISA_DISPATCH(ret, name, params, args)                                \
    RNN4J_ISA_DISPATCH_AT(ret, name, params, args)                                 \
    static inline ret name params { return name(isa_active(), RNN4J_UNPAREN args); }

}  // namespace rnn4j
