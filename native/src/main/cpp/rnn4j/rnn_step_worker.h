// The step worker: one persistent thread that shares each split forward/backward step (rnn_abi.h has
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

// ---- the step worker: one persistent thread that shares each forward/backward step ----------
//
// A small-batch step is a matrix-vector product over the weights (memory-bound) plus pointwise
// math; a larger batch's step is a GEMM on the packed panels plus pointwise math. A step is split
// by hidden unit into a fixed number of parts (1..MAX_PARTS, from the shape alone: plan_parts);
// each part owns whole gate sets, so it also does its pointwise math.
//
// A layer call is a sequence of rounds (a step, or a step's projection); a round is finished
// before the next is published. The caller publishes a round and claims parts from the front
// (0, 1, ...), the worker claims them from the back (n-1, n-2, ...), one CAS each, until they
// meet. In the steady state each side runs the same parts every step (its half of the weight
// rows stays hot in its own cache), and when one side is late or descheduled (a VM's stolen
// time: 20-40% was seen on the 2-vCPU CI machines) the other takes its parts: a round costs at
// most one part of waiting, not half the step. Every part runs exactly once, with the same
// arithmetic wherever it runs, so results do not depend on who ran what. One caller at a time
// (a try-lock): another Java thread that finds the worker taken computes alone.
// While a caller holds the worker it spins for the next round; idle, it spins a short while and
// then sleeps on a futex.
class StepWorker {
public:
    typedef void (*PartFn)(void* arg, int part);
    static constexpr int MAX_PARTS = 8;

    // The worker, locked for this caller, or nullptr when it is taken or could not be started.
    static StepWorker* acquire() {
        StepWorker* w = instance();
        if (w == nullptr || w->busy_.exchange(true, std::memory_order_acquire)) return nullptr;
        w->hot_.store(true, std::memory_order_relaxed);
        return w;
    }

    void release() {
        hot_.store(false, std::memory_order_relaxed);
        busy_.store(false, std::memory_order_release);
    }

    // hot(false) before the caller runs something long without rounds that wants the other
    // core (a threaded OpenBLAS call): the worker may sleep again instead of spinning on it.
    void hot(bool h) { hot_.store(h, std::memory_order_relaxed); }

    // Runs fn(arg, k) for k in [0, nparts) between this thread and the worker; returns when
    // all have run.
    void round(PartFn fn, void* arg, int nparts) {
        fn_ = fn;
        arg_ = arg;
        const std::uint64_t g = ++gen_;
        done_.store(0, std::memory_order_relaxed);
        work_.store(pack(g, 0, nparts), std::memory_order_seq_cst);
        wake_.fetch_add(1, std::memory_order_seq_cst);
        if (sleeping_.load(std::memory_order_seq_cst)) futex(&wake_, FUTEX_WAKE_PRIVATE, 1);
        int mine = 0;
        for (std::uint64_t w = work_.load(std::memory_order_acquire);;) {
            const int f = front(w), b = back(w);
            if (f >= b) break;
            if (work_.compare_exchange_weak(w, pack(g, f + 1, b), std::memory_order_acq_rel)) {
                fn(arg, f);
                mine++;
                w = work_.load(std::memory_order_acquire);
            }
        }
        const int theirs = nparts - mine;
        for (unsigned spins = 0; done_.load(std::memory_order_acquire) != theirs; spins++) {
            if (spins < 20000) cpu_relax();
            else sched_yield();  // the worker was descheduled mid-part
        }
    }

    // Every part of a round: shared with worker w, or all on this thread when w is null (the
    // worker was taken; the same parts, so the same arithmetic).
    static void run_parts(StepWorker* w, PartFn fn, void* arg, int nparts) {
        if (w) w->round(fn, arg, nparts);
        else
            for (int k = 0; k < nparts; k++) fn(arg, k);
    }

private:
    // how long the idle worker polls for the next round before it sleeps
    static constexpr long SPIN_NS = 100000;

    // the round: generation << 32 | next front part << 16 | end of the back parts
    static std::uint64_t pack(std::uint64_t g, int f, int b) { return g << 32 | (std::uint64_t)f << 16 | (std::uint64_t)b; }
    static int front(std::uint64_t w) { return (int)(w >> 16 & 0xffff); }
    static int back(std::uint64_t w) { return (int)(w & 0xffff); }
    static std::uint64_t gen(std::uint64_t w) { return w >> 32; }

    std::atomic<std::uint64_t> work_{0};
    std::atomic<int> done_{0};             // parts the worker finished in the current round
    std::atomic<int> wake_{0};             // futex word, bumped on every publish
    std::atomic<int> sleeping_{0};
    std::atomic<bool> busy_{false};        // the caller lock
    std::atomic<bool> hot_{false};         // rounds are coming: spin, do not sleep
    std::uint64_t gen_ = 0;                // caller side, under busy_
    PartFn fn_ = nullptr;                  // the round: published by work_, read after claiming a part
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

    // Waits for a round newer than `seen`; returns its work word.
    std::uint64_t wait_for_round(std::uint64_t seen) {
        long deadline = now_ns() + SPIN_NS;
        for (;;) {
            for (int i = 0; i < 64; i++) {
                std::uint64_t w = work_.load(std::memory_order_acquire);
                if (gen(w) > seen) return w;
                cpu_relax();
            }
            // while a caller's step loop runs it never sleeps: a futex wake-up costs tens to
            // hundreds of microseconds (a halted vCPU), a step's part a few to a few hundred
            if (hot_.load(std::memory_order_relaxed) || now_ns() < deadline) continue;
            const int wk = wake_.load(std::memory_order_seq_cst);
            sleeping_.store(1, std::memory_order_seq_cst);
            std::uint64_t w = work_.load(std::memory_order_seq_cst);
            if (gen(w) <= seen) futex(&wake_, FUTEX_WAIT_PRIVATE, wk);  // returns at once if wake_ moved
            sleeping_.store(0, std::memory_order_relaxed);
            deadline = now_ns() + SPIN_NS;
        }
    }

    void loop() {
        std::uint64_t seen = 0;
        for (;;) {
            std::uint64_t w = wait_for_round(seen);
            const std::uint64_t g = gen(w);
            seen = g;
            for (;;) {
                const int f = front(w), b = back(w);
                if (gen(w) != g || f >= b) break;
                if (work_.compare_exchange_weak(w, pack(g, f, b - 1), std::memory_order_acq_rel)) {
                    fn_(arg_, b - 1);
                    done_.fetch_add(1, std::memory_order_release);
                    w = work_.load(std::memory_order_acquire);
                }
            }
        }
    }
};

}  // namespace rnn4j
