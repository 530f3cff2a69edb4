package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.LSTM;
import org.rnn4j.optim.Adam;

/**
 * Issue 13, misuse detected: one module and its optimizer trained by two threads at once fail
 * fast with an IllegalStateException that says so (it used to be a NullPointerException "grad
 * is null" or a closed-tensor error deep in Optimizer.step), and a refused call changes
 * nothing. On every CPU backend.
 */
class ConcurrentTrainingMisuseTest {

    @TestFactory
    Stream<DynamicTest> trainingFromTwoThreads() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            tests.add(DynamicTest.dynamicTest(b.name() + ": a call overlapping another thread's is refused, changing nothing",
                    () -> overlappingCallIsRefused(b)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": two training loops on one model only ever see the clear error",
                    () -> twoTrainingLoops(b)));
        }
        return tests.stream();
    }

    private static LSTM model() {
        return LSTM.builder().inputSize(3).hiddenSize(8).generator(new Generator(5)).build();
    }

    private static Tensor loss(LSTM m, Generator g) {
        Tensor x = Tensor.randn(g, 4, 2, 3);
        return Losses.mse(m.forward(x).output(), Tensor.zeros(4, 2, 8));
    }

    private static void assertClear(IllegalStateException e) {
        assertTrue(e.getMessage().contains("in use by thread") && e.getMessage().contains("one thread at a time"), e.getMessage());
    }

    /**
     * Deterministic: another thread holds the first parameter's gradient as backward, zeroGrad
     * or step do for their duration; every training call of this thread is refused before it
     * changes anything, and works again once the other thread is done.
     */
    private void overlappingCallIsRefused(Backend backend) throws Exception {
        try (Backends.Override o = Backends.use(backend); LSTM m = model(); Adam opt = new Adam(m.parameters(), 0.01)) {
            Generator g = new Generator(1);
            try (Scope s = Scope.open()) {
                loss(m, g).backward();
            }
            Tensor p0 = m.parameters().get(0);
            Tensor p1 = m.parameters().get(1);
            float[] before = p1.toArray();
            float[] grad1 = p1.grad().toArray();
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            Thread other = new Thread(() -> {
                boolean claimed = p0.claimGrad("test");
                held.countDown();
                try {
                    done.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    if (claimed) {
                        p0.releaseGrad();
                    }
                }
            }, "other-trainer");
            other.start();
            held.await();
            try {
                assertClear(assertThrows(IllegalStateException.class, opt::step));
                assertEquals(0, opt.stepCount(1), "a refused step advanced the state");
                assertArrayEquals(before, p1.toArray(), "a refused step moved a parameter");
                assertClear(assertThrows(IllegalStateException.class, opt::zeroGrad));
                assertClear(assertThrows(IllegalStateException.class, m::zeroGrad));
                assertNotNull(p1.grad(), "a refused zeroGrad cleared a gradient");
                try (Scope s = Scope.open()) {
                    Tensor l = loss(m, g);
                    IllegalStateException e = assertThrows(IllegalStateException.class, l::backward);
                    assertClear(e);
                    assertTrue(e.getMessage().contains("other-trainer"), e.getMessage());
                }
                assertArrayEquals(grad1, p1.grad().toArray(), "a refused backward accumulated into a gradient");
            } finally {
                done.countDown();
                other.join();
            }
            opt.step();   // the other thread is done: everything works again
            assertEquals(1, opt.stepCount(1));
            opt.zeroGrad();
            assertNull(p1.grad());
        }
    }

    /** Two real loops on one model and optimizer: whatever interleaving happens, the only error is the clear one. */
    private void twoTrainingLoops(Backend backend) throws Exception {
        try (Backends.Override o = Backends.use(backend); LSTM m = model(); Adam opt = new Adam(m.parameters(), 0.01)) {
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            CyclicBarrier start = new CyclicBarrier(2);
            Thread[] threads = new Thread[2];
            for (int t = 0; t < threads.length; t++) {
                int seed = t;
                threads[t] = new Thread(() -> {
                    try (Backends.Override inner = Backends.use(backend)) {
                        Generator g = new Generator(seed);
                        start.await();
                        for (int it = 0; it < 150; it++) {
                            try (Scope s = Scope.open()) {
                                opt.zeroGrad();
                                loss(m, g).backward();
                                opt.step();
                            } catch (Throwable e) {
                                errors.add(e);
                            }
                        }
                    } catch (Exception e) {
                        errors.add(e);
                    }
                }, "trainer-" + t);
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (Throwable e : errors) {
                if (!(e instanceof IllegalStateException ise)) {
                    throw new AssertionError("unexpected " + e, e);
                }
                assertClear(ise);
            }
            // nothing is left claimed: one thread trains normally afterwards
            try (Scope s = Scope.open()) {
                opt.zeroGrad();
                loss(m, new Generator(9)).backward();
                opt.step();
            }
        }
    }
}
