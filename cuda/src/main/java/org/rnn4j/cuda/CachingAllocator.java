package org.rnn4j.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.rnn4j.Memory;

/**
 * Device memory for one backend, cached so that an operation never calls cuMemAlloc/cuMemFree
 * once the working set is warm: blocks are rounded to a size class (powers of two from 512 B up
 * to 1 MiB, then multiples of 2 MiB) and a freed block goes back to its class's free list. All
 * work runs on the backend's one stream, so a block freed while kernels that use it are still
 * queued is only handed out again to work queued after them (stream order): no event is needed.
 *
 * <p>Bytes handed out (tensors and per-call scratch) are reserved against rnn4j's off-heap budget
 * with {@link Memory#reserve} and returned with {@link Memory#freed}, so {@link Memory#bytesInUse()}
 * includes device memory; cached free blocks are not counted there ({@link #cachedBytes()}).
 * When cuMemAlloc fails the cache is emptied (cuMemFree) and the allocation retried once.
 */
final class CachingAllocator {
    interface DeviceMemory {
        /** Device address, or 0 when the device is out of memory. */
        long malloc(long bytes);

        /** Frees every block given; waits for the stream first. */
        void free(long address);
    }

    private final DeviceMemory device;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long cached;
    private long handedOut;

    CachingAllocator(DeviceMemory device) {
        this.device = device;
    }

    static long sizeClass(long bytes) {
        if (bytes <= 512) {
            return 512;
        }
        if (bytes <= (1L << 20)) {
            return Long.highestOneBit(bytes - 1) << 1;
        }
        long unit = 2L << 20;
        return (bytes + unit - 1) / unit * unit;
    }

    /** A block of at least {@code bytes}; {@code what} names it in the out-of-memory error. */
    long allocate(long bytes, String what) {
        long size = sizeClass(Math.max(bytes, 1));
        Memory.reserve(size, what);
        try {
            synchronized (this) {
                ArrayDeque<Long> list = free.get(size);
                if (list != null && !list.isEmpty()) {
                    cached -= size;
                    handedOut += size;
                    return list.pop();
                }
            }
            long p = device.malloc(size);
            if (p == 0) {
                emptyCache();
                p = device.malloc(size);
            }
            if (p == 0) {
                throw new OutOfMemoryError("rnn4j cuda: cannot allocate " + size + " bytes of device memory for a " + what
                        + " (" + handedOut() + " bytes in use by rnn4j on this device; close tensors you no longer need)");
            }
            synchronized (this) {
                handedOut += size;
            }
            return p;
        } catch (RuntimeException | Error e) {
            Memory.freed(size);
            throw e;
        }
    }

    /** Returns a block from {@link #allocate} (any thread, e.g. the Cleaner's: no CUDA call). */
    void release(long address, long bytes) {
        long size = sizeClass(Math.max(bytes, 1));
        synchronized (this) {
            free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
            cached += size;
            handedOut -= size;
        }
        Memory.freed(size);
    }

    /** Frees every cached block with cuMemFree (called with the context current). */
    void emptyCache() {
        ArrayDeque<Long> all = new ArrayDeque<>();
        synchronized (this) {
            for (ArrayDeque<Long> l : free.values()) {
                all.addAll(l);
            }
            free.clear();
            cached = 0;
        }
        for (long p : all) {
            device.free(p);
        }
    }

    synchronized long cachedBytes() {
        return cached;
    }

    synchronized long handedOut() {
        return handedOut;
    }
}
