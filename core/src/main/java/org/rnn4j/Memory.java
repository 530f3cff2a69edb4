package org.rnn4j;

import java.util.concurrent.atomic.AtomicLong;

/** Off-heap memory held by rnn4j tensors, for users who watch their native footprint. */
public final class Memory {
    private static final AtomicLong IN_USE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();

    private Memory() {
    }

    /** Bytes of off-heap memory currently held by live tensor storage, all devices. */
    public static long bytesInUse() {
        return IN_USE.get();
    }

    /** Highest {@link #bytesInUse()} seen since start or the last {@link #resetPeak()}. */
    public static long peakBytes() {
        return PEAK.get();
    }

    public static void resetPeak() {
        PEAK.set(IN_USE.get());
    }

    /** For storage implementations: account for an allocation. */
    public static void allocated(long bytes) {
        long now = IN_USE.addAndGet(bytes);
        PEAK.accumulateAndGet(now, Math::max);
    }

    /** For storage implementations: account for a free. */
    public static void freed(long bytes) {
        IN_USE.addAndGet(-bytes);
    }
}
