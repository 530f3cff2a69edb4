package org.rnn4j.backend;

import java.util.Arrays;

/**
 * The storages one backend call computes on, held from {@link #view} until {@link #close}: a
 * tensor closed by another thread meanwhile is freed when the call is done, never under a kernel.
 * Use one per call, in try-with-resources; not thread-safe (one call, one thread).
 *
 * <pre>{@code
 * try (Pins pins = new Pins()) {
 *     backend.binary(op, out.pin(pins), a.pin(pins), b.pin(pins));
 * }
 * }</pre>
 */
public final class Pins implements AutoCloseable {
    private Storage[] held = new Storage[4];
    private int count;

    /**
     * Holds {@code storage} for this call and returns a checked view of it.
     *
     * @throws IllegalStateException if the storage was already freed
     */
    public View view(Storage storage, long offset, int[] shape, int[] strides) {
        hold(storage);
        return View.of(storage, offset, shape, strides);
    }

    /** Holds {@code storage} until close (for a call that addresses it through raw geometry). */
    public void hold(Storage storage) {
        for (int i = 0; i < count; i++) {
            if (held[i] == storage) {
                return;
            }
        }
        storage.retain();
        if (count == held.length) {
            held = Arrays.copyOf(held, count * 2);
        }
        held[count++] = storage;
    }

    @Override
    public void close() {
        RuntimeException first = null;
        for (int i = count - 1; i >= 0; i--) {
            try {
                held[i].release();
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
            held[i] = null;
        }
        count = 0;
        if (first != null) {
            throw first;
        }
    }
}
