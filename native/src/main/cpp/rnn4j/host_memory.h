// Large host blocks: tensor storage and per-call layer scratch of at least BIG_MIN bytes.
//
// Why not posix_memalign + memset: glibc serves blocks this large with a fresh mmap on every
// allocation (above its mmap threshold, at most 32 MiB), so a training step of config B (LSTM,
// T=100, N=64, H=512), which allocates ~150 MB of outputs, saved gates and backward scratch, took
// one page fault per 4 KiB page and then zeroed every page twice (the kernel when it faulted it
// in, memset after): a perf profile of RnnTrainBenchmark B showed 19% of the samples in the kernel,
// most of them exc_page_fault / clear_page. Here a big block is its own 2 MiB-aligned anonymous
// mapping, marked MADV_HUGEPAGE (where transparent huge pages are "madvise", the common default,
// that is one fault per 2 MiB), and not memset: a fresh anonymous mapping reads as zeros already.
// Freeing unmaps it, so the memory goes back to the system at once and Memory's accounting stays
// what it was. Small blocks keep posix_memalign.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace rnn4j {

constexpr std::size_t HUGE_PAGE = std::size_t(2) << 20;
constexpr std::size_t BIG_MIN = std::size_t(1) << 20;  // from here on a block gets its own mapping

namespace detail {
struct BigBlocks {
    std::mutex lock;
    std::unordered_map<void*, std::size_t> length;  // start -> mapped length
    std::atomic<long> live{0};                      // lets small frees skip the lock
};
// Never destroyed: Java's Cleaner may free storage while the process exits.
inline BigBlocks& big_blocks() {
    static BigBlocks* b = new BigBlocks;
    return *b;
}
}  // namespace detail

// A zero-filled, 2 MiB-aligned block of at least `bytes`; nullptr when the system refuses.
inline void* big_alloc(std::size_t bytes) {
    // Start 2 MiB-aligned so whole huge pages cover the block; end at the next 4 KiB page, so a
    // 1.1 MiB tensor maps 1.1 MiB, not 2 (the tail past the last whole huge page is small pages).
    std::size_t len = (bytes + 4095) & ~std::size_t(4095);
    if (len < bytes || len > SIZE_MAX - HUGE_PAGE) return nullptr;  // overflow
    void* raw = mmap(nullptr, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    std::uintptr_t r = (std::uintptr_t) raw;
    std::uintptr_t a = (r + HUGE_PAGE - 1) & ~(std::uintptr_t)(HUGE_PAGE - 1);
    std::size_t head = a - r, tail = HUGE_PAGE - head;
    if (head) munmap(raw, head);
    if (tail) munmap((void*) (a + len), tail);
    madvise((void*) a, len, MADV_HUGEPAGE);  // advice only: without THP it fails and nothing changes
    detail::BigBlocks& b = detail::big_blocks();
    try {
        std::lock_guard<std::mutex> g(b.lock);
        b.length.emplace((void*) a, len);
    } catch (...) {  // the map could not grow: give the block back rather than lose track of it
        munmap((void*) a, len);
        return nullptr;
    }
    b.live.fetch_add(1, std::memory_order_relaxed);
    return (void*) a;
}

// Unmaps p if big_alloc made it; false (and nothing done) otherwise.
inline bool big_free(void* p) {
    detail::BigBlocks& b = detail::big_blocks();
    if (!p || b.live.load(std::memory_order_relaxed) == 0) return false;
    std::size_t len;
    {
        std::lock_guard<std::mutex> g(b.lock);
        auto it = b.length.find(p);
        if (it == b.length.end()) return false;
        len = it->second;
        b.length.erase(it);
    }
    b.live.fetch_sub(1, std::memory_order_relaxed);
    munmap(p, len);
    return true;
}

// 64-byte aligned (AVX-512 rows), zero-filled; nullptr when the allocation fails.
inline void* host_block_alloc(std::size_t bytes) {
    if (bytes >= BIG_MIN) return big_alloc(bytes);
    void* p = nullptr;
    std::size_t n = bytes > 0 ? bytes : 64;
    if (posix_memalign(&p, 64, n) != 0) return nullptr;
    std::memset(p, 0, n);
    return p;
}

inline void host_block_free(void* p) {
    if (!big_free(p)) std::free(p);
}

// Scratch that need not be zero: the same mapping for big blocks, plain aligned_alloc below.
inline void* scratch_alloc(std::size_t bytes) {
    if (bytes >= BIG_MIN) return big_alloc(bytes);
    return std::aligned_alloc(64, (bytes + 63) & ~std::size_t(63));
}

inline void scratch_free(void* p) { host_block_free(p); }

}  // namespace rnn4j
