package org.rnn4j;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Off-heap memory held by rnn4j tensors, and its budget.
 *
 * <p>The GC sees only the heap: a program that leaves tensors to the Cleaner instead of closing
 * them can hold gigabytes of native garbage for kilobytes of live state, and inside a container
 * the kernel's OOM killer ends the process (exit 137) instead of an exception. So every tensor
 * allocation first reserves its bytes against a budget, like the JVM's own direct-memory limit.
 * When a reservation would pass the budget, rnn4j runs the GC and waits for the Cleaner's pending
 * frees (with growing pauses, about half a second in all) before it gives up with an
 * {@link OutOfMemoryError} that names the request, the budget and what is in use.
 *
 * <p>The budget: {@code -Drnn4j.memory.budget=BYTES} (suffixes k, m, g; e.g. {@code 6g}), else
 * {@code RNN4J_MEMORY_BUDGET}, else 90% of what the machine or container leaves beside the heap:
 * {@code 0.9 * (min(physical memory, cgroup memory limit) - max heap)}, at least 256 MiB.
 * {@link #setBudget} changes it at run time.
 */
public final class Memory {
    /** System property holding the budget in bytes (suffixes k, m, g allowed). */
    public static final String BUDGET_PROPERTY = "rnn4j.memory.budget";
    /** Environment variable read when the property is absent. */
    public static final String BUDGET_ENV = "RNN4J_MEMORY_BUDGET";

    private static final AtomicLong IN_USE = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();
    private static volatile long budget = defaultBudget();

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

    /** Starts a new peak measurement: sets {@link #peakBytes()} to the bytes in use now. */
    public static void resetPeak() {
        PEAK.set(IN_USE.get());
    }

    /** The off-heap budget in bytes. */
    public static long budgetBytes() {
        return budget;
    }

    /**
     * Sets the off-heap budget; allocations already made stay.
     *
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public static void setBudget(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("Memory.setBudget: argument 'bytes' must be > 0, got " + bytes);
        }
        budget = bytes;
    }

    /**
     * For storage implementations: reserves {@code bytes} before allocating them, running the GC
     * and waiting for pending frees when the budget is reached.
     *
     * @param what the request in words, for the error (e.g. "tensor of 268435456 floats")
     * @throws OutOfMemoryError if the budget cannot hold the request even after the frees
     */
    public static void reserve(long bytes, String what) {
        if (tryReserve(bytes)) {
            return;
        }
        // native garbage left to the Cleaner: let the GC find it, then give the Cleaner time
        long pause = 1;
        for (int attempt = 0; attempt < 9; attempt++) {
            System.gc();
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            if (tryReserve(bytes)) {
                return;
            }
            pause *= 2;
        }
        throw new OutOfMemoryError("rnn4j: cannot allocate " + bytes + " bytes for a " + what + ": off-heap budget "
                + budget + " bytes, " + IN_USE.get() + " in use after a GC (close tensors you no longer need, or raise -D"
                + BUDGET_PROPERTY + ")");
    }

    private static boolean tryReserve(long bytes) {
        while (true) {
            long now = IN_USE.get();
            long next = now + bytes;
            if (bytes > 0 && (next > budget || next < 0)) {
                return false;
            }
            if (IN_USE.compareAndSet(now, next)) {
                PEAK.accumulateAndGet(next, Math::max);
                return true;
            }
        }
    }

    /** For storage implementations: accounts for a free. */
    public static void freed(long bytes) {
        IN_USE.addAndGet(-bytes);
    }

    /** Parses a byte count with an optional k/m/g suffix; -1 if it is not one. */
    static long parseBytes(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mul = 1;
        if (t.endsWith("k") || t.endsWith("m") || t.endsWith("g")) {
            mul = t.endsWith("k") ? 1L << 10 : t.endsWith("m") ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            return v > 0 && v <= Long.MAX_VALUE / mul ? v * mul : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static long defaultBudget() {
        String what = BUDGET_PROPERTY;
        String s = System.getProperty(BUDGET_PROPERTY);
        if (s == null || s.isBlank()) {
            what = BUDGET_ENV;
            s = System.getenv(BUDGET_ENV);
        }
        if (s != null && !s.isBlank()) {
            long v = parseBytes(s);
            if (v > 0) {
                return v;
            }
            System.err.println("rnn4j: " + what + "='" + s + "' is not a byte count (e.g. 4294967296 or 4g); using the"
                    + " default budget");
        }
        long machine = physicalMemory();
        long cgroup = cgroupLimit();
        long limit = cgroup > 0 ? Math.min(machine, cgroup) : machine;
        long heap = Runtime.getRuntime().maxMemory();
        long free = limit - (heap == Long.MAX_VALUE ? 0 : heap);
        return Math.max(256L << 20, (long) (0.9 * free));
    }

    private static long physicalMemory() {
        try {
            java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
                return sun.getTotalMemorySize();
            }
        } catch (RuntimeException | LinkageError e) {
            // not a HotSpot-style JVM: fall through
        }
        return Long.MAX_VALUE / 2;
    }

    /** The container's memory limit (cgroup v2, else v1), or -1 when none is set or readable. */
    private static long cgroupLimit() {
        for (String f : new String[] {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
            try {
                Path p = Path.of(f);
                if (Files.isReadable(p)) {
                    String v = Files.readString(p).trim();
                    if (!v.equals("max")) {
                        long n = Long.parseLong(v);
                        if (n > 0 && n < (1L << 60)) {
                            return n;
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                // unreadable: no limit known
            }
        }
        return -1;
    }
}
