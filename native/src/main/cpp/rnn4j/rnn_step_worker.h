// The step worker: one persistent thread that takes half of each forward step (rnn_abi.h has
// the legend and the header family).
#pragma once

#include <sched.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <thread>

namespace rnn4j {

// ---- the step worker: one persistent thread that takes half of each forward step -------------
//
// A small-batch step is a matrix-vector product over the weights (memory-bound) plus pointwise
// math; a larger batch's step is a GEMM on the packed panels plus pointwise math. Split by
// hidden unit into two parts, part 0 always on the calling thread and part 1 always
// on this one worker, each core keeps reading the same half of the weight rows, which stays hot in
// its own L2 across calls, and each part owns whole gate sets, so it also does its pointwise math.
//
// A layer call is a sequence of rounds (a step, or a step's projection); a round is finished
// before the next is published. The caller publishes a round, runs part 0, then claims part 1
// back with a CAS if the worker has not claimed it yet (asleep, descheduled, or busy waking up)
// and runs it itself; so a call is never slower than single-threaded by more than the hand-off,
// and every part runs exactly once, with the same arithmetic wherever it runs. One caller at a
// time (a try-lock): another Java thread that finds the worker taken computes alone.
// The worker spins a short while for the next round, then sleeps on a futex.
class StepWorker {
public:
    typedef void (*PartFn)(void* arg, int part);

    // The worker, locked for this caller, or nullptr when it is taken or could not be started.
    static StepWorker* acquire() {
        StepWorker* w = instance();
        if (w == nullptr || w->busy_.exchange(true, std::memory_order_acquire)) return nullptr;
        return w;
    }

    void release() { busy_.store(false, std::memory_order_release); }

    // Runs fn(arg, 0) here and fn(arg, 1) on the worker (or here, if it has not taken it in time).
    void round(PartFn fn, void* arg) {
        fn_ = fn;
        arg_ = arg;
        const std::uint64_t g = ++gen_;
        state_.store(g << 2 | OPEN, std::memory_order_seq_cst);
        wake_.fetch_add(1, std::memory_order_seq_cst);
        if (sleeping_.load(std::memory_order_seq_cst)) futex(&wake_, FUTEX_WAKE_PRIVATE, 1);
        fn(arg, 0);
        std::uint64_t open = g << 2 | OPEN;
        if (state_.compare_exchange_strong(open, g << 2 | CALLER, std::memory_order_acq_rel)) {
            fn(arg, 1);
            return;
        }
        for (unsigned spins = 0; done_.load(std::memory_order_acquire) != g; spins++) {
            if (spins < 20000) cpu_relax();
            else sched_yield();  // the worker was descheduled mid-part
        }
    }

private:
    enum { OPEN = 1, WORKER = 2, CALLER = 3 };
    // how long the worker polls for the next round before it sleeps
    static constexpr long SPIN_NS = 100000;

    std::atomic<std::uint64_t> state_{0};  // gen << 2 | OPEN / WORKER / CALLER of the latest round
    std::atomic<std::uint64_t> done_{0};   // gen of the latest round whose part 1 the worker finished
    std::atomic<int> wake_{0};             // futex word, bumped on every publish
    std::atomic<int> sleeping_{0};
    std::atomic<bool> busy_{false};        // the caller lock
    std::uint64_t gen_ = 0;                // caller side, under busy_
    PartFn fn_ = nullptr;                  // the round: published by state_, read after claiming it
    void* arg_ = nullptr;

    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }

    static long futex(std::atomic<int>* addr, int op, int val) {
        static_assert(sizeof(std::atomic<int>) == sizeof(int), "futex word");
        return syscall(SYS_futex, reinterpret_cast<int*>(addr), op, val, nullptr, nullptr, 0);
    }

    static long now_ns() {
        timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000000000L + ts.tv_nsec;
    }

    // Created on first use, never destroyed (a detached thread that sleeps when idle).
    static StepWorker* instance() {
        static StepWorker* const w = start();
        return w;
    }

    static StepWorker* start() {
        StepWorker* w = new (std::nothrow) StepWorker();
        if (w == nullptr) return nullptr;
        try {
            std::thread(&StepWorker::loop, w).detach();
        } catch (...) {
            delete w;
            return nullptr;
        }
        return w;
    }

    std::uint64_t wait_for_round(std::uint64_t seen) {
        long deadline = now_ns() + SPIN_NS;
        for (;;) {
            for (int i = 0; i < 64; i++) {
                std::uint64_t s = state_.load(std::memory_order_acquire);
                if ((s >> 2) > seen) return s;
                cpu_relax();
            }
            if (now_ns() < deadline) continue;
            const int w = wake_.load(std::memory_order_seq_cst);
            sleeping_.store(1, std::memory_order_seq_cst);
            std::uint64_t s = state_.load(std::memory_order_seq_cst);
            if ((s >> 2) <= seen) futex(&wake_, FUTEX_WAIT_PRIVATE, w);  // returns at once if wake_ moved
            sleeping_.store(0, std::memory_order_relaxed);
            deadline = now_ns() + SPIN_NS;
        }
    }

    void loop() {
        std::uint64_t seen = 0;
        for (;;) {
            std::uint64_t s = wait_for_round(seen);
            seen = s >> 2;
            if ((s & 3) != OPEN) continue;
            if (!state_.compare_exchange_strong(s, seen << 2 | WORKER, std::memory_order_acq_rel)) continue;
            fn_(arg_, 1);
            done_.store(seen, std::memory_order_release);
        }
    }
};

}  // namespace rnn4j
