package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The pure-Java halves of the launch path: argument packing, view merging, the caching allocator. */
class ArgsTest {
    @Test
    void valuesSitAtTheirNaturalAlignment() {
        Args a = new Args().reset().i32(7).ptr(0x1000).f32(2f).strided(Strided.dense(0x2000, 10)).i64(10);
        assertArrayEquals(new int[] {0, 8, 16, 24, 24 + Args.STRIDED_BYTES}, Arrays.copyOf(a.offsets, a.count));
        assertEquals(7, a.values.getInt(0));
        assertEquals(0x1000, a.values.getLong(8));
        assertEquals(0x2000, a.values.getLong(24));
        // Strided: ndim after the pointer, 8 strides and 8 sizes
        assertEquals(1, a.values.getInt(24 + 8 + 12 * Args.MAXD));
        assertEquals(10, a.values.getInt(24 + 8 + 8 * Args.MAXD));
        assertEquals(1, a.values.getLong(24 + 8));
        assertEquals(112, Args.STRIDED_BYTES);
    }

    @Test
    void contiguousDimensionsMergeAndBroadcastOnesStay() {
        Strided c = new Strided(0, new int[] {2, 3, 4}, new int[] {12, 4, 1});
        assertEquals(1, c.ndim);
        assertEquals(24, c.shape[0]);
        Strided t = new Strided(0, new int[] {3, 4}, new int[] {1, 3}); // transposed: no merge
        assertEquals(2, t.ndim);
        Strided b = new Strided(0, new int[] {5, 1, 4}, new int[] {0, 9, 1}); // broadcast rows, size-1 dropped
        assertEquals(2, b.ndim);
        assertArrayEquals(new long[] {0, 1}, b.strides);
        Strided scalar = new Strided(0, new int[0], new int[0]);
        assertEquals(0, scalar.ndim);
        int[] many = new int[10];
        int[] st = new int[10];
        Arrays.fill(many, 2);
        for (int d = 0; d < 10; d++) {
            st[d] = 1 << (2 * (9 - d)); // gaps everywhere: nothing merges
        }
        assertThrows(UnsupportedOperationException.class, () -> new Strided(0, many, st));
    }

    @Test
    void allocatorReusesBlocksPerSizeClassAndRetriesAfterEmptyingTheCache() {
        long[] next = {4096};
        int[] mallocs = {0};
        int[] frees = {0};
        long[] limit = {3};
        CachingAllocator al = new CachingAllocator(new CachingAllocator.DeviceMemory() {
            @Override
            public long malloc(long bytes) {
                if (mallocs[0] - frees[0] >= limit[0]) {
                    return 0;
                }
                mallocs[0]++;
                next[0] += bytes;
                return next[0];
            }

            @Override
            public void free(long address) {
                frees[0]++;
            }
        });
        assertEquals(512, CachingAllocator.sizeClass(1));
        assertEquals(1024, CachingAllocator.sizeClass(513));
        assertEquals(1L << 20, CachingAllocator.sizeClass(1L << 20));
        assertEquals(2L << 20, CachingAllocator.sizeClass((1L << 20) + 1));
        assertEquals(4L << 20, CachingAllocator.sizeClass((2L << 20) + 1));
        long before = org.rnn4j.Memory.bytesInUse();
        long p = al.allocate(100, "test");
        assertEquals(before + 512, org.rnn4j.Memory.bytesInUse());
        al.release(p, 100);
        assertEquals(before, org.rnn4j.Memory.bytesInUse());
        assertEquals(512, al.cachedBytes());
        assertEquals(p, al.allocate(200, "test"), "same size class: the cached block comes back");
        assertEquals(1, mallocs[0]);
        long q = al.allocate(5000, "test");
        al.release(q, 5000);
        long r = al.allocate(6000, "test"); // 8 KiB class, cached one is reused
        assertEquals(q, r);
        long big = al.allocate(3 << 20, "test");
        al.release(big, 3 << 20);
        // the device is "full" (3 live blocks): the cache is emptied and the allocation retried
        long s = al.allocate(100_000, "test");
        assertEquals(1, frees[0]);
        al.release(s, 100_000);
        al.release(r, 6000);
        al.release(p, 200);
        assertEquals(before, org.rnn4j.Memory.bytesInUse());
        limit[0] = 0;
        al.emptyCache();
        OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> al.allocate(100, "tensor of 25 floats"));
        assertEquals(before, org.rnn4j.Memory.bytesInUse(), "a refused allocation returns its reservation");
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("tensor of 25 floats"), e.getMessage());
    }
}
