package org.rnn4j.backend;

import org.rnn4j.Device;

/**
 * A block of float32 memory on a device. Reference counted by the tensors that view it; freed
 * when the last view closes (or, as a safety net only, when it becomes unreachable).
 */
public abstract class Storage {
    private final long numel;
    private final Device device;
    private final java.util.concurrent.atomic.AtomicInteger refs = new java.util.concurrent.atomic.AtomicInteger(0);
    private volatile boolean freed;

    protected Storage(long numel, Device device) {
        this.numel = numel;
        this.device = device;
    }

    public final long numel() {
        return numel;
    }

    public final Device device() {
        return device;
    }

    public final boolean isFreed() {
        return freed;
    }

    /** Called by a tensor that starts viewing this storage. */
    public final void retain() {
        if (freed) {
            throw new IllegalStateException("storage already freed");
        }
        refs.incrementAndGet();
    }

    /** Called by a tensor that is closed; frees the memory with the last view. */
    public final void release() {
        if (refs.decrementAndGet() == 0) {
            freed = true;
            free();
        }
    }

    /** Frees the memory now; must be idempotent. */
    protected abstract void free();
}
