package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.ReferenceBackend;
import org.rnn4j.loss.Losses;
import org.rnn4j.loss.Reduction;
import org.rnn4j.testing.MemoryProbe;

/**
 * Issue 13, no leak on any path: a constructor or builder that fails part-way frees what it
 * made before throwing, and a module's close() frees everything its constructor made. Measured
 * without a GC in between: {@link Memory#bytesInUse()} must be back at its start right after the
 * call (the Cleaner would hide the leak only until memory runs out).
 */
class NoLeakOnFailureTest {

    /** The reference backend, except that allocation number {@code failAt} (0-based) throws OutOfMemoryError. */
    static Backend failingAt(int failAt, String failMethod) {
        AtomicInteger allocations = new AtomicInteger();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("allocate") && allocations.getAndIncrement() == failAt) {
                        throw new OutOfMemoryError("test: allocation " + failAt + " refused");
                    }
                    if (method.getName().equals(failMethod)) {
                        throw new IllegalStateException("test: " + failMethod + " fails");
                    }
                    try {
                        return method.invoke(ReferenceBackend.INSTANCE, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private static void assertNoLeak(Supplier<Object> build, String what) {
        long start = MemoryProbe.settle();
        Throwable t = assertThrows(Throwable.class, build::get, what);
        assertEquals(start, Memory.bytesInUse(), what + " kept memory after failing with " + t);
    }

    @Test
    void builderRefusedOnSizeKeepsNothing() {
        // weight_ih_l0 (46341, 6) used to be made (1.1 MB), then weight_hh_l0 (46341, 46341) refused
        assertNoLeak(() -> RNN.builder().inputSize(6).hiddenSize(46341).build(), "RNN(6, 46341)");
        assertNoLeak(() -> LSTM.builder().inputSize(6).hiddenSize(20000).numLayers(2).build(), "LSTM(6, 20000, 2 layers)");
    }

    @Test
    void constructorsFailingPartWayFreeWhatTheyMade() {
        for (int failAt = 0; failAt < 12; failAt++) {
            int k = failAt;
            try (Backends.Override o = Backends.use(failingAt(k, null))) {
                assertNoLeak(() -> LSTM.builder().inputSize(5).hiddenSize(7).numLayers(2).bidirectional(true).projSize(3)
                        .generator(new Generator(1)).build(), "LSTM failing at allocation " + k);
            }
            if (k < 4) {
                try (Backends.Override o = Backends.use(failingAt(k, null))) {
                    assertNoLeak(() -> new GRUCell(5, 7, true, new Generator(1)), "GRUCell failing at allocation " + k);
                }
            }
            if (k < 2) {
                try (Backends.Override o = Backends.use(failingAt(k, null))) {
                    assertNoLeak(() -> new Linear(5, 7, true, new Generator(1)), "Linear failing at allocation " + k);
                }
            }
        }
    }

    @Test
    void embeddingWithPaddingFreesEverythingOnClose() {
        long start = MemoryProbe.settle();
        // the padding row's view (made to zero it) kept the 256,000-byte weight alive after close()
        new Embedding(1000, 64, 0, new Generator(1)).close();
        assertEquals(start, Memory.bytesInUse());
        new Embedding(1000, 64, -1, new Generator(1)).close();
        assertEquals(start, Memory.bytesInUse());
        new Embedding(1000, 64).close();
        assertEquals(start, Memory.bytesInUse());
    }

    @Test
    void crossEntropyWhoseKernelFailsFreesItsOutputs() {
        try (Tensor logits = Tensor.randn(new Generator(3), 4, 5).requiresGrad(true)) {
            long start = Memory.bytesInUse();
            try (Backends.Override o = Backends.use(failingAt(-1, "crossEntropy"))) {
                assertThrows(IllegalStateException.class,
                        () -> Losses.crossEntropy(logits, new int[] {0, 1, 2, 3}, Reduction.MEAN, -100));
            }
            assertEquals(start, Memory.bytesInUse(), "loss and gradient buffers leaked");
            assertTrue(logits.grad() == null);
        }
    }
}
