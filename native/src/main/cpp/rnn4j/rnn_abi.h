// The recurrent layer call's ABI and the per-direction view of it. One call = one layer, one or
// both directions; the time loop runs natively, so Java pays one JNI crossing per layer call.
//
// Legend (used by every rnn_* header): T steps, N batch (= batchSizes[0]), S = sum(batchSizes)
// packed rows, I input size, H hidden size, P projection size (LSTM only, 0 = none), R output
// size (P if P > 0 else H), G gates (RNN 1, GRU 3, LSTM 4), GH = G*H, W workspace floats per
// row (cell_workspace_row). Step t owns packed rows [off_t, off_t + bt) with bt = batchSizes[t]
// (non-increasing), so the active sequences are always the first bt rows of the (N, .) state
// buffers. All 2-D buffers have unit column stride and a row stride (ld, in floats) of their own.
// Nothing is validated here (Java did it), but nothing is read or written outside the buffers.
//
// The header family, in include order:
//   gemm_panels.h       per-ISA panel and small-M GEMM kernels (and the OpenBLAS thread count)
//   rnn_abi.h           this file: slots, the RnnDir view with named buffers, the scratch arena
//   rnn_step_worker.h   the persistent thread that shares each split step (parts from both ends)
//   rnn_forward.h       pointwise forward step per ISA, the forward plan and its rounds
//   rnn_backward.h      pointwise backward step per ISA, the reverse walk, weight gradients
//   rnn_layer.h         the entry points rnn_layer_forward / rnn_layer_backward
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "cell_math.h"
#include "host_memory.h"
#include "gemm_panels.h"
#include "isa.h"

namespace rnn4j {

// RnnSlot, RnnDim, RnnStatus and their counts: abi.h (shared with Java's RnnBuffer / RnnDim and
// with cuda/).

// One 2-D buffer: element (r, c) at p[r * ld + c]; p == nullptr = absent.
struct Buf {
    float* p = nullptr;
    long ld = 0;
    float* row(long r) const { return p + r * ld; }
    explicit operator bool() const { return p != nullptr; }
};

// One direction of one layer: what RnnLayerArgs holds, as named buffers.
struct RnnDir {
    int isa;  // the ISA path of this call (read once: a concurrent isa_set cannot mix two paths)
    const volatile int* cancel;  // nonzero asks the call to stop before its next step (nullptr: never)
    int kind, reverse, T, N, S, I, H, P, R, G, GH, W;
    const int* bs;  // (T) batch sizes
    // inputs and parameters: x (S, I), h0 (N, R), c0 (N, H), w_ih (GH, I), w_hh (GH, R),
    // b_ih / b_hh (GH) as one row, w_hr (P, H)
    Buf x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr;
    // forward outputs: y (S, R), h_n (N, R), c_n (N, H), ws (S, W) saved activations (absent in
    // inference)
    Buf y, h_n, c_n, ws;
    // backward inputs: dy (S, R), dh_n (N, R), dc_n (N, H) (absent = zero)
    Buf dy, dh_n, dc_n;
    // gradients: dx (S, I) +=, dh0 (N, R) =, dc0 (N, H) =, parameter gradients +=
    Buf dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr;
};

// Whether the Java side asked this call to stop (Thread.interrupt); read before each step.
static inline bool cancelled(const RnnDir& d) { return d.cancel != nullptr && *d.cancel != 0; }

// Fills d from the slot arrays of one direction (ptrs/lds: RNN_NUM_SLOTS each, dims:
// RNN_NUM_DIMS).
static inline void unpack_dir(RnnDir& d, int isa, const long long* ptrs, const long long* lds, const int* dims,
                              const int* batchSizes, int T) {
    Buf* const slot[RNN_NUM_SLOTS] = {&d.x,  &d.h0,   &d.c0,   &d.w_ih, &d.w_hh,  &d.b_ih,  &d.b_hh,  &d.w_hr,
                                      &d.y,  &d.h_n,  &d.c_n,  &d.ws,   &d.dy,    &d.dh_n,  &d.dc_n,  &d.dx,
                                      &d.dh0, &d.dc0, &d.dw_ih, &d.dw_hh, &d.db_ih, &d.db_hh, &d.dw_hr};
    d.isa = isa;
    d.cancel = nullptr;
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
        slot[i]->p = reinterpret_cast<float*>(static_cast<intptr_t>(ptrs[i]));
        slot[i]->ld = (long)lds[i];
    }
}

