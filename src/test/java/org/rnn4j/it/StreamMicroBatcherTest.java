package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.MicroBatcher;
import org.rnn4j.stream.StreamState;

/**
 * The micro-batcher: many threads stepping their streams through it get bitwise what each
 * stream gets stepped alone (batches really form: fewer calls than requests), with one
 * dispatcher or a batch cut across three threads; several queued
 * steps of one stream run in order; close() completes every accepted request and shutdownNow()
 * fails the rest, so no future is ever left pending; REJECT refuses when the queue is full.
 */
class StreamMicroBatcherTest {
    private static FrozenRnn model(Backend b) {
        LSTM lstm = LSTM.builder().inputSize(8).hiddenSize(32).numLayers(2).generator(new Generator(17)).build();
        return StreamTesting.freezeAndClose(lstm, new Linear(32, 4, true, new Generator(18)), b);
    }

    @TestFactory
    Stream<DynamicTest> manyThreadsEqualUnbatched() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            tests.add(DynamicTest.dynamicTest(b.name(), () -> manyThreads(b, 1)));
            tests.add(DynamicTest.dynamicTest(b.name() + ", parallelism 3", () -> manyThreads(b, 3)));
        }
        return tests.stream();
    }

    private static void manyThreads(Backend backend, int parallelism) throws Exception {
        final int threads = 16;
        final int perThread = 4;
        final int steps = 20;
        try (FrozenRnn m = model(backend)) {
            int in = m.inputSize();
            int n = threads * perThread;
            float[][][] xs = new float[n][steps][];
            int[][][] alone = new int[n][steps][];
            Random r = new Random(8);
            for (int s = 0; s < n; s++) {
                StreamState st = m.newState();
                for (int t = 0; t < steps; t++) {
                    xs[s][t] = StreamTesting.randn(r, in);
                    alone[s][t] = StreamTesting.bits(m.step(st, xs[s][t]));
                }
            }
            MicroBatcher mb = MicroBatcher.builder(m).maxBatch(32).maxWait(Duration.ofNanos(200_000)).parallelism(parallelism)
                    .build();
            List<Thread> ts = new ArrayList<>();
            List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int k = 0; k < threads; k++) {
                final int first = k * perThread;
                Thread th = new Thread(() -> {
                    try {
                        StreamState[] mine = new StreamState[perThread];
                        for (int i = 0; i < perThread; i++) {
                            mine[i] = m.newState();
                        }
                        for (int t = 0; t < steps; t++) {
                            List<CompletableFuture<float[]>> fs = new ArrayList<>();
                            for (int i = 0; i < perThread; i++) {
                                fs.add(mb.submit(mine[i], xs[first + i][t]));
                            }
                            for (int i = 0; i < perThread; i++) {
                                assertArrayEquals(alone[first + i][t], StreamTesting.bits(fs.get(i).get()),
                                        "stream " + (first + i) + " step " + t);
                            }
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                });
                ts.add(th);
                th.start();
            }
            for (Thread th : ts) {
                th.join();
            }
            mb.close();
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.get(0));
            }
            assertEquals((long) n * steps, mb.requestsStepped());
            assertTrue(mb.batches() < mb.requestsStepped(), "requests were batched: " + mb.batches() + " calls");
        }
    }

    @Test
    void queuedStepsOfOneStreamRunInOrder() throws Exception {
        try (FrozenRnn m = model(Backends.cpu()); MicroBatcher mb = MicroBatcher.builder(m).maxBatch(8).build()) {
            Random r = new Random(2);
            StreamState alone = m.newState();
            StreamState viaBatcher = m.newState();
            List<float[]> xs = new ArrayList<>();
            List<CompletableFuture<float[]>> fs = new ArrayList<>();
            for (int t = 0; t < 50; t++) {
                xs.add(StreamTesting.randn(r, m.inputSize()));
                fs.add(mb.submit(viaBatcher, xs.get(t)));
            }
            for (int t = 0; t < 50; t++) {
                assertArrayEquals(StreamTesting.bits(m.step(alone, xs.get(t))), StreamTesting.bits(fs.get(t).get()), "step " + t);
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> shutdownLosesNothing() {
        return Stream.of(true, false).map(graceful -> DynamicTest.dynamicTest(graceful ? "close()" : "shutdownNow()",
                () -> shutdown(graceful)));
    }

    private static void shutdown(boolean graceful) throws Exception {
        try (FrozenRnn m = model(Backends.cpu())) {
            MicroBatcher mb = MicroBatcher.builder(m).maxBatch(16).queueCapacity(64).build();
            final int threads = 8;
            List<CompletableFuture<float[]>> all = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicInteger rejected = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(threads);
            List<Thread> ts = new ArrayList<>();
            for (int k = 0; k < threads; k++) {
                Thread th = new Thread(() -> {
                    StreamState[] mine = {m.newState(), m.newState(), m.newState()};
                    Random r = new Random(Thread.currentThread().getId());
                    started.countDown();
                    for (int i = 0; ; i++) {
                        try {
                            all.add(mb.submit(mine[i % 3], StreamTesting.randn(r, m.inputSize())));
                        } catch (RejectedExecutionException e) {
                            rejected.incrementAndGet();
                            return;
                        }
                    }
                });
                ts.add(th);
                th.start();
            }
            started.await();
            Thread.sleep(100);
            if (graceful) {
                mb.close();
            } else {
                mb.shutdownNow();
            }
            for (Thread th : ts) {
                th.join(10_000);
                assertTrue(!th.isAlive(), "every submitter returns once the batcher is closed");
            }
            assertEquals(threads, rejected.get(), "each submitter was told the batcher closed");
            int ok = 0;
            int failed = 0;
            synchronized (all) {
                for (CompletableFuture<float[]> f : all) {
                    try {
                        f.get(10, TimeUnit.SECONDS); // a pending one would time out here
                        ok++;
                    } catch (ExecutionException | CancellationException e) {
                        Throwable c = e instanceof ExecutionException ? e.getCause() : e;
                        assertTrue(c instanceof CancellationException || c instanceof RejectedExecutionException, c.toString());
                        failed++;
                    }
                }
            }
            assertEquals(all.size(), ok + failed);
            assertTrue(ok > 0, "some requests ran");
            assertTrue(mb.isTerminated());
            assertEquals(ok, mb.requestsStepped());
        }
    }

    @Test
    void shutdownNowFailsTheBatchWaitingForCompany() throws Exception {
        // The dispatcher takes a lone request and waits up to maxWait (30 s) for more; shutdownNow
        // interrupts that wait. The gathered request is in neither the queue nor the carry list:
        // it must still fail with CancellationException, not stay pending (CI caught it lost).
        try (FrozenRnn m = model(Backends.cpu())) {
            MicroBatcher mb = MicroBatcher.builder(m).maxBatch(4).maxWait(Duration.ofSeconds(30)).build();
            CompletableFuture<float[]> f = mb.submit(m.newState(), StreamTesting.randn(new Random(5), m.inputSize()));
            Thread.sleep(200); // the dispatcher has it in hand and waits in the timed poll
            assertFalse(f.isDone(), "a lone request waits maxWait for company");
            mb.shutdownNow();
            // CompletableFuture.get rethrows a CancellationException cause as itself
            assertThrows(CancellationException.class, () -> f.get(5, TimeUnit.SECONDS));
            assertTrue(mb.isTerminated());
            assertEquals(0, mb.requestsStepped());
        }
    }

    @Test
    void rejectWhenFull() throws Exception {
        // A lone request waits maxWait (2 s) for company, time enough to hang a blocking action on
        // its future: once it runs, the dispatcher is stuck in that action (exactly what the docs
        // say never to do) and the queue of one fills deterministically.
        try (FrozenRnn m = model(Backends.cpu());
             MicroBatcher mb = MicroBatcher.builder(m).maxBatch(2).maxWait(Duration.ofSeconds(2)).queueCapacity(1)
                     .whenFull(MicroBatcher.Full.REJECT).build()) {
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            CompletableFuture<float[]> a = mb.submit(m.newState(), new float[m.inputSize()]);
            CompletableFuture<Void> stall = a.thenRun(() -> {
                entered.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(entered.await(30, TimeUnit.SECONDS), "the dispatcher ran the first request");
            CompletableFuture<float[]> b = mb.submit(m.newState(), new float[m.inputSize()]); // fills the queue
            assertThrows(RejectedExecutionException.class, () -> mb.submit(m.newState(), new float[m.inputSize()]));
            release.countDown();
            stall.get(30, TimeUnit.SECONDS);
            b.get(30, TimeUnit.SECONDS);
            assertThrows(IllegalArgumentException.class, () -> mb.submit(m.newState(), new float[3]));
        }
    }
}
