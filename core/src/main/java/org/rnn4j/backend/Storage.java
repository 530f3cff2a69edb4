package org.rnn4j.backend;

import java.util.concurrent.atomic.AtomicInteger;
import org.rnn4j.Device;

/**
 * A block of float32 memory on a device, reference counted. Two kinds of holders count:
 * the tensors that view it (from construction to close) and the calls that compute on it (a
 * {@link Pins} scope, for the duration of one backend call). The memory is freed when the last
 * holder lets go, so a tensor closed by another thread while a kernel runs on it is freed after
 * the kernel returns, never under it (as a safety net only, a Cleaner frees storage that became
 * unreachable).
 *
 * <p>The count is -1 once freed; {@link #retain()} never moves it off -1, so a storage that was
 * freed can never be used again (it throws {@link IllegalStateException} instead).
 */
public abstract class Storage {
    private static final int FREED = -1;

    private final long numel;
    private final Device device;
    private final AtomicInteger refs = new AtomicInteger(0);

    /** Storage for {@code numel} floats on {@code device}, with no holders yet. */
    protected Storage(long numel, Device device) {
        this.numel = numel;
        this.device = device;
    }

    /** Capacity in float elements. */
    public final long numel() {
        return numel;
    }

    /** The device that holds the memory. */
    public final Device device() {
        return device;
    }

    /** Whether the memory was freed (the holder count reached -1); a freed storage is never usable again. */
    public final boolean isFreed() {
        return refs.get() == FREED;
    }

    /** Holders right now (tensors viewing it plus calls pinning it); -1 once freed. For tests. */
    public final int holders() {
        return refs.get();
    }

    /**
     * Adds a holder: a tensor that starts viewing this storage, or a call that pins it.
     *
     * @throws IllegalStateException if the storage was already freed
     */
    public final void retain() {
        while (true) {
            int r = refs.get();
            if (r == FREED) {
                throw new IllegalStateException("storage already freed (its tensors were closed)");
            }
            if (refs.compareAndSet(r, r + 1)) {
                return;
            }
        }
    }

    /**
     * Drops a holder; the last one frees the memory. A holder taken concurrently between the count
     * reaching 0 and the free keeps it alive: only the release that moves 0 to -1 frees.
     */
    public final void release() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                throw new IllegalStateException("storage released more often than retained (holders " + r + ")");
            }
            if (refs.compareAndSet(r, r - 1)) {
                if (r == 1 && refs.compareAndSet(0, FREED)) {
                    free();
                }
                return;
            }
        }
    }

    /** Frees the memory now; must be idempotent. */
    protected abstract void free();
}
