package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Memory;
import org.rnn4j.Tensor;
import org.rnn4j.nativecpu.NativeBackend;
import org.rnn4j.nativecpu.NativeKernels;

/**
 * The native backend's cache of freed big blocks (host_memory.h): its limit is the environment's
 * {@code RNN4J_HOST_CACHE_MB} when set, else a sixteenth of the off-heap budget between 256 MiB
 * and 1 GiB, and freed tensor blocks are kept up to that limit, past the old fixed 256 MiB (a
 * training step of config C frees more than that at once).
 */
class HostBlockCacheTest {

    private static final String ENV = "RNN4J_HOST_CACHE_MB";
    private static final long MIB = 1L << 20;

    @BeforeEach
    void nativeLoaded() {
        CpuBackends.assumeNative();
    }

    @Test
    void limitIsTheEnvironmentsOrASixteenthOfTheBudget() {
        long expected = CpuBackends.envSet(ENV) ? Long.parseLong(System.getenv(ENV).trim()) * MIB
                : Math.max(256 * MIB, Math.min(1024 * MIB, Memory.budgetBytes() / 16));
        assertEquals(expected, NativeBackend.hostCacheBytes(), "host block cache limit (budget "
                + Memory.budgetBytes() + " bytes)");
    }

    /**
     * Twenty freed blocks of 16 MiB (320 MiB) are all kept when the limit allows: after the frees
     * the cache holds at least 320 MiB. A put is refused only when the cache is within 16 MiB of
     * its limit, and a cached 16 MiB block is only ever replaced by a bigger one, so this holds
     * whatever other tests left in the cache. With the old fixed limit it held at most 256 MiB.
     */
    @Test
    void freedBlocksAreKeptUpToTheLimit() {
        long limit = NativeBackend.hostCacheBytes();
        assumeTrue(limit >= 336 * MIB, () -> "cache limit " + limit + " bytes: below 336 MiB here");
        List<Tensor> ts = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                ts.add(Tensor.zeros(4 << 20)); // 16 MiB each
            }
        } finally {
            for (Tensor t : ts) {
                t.close();
            }
        }
        long held = NativeKernels.host_cache_held();
        assertTrue(held >= 320 * MIB, "cache holds " + held + " bytes after freeing 20 blocks of 16 MiB, limit " + limit);
        assertTrue(held <= limit, "cache holds " + held + " bytes, above its limit " + limit);
    }
}
