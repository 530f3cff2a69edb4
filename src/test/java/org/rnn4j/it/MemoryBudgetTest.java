package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Memory;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;

/**
 * The off-heap budget: past it an allocation is a clean OutOfMemoryError naming the request and
 * the budget (never a kill by the OS), and native garbage left to the Cleaner is collected before
 * an allocation fails, so a loop that never closes its tensors runs within the budget.
 */
class MemoryBudgetTest {

    @TestFactory
    Stream<DynamicTest> budget() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            tests.add(DynamicTest.dynamicTest(b.name() + ": past the budget is a clear OutOfMemoryError", () -> refuses(b)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": unclosed garbage is collected near the budget", () -> collects(b)));
        }
        return tests.stream();
    }

    private static void refuses(Backend backend) {
        long saved = Memory.budgetBytes();
        long before = Memory.bytesInUse();
        try (Backends.Override o = Backends.use(backend)) {
            Memory.setBudget(before + (4L << 20));
            try (Tensor fits = Tensor.zeros(256, 1024)) {  // 1 MiB
                assertEquals(1f, fits.add(1f).sum().item() / (256 * 1024));
            }
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> Tensor.zeros(4096, 1024)); // 16 MiB
            assertTrue(e.getMessage().contains("budget") && e.getMessage().contains("4194304 floats"),
                    e.getMessage());
        } finally {
            Memory.setBudget(saved);
        }
        // <=: the GC the refusal ran may also have freed garbage an earlier test left to the Cleaner
        assertTrue(Memory.bytesInUse() <= before, "a refused allocation holds nothing: " + Memory.bytesInUse() + " > " + before);
    }

    private static void collects(Backend backend) {
        long saved = Memory.budgetBytes();
        long before = Memory.bytesInUse();
        try (Backends.Override o = Backends.use(backend)) {
            Memory.setBudget(before + (8L << 20));
            // 200 MiB allocated in 1 MiB tensors that are never closed: only the GC + Cleaner frees them
            for (int i = 0; i < 200; i++) {
                Tensor.zeros(256, 1024).fill(i);
            }
            assertTrue(Memory.bytesInUse() <= before + (8L << 20), "in use " + Memory.bytesInUse());
        } finally {
            Memory.setBudget(saved);
        }
    }
}
