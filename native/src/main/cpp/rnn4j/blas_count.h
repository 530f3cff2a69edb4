// OpenBLAS's thread count per call. The count is one process-wide setting (openblas_set_num_threads,
// and its _local variant in the OpenBLAS we link), read by every GEMM when it starts, and a GEMM's
// bits depend on it: with a count of 1 OpenBLAS runs its single-threaded driver, whose depth
// blocking differs from the threaded driver's (K in (Q, 2Q) is halved at a multiple of the unroll
// there, at (K + 1) / 2 in the threaded one; Cooperlake, Q = 320: dW = dg^T x with S = 400 differs
// in half its elements, up to 2.3e-5), while the threaded driver gives the same bits for 2 and 4
// threads. So a section that wants fewer threads (the two directions of a bidirectional layer,
// the steps a forward splits with the step worker) must not lower the count under another
// caller's GEMM, and must not have it raised under its own.
//
// Each thread states the count it wants (blas_want: set by blas_threads for its sections, else
// the configured count), and every OpenBLAS call runs inside a BlasCall: callers that want the
// count the process has now run concurrently; one that wants another waits until those GEMMs have
// finished, then switches it (and newcomers wait behind it, so neither count starves). A GEMM's
// count, and so its bits, then depends on the call site's shape and thread budget only.
#pragma once

#include <cblas.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

// OpenBLAS internals for its pool's spin time (blas_server.c, openblas_env.c), exported by the
// OpenBLAS we link; weak, so a build without them links and simply keeps OpenBLAS's default.
extern "C" {
__attribute__((weak)) void openblas_read_env(void);
__attribute__((weak)) int openblas_thread_timeout(void);
__attribute__((weak)) int blas_thread_shutdown_(void);
__attribute__((weak)) int blas_thread_init(void);
}

namespace rnn4j {

class BlasCount {
public:
    static BlasCount& get() {
        static BlasCount b;
        return b;
    }

    // The count of calls outside any section (NativeBackend's configured thread budget).
    void configure(int n) { configured_.store(n < 1 ? 1 : n, std::memory_order_relaxed); }
    int configured() const { return configured_.load(std::memory_order_relaxed); }

    void enter(int c) {
        std::unique_lock<std::mutex> l(m_);
        while (!(count_ == c ? !draining_ : users_ == 0)) {
            if (count_ != c) draining_ = true;  // no new users of the current count meanwhile
            cv_.wait(l);
        }
        if (count_ != c) {  // users_ == 0
            openblas_set_num_threads(c);
            count_ = c;
            draining_ = false;
        }
        users_++;
    }

    void leave() {
        std::lock_guard<std::mutex> l(m_);
        if (--users_ == 0) cv_.notify_all();
    }

    // How long OpenBLAS's pool threads spin for more work after a threaded call before they
    // sleep: 2^log2 time-stamp ticks, unless OPENBLAS_THREAD_TIMEOUT is set (then that, which
    // OpenBLAS clamps to 4..30). Returns the log2 in force, 0 when this OpenBLAS has no such knob.
    //
    // Why: OpenBLAS's default is 2^28 ticks, about 0.1 s, and a spinning pool thread holds a core.
    // rnn4j alternates OpenBLAS calls (a Linear head, a layer's input GEMM) with rounds on its own
    // step worker (rnn_step_worker.h) on the same cores, so for 0.1 s after every OpenBLAS call the
    // worker shared its core with a spinning OpenBLAS thread: the README's char-LM step (LSTM +
    // Linear head) took 19-28 ms instead of 11-15 ms, and the LSTM's own forward and backward ran
    // 1.5-2x slower inside it than alone. 2^14 ticks (a few microseconds) still catches calls that
    // follow each other at once. The pool is restarted so that its threads take the new time (OpenBLAS
    // reads it when it starts them); under the lock, with no OpenBLAS call of ours running, once,
    // when the backend loads. The variable is set only while OpenBLAS reads it, and removed again:
    // the process's environment (and a child process's) stays as it was.
    int set_pool_spin(int log2) {
        std::unique_lock<std::mutex> l(m_);
        if (!openblas_read_env || !openblas_thread_timeout || !blas_thread_shutdown_ || !blas_thread_init) return 0;
        const char* user = std::getenv("OPENBLAS_THREAD_TIMEOUT");
        if (!(user && *user) && openblas_thread_timeout() != log2) {
            cv_.wait(l, [this] { return users_ == 0; });
            char v[16];
            std::snprintf(v, sizeof v, "%d", log2);
            setenv("OPENBLAS_THREAD_TIMEOUT", v, 1);
            openblas_read_env();
            unsetenv("OPENBLAS_THREAD_TIMEOUT");
            blas_thread_shutdown_();
            blas_thread_init();
        }
        return openblas_thread_timeout();
    }

private:
    BlasCount() : configured_(openblas_get_num_threads()), count_(openblas_get_num_threads()) {}

    std::atomic<int> configured_;
    std::mutex m_;
    std::condition_variable cv_;
    int count_;            // the process's OpenBLAS count
    int users_ = 0;        // OpenBLAS calls running with it
    bool draining_ = false;  // a caller waits for another count
};

// The count this thread's OpenBLAS calls want; 0: the configured count.
inline thread_local int blas_want = 0;

inline int blas_wanted() { return blas_want > 0 ? blas_want : BlasCount::get().configured(); }

// One OpenBLAS call at the count this thread wants.
struct BlasCall {
    BlasCall() { BlasCount::get().enter(blas_wanted()); }
    ~BlasCall() { BlasCount::get().leave(); }
    BlasCall(const BlasCall&) = delete;
    BlasCall& operator=(const BlasCall&) = delete;
};

// Sets this thread's wanted count for a scope (a layer direction's budget, a split's one thread).
struct BlasWant {
    int saved;
    explicit BlasWant(int n) : saved(blas_want) { blas_want = n < 1 ? 1 : n; }
    ~BlasWant() { blas_want = saved; }
    BlasWant(const BlasWant&) = delete;
    BlasWant& operator=(const BlasWant&) = delete;
};

// The row-major sgemm every recurrent-layer kernel uses, at this thread's wanted count.
static inline void sgemm_rm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha, const float* A,
                            int lda, const float* B, int ldb, float beta, float* C, int ldc) {
    BlasCall call;
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace rnn4j
