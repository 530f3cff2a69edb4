// Entry points of the recurrent layer kernels: one call = one layer, one or both directions,
// the whole time loop native (rnn_abi.h has the legend and the header family; RnnKernels.java
// binds these two functions).
#ifndef RNN4J_RNN_LAYER_H
#define RNN4J_RNN_LAYER_H

#include <thread>

#include "rnn_abi.h"
#include "rnn_backward.h"
#include "rnn_forward.h"

namespace rnn4j {

// Runs fn on each direction; two directions run concurrently on two threads when the thread
// budget allows, each given half of it (OpenBLAS runs with threads / 2 meanwhile), so the total
// never exceeds `threads`. A single direction uses the whole budget.
template <typename Fn>
static int run_dirs(int ndirs, const long long* ptrs, const long long* lds, const int* dims, const int* batchSizes,
                    int T, int threads, long long cancelFlag, Fn fn) {
    RnnDir dirs[2];
    const int isa = isa_active();  // once per call: both directions and every step on one path
    for (int k = 0; k < ndirs; k++) {
        unpack_dir(dirs[k], isa, ptrs + k * RNN_NUM_SLOTS, lds + k * RNN_NUM_SLOTS, dims + k * RNN_NUM_DIMS, batchSizes, T);
        dirs[k].cancel = reinterpret_cast<const volatile int*>(static_cast<intptr_t>(cancelFlag));
    }
    if (threads < 1) threads = 1;
    if (ndirs == 1 || threads < 2) {
        int rc = RNN_OK;
        for (int k = 0; k < ndirs && rc == RNN_OK; k++) rc = fn(dirs[k], k, threads, nullptr);
        return rc;
    }
    const int half = threads / 2;
    int rc1 = RNN_OK;
    DxTurns turns;
    std::thread other;
    blas_threads(half);
    try {
        other = std::thread([&] { rc1 = fn(dirs[1], 1, half, &turns); });
    } catch (...) {  // no thread to be had: run both here
        blas_threads(threads);
        int rc = fn(dirs[0], 0, threads, nullptr);
        if (rc == RNN_OK) rc = fn(dirs[1], 1, threads, nullptr);
        return rc;
    }
    int rc0 = fn(dirs[0], 0, half, &turns);
    other.join();
    blas_threads(threads);
    return rc0 != RNN_OK ? rc0 : rc1;
}

// ptrs, lds: (ndirs, RNN_NUM_SLOTS) addresses in bytes (0 = null) and row strides in floats;
// dims: (ndirs, RNN_NUM_DIMS); batchSizes: (T), shared by the directions; threads: total budget.
// cancelFlag: address of an int that, once nonzero, stops the call before its next step
// (RNN_INTERRUPTED; outputs incomplete), 0 = not cancellable. Returns an RnnStatus.
inline int rnn_layer_forward(int ndirs, const long long* ptrs, const long long* lds, const int* dims,
                             const int* batchSizes, int T, int threads, long long cancelFlag) {
    return run_dirs(ndirs, ptrs, lds, dims, batchSizes, T, threads, cancelFlag, [](const RnnDir& d, int, int th, DxTurns*) { return forward_dir(d, th); });
}

inline int rnn_layer_backward(int ndirs, const long long* ptrs, const long long* lds, const int* dims,
                              const int* batchSizes, int T, int threads, long long cancelFlag) {
    return run_dirs(ndirs, ptrs, lds, dims, batchSizes, T, threads, cancelFlag, [](const RnnDir& d, int k, int th, DxTurns* turns) { return backward_dir(d, turns, k, th); });
}

}  // namespace rnn4j

#endif
