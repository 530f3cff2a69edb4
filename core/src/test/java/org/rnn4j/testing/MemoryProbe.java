package org.rnn4j.testing;

import org.rnn4j.Memory;

/**
 * Leak tests read the global {@link Memory#bytesInUse()}, which also moves when the GC's Cleaner
 * frees tensors some earlier test dropped. Settle that first, then measure.
 */
public final class MemoryProbe {
    private MemoryProbe() {
    }

    /** Runs the GC until off-heap bytes in use stop changing; returns the settled value. */
    public static long settle() {
        long last = Memory.bytesInUse();
        int stable = 0;
        for (int i = 0; i < 100 && stable < 3; i++) {
            System.gc();
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            long now = Memory.bytesInUse();
            stable = now == last ? stable + 1 : 0;
            last = now;
        }
        return last;
    }
}
