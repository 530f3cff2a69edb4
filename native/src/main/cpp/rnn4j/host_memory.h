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
// Freeing puts it in a small bounded cache of free big blocks for the next allocation of a similar
// size (below), or unmaps it. Small blocks keep posix_memalign.
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

// ---- a bounded cache of freed big blocks -------------------------------------------------------
//
// Big blocks freed by tensors and by the layer kernels' per-call scratch (Arena) go to a small
// cache, and the next big allocation of a similar size takes one from it instead of mapping,
// faulting and (for tensors) zeroing fresh pages, then unmapping them again. Why: with a mapping
// per block, a config B LSTM backward probe still had 6% of its samples in clear_page, and a JMH
// profile of config A LSTM training (T=35, N=32, H=256: blocks of 1-6 MB, freed every step) had
// 38% of its samples in the kernel: page faults, clear_page, and the TLB shootdowns of munmap
// (IPIs to the step worker's core, each a VM exit on a KVM guest). The cache holds at most
// CACHE_BLOCKS blocks and host_cache_limit() bytes (the environment variable RNN4J_HOST_CACHE_MB
// sets it, 0 turns the cache off; else NativeBackend sets a sixteenth of the memory budget,
// between 256 MiB and 1 GiB); a block that does not fit is unmapped at once. A request takes
// the smallest cached block that holds it and is at most twice its size.
// Cached memory is invisible to Java's Memory budget, which counts live tensors only: a freed
// tensor's bytes are back in the budget at once, as with any allocator's free list.
// 32 blocks, not the 8 of the first version: one step of the README's char-LM (LSTM + Linear
// head + cross-entropy, training) frees more than 8 blocks of 1-6 MB at once, so most of them
// were unmapped and mapped again every step (473k page faults in a 400-step probe; 63k with 32).
// Up to 1 GiB, not a fixed 256 MiB: a training step of config C (2 layers, bidirectional, H = 512)
// frees more than 256 MiB of blocks, so every other step mapped and faulted them again (LSTM:
// steps of 1.77-2.44 s alternating, 1.65 s steady with 1 GiB, Intel Xeon VM).
namespace detail {
constexpr int CACHE_BLOCKS = 32;
struct BlockCache {
    std::mutex lock;
    void* block[CACHE_BLOCKS] = {};
    std::size_t length[CACHE_BLOCKS] = {};
    std::size_t total = 0;
};
inline BlockCache& block_cache() {
    static BlockCache* c = new BlockCache;  // never destroyed, like big_blocks()
    return *c;
}
inline std::size_t big_length(void* p) {  // 0 when p is not a big block
    BigBlocks& b = big_blocks();
    if (!p || b.live.load(std::memory_order_relaxed) == 0) return 0;
    std::lock_guard<std::mutex> g(b.lock);
    auto it = b.length.find(p);
    return it == b.length.end() ? 0 : it->second;
}
}  // namespace detail

// RNN4J_HOST_CACHE_MB in bytes, read once; -1 when unset or unreadable (then the default holds).
inline long long host_cache_env_bytes() {
    static const long long v = [] {
        const char* e = std::getenv("RNN4J_HOST_CACHE_MB");
        if (!e || !*e) return -1LL;
        char* end = nullptr;
        long mb = std::strtol(e, &end, 10);
        return end == e || mb < 0 ? -1LL : (long long)mb << 20;
    }();
    return v;
}

// The cache's byte limit: the environment's when it sets one (0 turns the cache off), else
// 256 MiB until the Java side sets the default for this machine (host_cache_set_default).
inline std::atomic<std::size_t>& host_cache_limit_slot() {
    static std::atomic<std::size_t> limit{
        host_cache_env_bytes() >= 0 ? (std::size_t)host_cache_env_bytes() : std::size_t(256) << 20};
    return limit;
}

inline std::size_t host_cache_limit() { return host_cache_limit_slot().load(std::memory_order_relaxed); }

// Sets the limit to `bytes` unless the environment set one (which wins); returns the limit in
// force. Lowering it does not evict: cached blocks leave as they are taken or replaced.
inline long long host_cache_set_default(long long bytes) {
    if (host_cache_env_bytes() < 0 && bytes >= 0)
        host_cache_limit_slot().store((std::size_t)bytes, std::memory_order_relaxed);
    return (long long)host_cache_limit();
}