// ---- scratch: one aligned block per call, carved into buffers, never allocated per step ----

struct Arena {
    float* base = nullptr;
    size_t cap = 0, used = 0;
    // Rounds every buffer to 16 floats so each starts 64-byte aligned.
    static size_t round(size_t n) { return (n + 15) & ~size_t(15); }
    bool alloc(size_t floats) {
        cap = floats;
        base = floats ? static_cast<float*>(scratch_alloc(floats * sizeof(float))) : nullptr;
        return floats == 0 || base != nullptr;
    }
    float* take(size_t n) {
        float* r = base + used;
        used += round(n);
        return r;
    }
    ~Arena() { scratch_free(base); }
};

static inline void copy_rows(int rows, int cols, const float* src, long lds, float* dst, long ldd) {
    for (int b = 0; b < rows; b++) std::memcpy(dst + (long)b * ldd, src + (long)b * lds, sizeof(float) * cols);
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

// ---- planning helpers shared by forward and backward ---------------------------------------

static const long SPLIT_MIN_FLOATS = 32768;

// The wide split of a batch above SMALL_M: the caller and the step worker run every step on
// their own panels (forward: gi included), so no threaded OpenBLAS call runs meanwhile (its pool
// threads would spin on the worker's core). Only with a budget of exactly two threads: the
// worker is one thread, and with more cores OpenBLAS's own threads over the whole batch are the
// better use of them. Depends on shape and budget only, never on whether the worker is free.
static inline bool wide_split(const RnnDir& d, int threads) {
    return threads == 2 && d.H >= 32 && d.N > SMALL_M && (long)d.N * d.GH * d.R >= 8L * SPLIT_MIN_FLOATS;
}

// Active rows up to which one thread on the panels beats OpenBLAS sgemm with `threads` threads.
// Measured on the Zen 4 CI machine (N = 2048 outputs, K = 512): the panels take 19.3 us per row
// on one core; OpenBLAS about 330 us per call (packing the weights) + 21 us per row / threads.
// One thread: the panels always. Two: up to about 37 rows. More threads: the same model gives
// 17-23 rows; it was not measured on a machine with more cores (OpenBLAS's packing is itself
// split between its threads there, so the true crossover is probably lower).
static inline int panel_rows_limit(int threads) {
    if (threads <= 1) return 1 << 30;
    const double perRowGain = 19.3 - 21.0 / threads;
    return perRowGain <= 0 ? (1 << 30) : (int)(330.0 / perRowGain);
}

// Parts of a split step (StepWorker::round): about 64 hidden units each, 2 to MAX_PARTS (8).
// Several parts per thread let the two sides balance a step when one is late; each part
// costs a CAS and a few loop set-ups per round. Depends on the shape only.
static inline int plan_parts(int H) { return std::max(2, std::min(8, H / 64)); }

// [0, n) cut into `parts` consecutive ranges at multiples of `align` (the last ends at n):
// bounds[k] = round(n * k / parts) to a multiple of align, clamped to n; some may be empty.
static inline void split_range(int n, int parts, int align, int* bounds) {
    bounds[0] = 0;
    for (int k = 1; k < parts; k++)
        bounds[k] = std::min(n, std::max(bounds[k - 1], (int)(((long)n * k / parts + align / 2) / align * align)));
    bounds[parts] = n;
}

// Arena floats for n panels of depth K and their descriptors.
static inline size_t panels_floats(int pw, int n, int K) {
    return n == 0 ? 0 : Arena::round((size_t)n * sizeof(Panel) / sizeof(float)) + Arena::round((size_t)n * K * pw);
}

}  // namespace rnn4j
