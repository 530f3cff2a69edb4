package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.LSTM;

/**
 * A server can stop a long layer call: Thread.interrupt() (here through Future.cancel(true) and a
 * plain interrupt) makes the forward or backward stop between two time steps, free its scratch
 * and throw CancellationException, with the thread's interrupt status left set.
 */
class CancellationTest {

    @TestFactory
    Stream<DynamicTest> interruptStopsALongLayerCall() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            tests.add(DynamicTest.dynamicTest(b.name() + ": forward", () -> run(b, false)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": backward", () -> run(b, true)));
        }
        return tests.stream();
    }

    private static void run(Backend backend, boolean backward) throws Exception {
        boolean reference = backend.name().equals("reference");
        // a quarter to a few seconds of work: 4,000 reference steps once took seconds, but the
        // forward ran out within the 50 ms the test used to wait on a fast VM (CI, 2026-12-04)
        int steps = reference ? 20_000 : 200_000;
        long before = Memory.bytesInUse();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        AtomicBoolean stillInterrupted = new AtomicBoolean();
        AtomicBoolean started = new AtomicBoolean();
        try (Backends.Override o = Backends.use(backend); LSTM m = LSTM.builder().inputSize(8).hiddenSize(64)
                .generator(new Generator(1)).build()) {
            Future<?> f = pool.submit(() -> {
                try (Backends.Override inner = Backends.use(backend); Scope s = Scope.open()) {
                    Tensor x = Tensor.randn(new Generator(2), steps, 1, 8);
                    if (backward) {
                        Tensor loss = m.forward(x).output().sum();
                        started.set(true);
                        loss.backward();
                    } else {
                        try (GradMode.Guard g = GradMode.noGrad()) {
                            started.set(true);
                            m.forward(x);
                        }
                    }
                } catch (CancellationException e) {
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                    throw e;
                }
                return null;
            });
            while (!started.get() && !f.isDone()) {
                Thread.sleep(1);
            }
            Thread.sleep(5);  // a few ms into the call
            long t0 = System.nanoTime();
            assertTrue(f.cancel(true), "the call was still running");
            pool.shutdown();
            assertTrue(pool.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS), "the call stopped");
            double ms = (System.nanoTime() - t0) / 1e6;
            assertTrue(ms < 2000, "stopped within 2 s of the interrupt, took " + ms + " ms");
            assertTrue(stillInterrupted.get(), "CancellationException thrown in the worker, interrupt status kept");
            m.zeroGrad();
        } finally {
            pool.shutdownNow();
        }
        assertEquals(before, Memory.bytesInUse(), "scratch and outputs freed");
    }
}