namespace detail {
// A cached block of at least len bytes (len a multiple of 4 KiB), or nullptr.
inline void* cache_take(std::size_t len) {
    BlockCache& c = block_cache();
    std::lock_guard<std::mutex> g(c.lock);
    int best = -1;
    for (int i = 0; i < CACHE_BLOCKS; i++)
        if (c.block[i] && c.length[i] >= len && c.length[i] / 2 <= len && (best < 0 || c.length[i] < c.length[best]))
            best = i;
    if (best < 0) return nullptr;
    void* p = c.block[best];
    c.total -= c.length[best];
    c.block[best] = nullptr;
    c.length[best] = 0;
    return p;
}

// Frees big block p (len mapped bytes): into the cache (a free slot, else in place of the
// smallest cached block if that is smaller), else unmapped.
inline void cache_put_or_unmap(void* p, std::size_t len) {
    BlockCache& c = block_cache();
    void* evict = nullptr;
    {
        std::lock_guard<std::mutex> g(c.lock);
        int slot = -1;
        for (int i = 0; i < CACHE_BLOCKS && slot < 0; i++)
            if (!c.block[i]) slot = i;
        if (slot < 0) {
            int small = 0;
            for (int i = 1; i < CACHE_BLOCKS; i++)
                if (c.length[i] < c.length[small]) small = i;
            if (c.length[small] < len) slot = small;
        }
        if (slot >= 0) {
            const std::size_t out = c.block[slot] ? c.length[slot] : 0;
            if (c.total - out + len <= host_cache_limit()) {
                evict = c.block[slot];
                c.total = c.total - out + len;
                c.block[slot] = p;
                c.length[slot] = len;
                p = nullptr;
            }
        }
    }
    if (evict) big_free(evict);
    if (p) big_free(p);
}

inline std::size_t page_round(std::size_t bytes) { return (bytes + 4095) & ~std::size_t(4095); }
}  // namespace detail

// Bytes the cache holds now.
inline long long host_cache_held() {
    detail::BlockCache& c = detail::block_cache();
    std::lock_guard<std::mutex> g(c.lock);
    return (long long)c.total;
}

// Frees a block of host_block_alloc or scratch_alloc.
inline void host_block_free(void* p) {
    const std::size_t len = detail::big_length(p);
    if (len == 0) std::free(p);
    else detail::cache_put_or_unmap(p, len);
}

// 64-byte aligned (AVX-512 rows), zero-filled; nullptr when the allocation fails.
inline void* host_block_alloc(std::size_t bytes) {
    if (bytes >= BIG_MIN) {
        if (void* p = detail::cache_take(detail::page_round(bytes))) {
            std::memset(p, 0, bytes);  // a reused block: zero it (a fresh mapping is zero already)
            return p;
        }
        return big_alloc(bytes);
    }
    void* p = nullptr;
    std::size_t n = bytes > 0 ? bytes : 64;
    if (posix_memalign(&p, 64, n) != 0) return nullptr;
    std::memset(p, 0, n);
    return p;
}

// Scratch that need not be zero: a cached or fresh mapping for big blocks, aligned_alloc below.
// Built with -DRNN4J_POISON_SCRATCH (the hand-built C++ tests, native/src/test/cpp/README.md),
// every scratch block starts as NaNs, so a kernel that reads scratch before writing it fails
// its parity checks instead of passing on the zeros of a fresh mapping.
inline void* scratch_alloc(std::size_t bytes) {
    void* p;
    if (bytes < BIG_MIN) p = std::aligned_alloc(64, (bytes + 63) & ~std::size_t(63));
    else if (!(p = detail::cache_take(detail::page_round(bytes)))) p = big_alloc(bytes);
#ifdef RNN4J_POISON_SCRATCH
    if (p) {
        const std::uint32_t nan = 0x7fc00bad;
        for (std::size_t i = 0; i + 4 <= bytes; i += 4) std::memcpy((char*) p + i, &nan, 4);
    }
#endif
    return p;
}

inline void scratch_free(void* p) { host_block_free(p); }

}  // namespace rnn4j
