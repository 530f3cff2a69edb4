package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.backend.Backend;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.StreamState;

/**
 * Batch invariance, bitwise (Float.floatToRawIntBits), on every CPU backend: each stream's
 * outputs and states stepped alone equal those it gets inside random micro-batches of 1..256
 * streams (a new random makeup every step, many seeds), from several threads at once, and as
 * one chunk ({@code advance}) of all its steps.
 */
class StreamBatchInvarianceTest {
    private static final int STREAMS = 300;
    private static final int STEPS = 6;

    @TestFactory
    Stream<DynamicTest> aloneEqualsAnyBatch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (StreamTesting.Net net : StreamTesting.nets(11)) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + net, () -> {
                    try (net) {
                        run(b, net);
                    }
                }));
            }
        }
        return tests.stream();
    }

    private static void run(Backend backend, StreamTesting.Net net) throws Exception {
        try (FrozenRnn m = FrozenRnn.freeze(net.rnn(), net.head(), backend)) {
            int in = m.inputSize();
            int out = m.outputSize();
            Random r = new Random(5);
            float[][][] xs = new float[STREAMS][STEPS][];
            for (int s = 0; s < STREAMS; s++) {
                for (int t = 0; t < STEPS; t++) {
                    xs[s][t] = StreamTesting.randn(r, in);
                }
            }
            // alone, one step at a time
            int[][][] alone = new int[STREAMS][STEPS][];
            int[][] aloneState = new int[STREAMS][];
            for (int s = 0; s < STREAMS; s++) {
                try (StreamState st = m.newState()) {
                    for (int t = 0; t < STEPS; t++) {
                        alone[s][t] = StreamTesting.bits(m.step(st, xs[s][t]));
                    }
                    aloneState[s] = StreamTesting.bits(st.toArray());
                }
            }
            // one chunk per stream, all steps' outputs and the last one's
            for (int s = 0; s < STREAMS; s += 7) {
                float[] chunk = new float[STEPS * in];
                for (int t = 0; t < STEPS; t++) {
                    System.arraycopy(xs[s][t], 0, chunk, t * in, in);
                }
                try (StreamState a = m.newState(); StreamState c = m.newState()) {
                    float[] all = m.advance(a, chunk, true);
                    float[] last = m.advance(c, chunk, false);
                    for (int t = 0; t < STEPS; t++) {
                        float[] y = java.util.Arrays.copyOfRange(all, t * out, (t + 1) * out);
                        assertArrayEquals(alone[s][t], StreamTesting.bits(y), "advance(all) stream " + s + " step " + t);
                    }
                    assertArrayEquals(alone[s][STEPS - 1], StreamTesting.bits(last), "advance(last) stream " + s);
                    assertArrayEquals(aloneState[s], StreamTesting.bits(a.toArray()), "advance state stream " + s);
                }
            }
            // random micro-batches, a new makeup every step, several seeds, some runs threaded
            int seeds = backend.name().equals("reference") ? 3 : 8; // the reference is slow Java
            for (int seed = 0; seed < seeds; seed++) {
                boolean threaded = seed % 2 == 1;
                Random rb = new Random(1000 + seed);
                StreamState[] states = new StreamState[STREAMS];
                for (int s = 0; s < STREAMS; s++) {
                    states[s] = m.newState();
                }
                ExecutorService pool = threaded ? Executors.newFixedThreadPool(4) : null;
                try {
                    for (int t = 0; t < STEPS; t++) {
                        List<Integer> order = new ArrayList<>();
                        for (int s = 0; s < STREAMS; s++) {
                            order.add(s);
                        }
                        Collections.shuffle(order, rb);
                        List<int[]> batches = new ArrayList<>();
                        for (int i = 0; i < STREAMS; ) {
                            int n = Math.min(STREAMS - i, 1 + rb.nextInt(rb.nextBoolean() ? 256 : 8));
                            int[] ids = new int[n];
                            for (int k = 0; k < n; k++) {
                                ids[k] = order.get(i + k);
                            }
                            batches.add(ids);
                            i += n;
                        }
                        final int step = t;
                        List<Future<?>> fs = new ArrayList<>();
                        for (int[] ids : batches) {
                            Runnable job = () -> {
                                StreamState[] bs = new StreamState[ids.length];
                                float[] x = new float[ids.length * in];
                                float[] y = new float[ids.length * out];
                                for (int k = 0; k < ids.length; k++) {
                                    bs[k] = states[ids[k]];
                                    System.arraycopy(xs[ids[k]][step], 0, x, k * in, in);
                                }
                                m.stepBatch(bs, x, y);
                                for (int k = 0; k < ids.length; k++) {
                                    float[] yk = java.util.Arrays.copyOfRange(y, k * out, (k + 1) * out);
                                    assertArrayEquals(alone[ids[k]][step], StreamTesting.bits(yk),
                                            "stream " + ids[k] + " step " + step + " in a batch of " + ids.length);
                                }
                            };
                            if (pool != null) {
                                fs.add(pool.submit(job));
                            } else {
                                job.run();
                            }
                        }
                        for (Future<?> f : fs) {
                            f.get();
                        }
                    }
                } finally {
                    if (pool != null) {
                        pool.shutdown();
                    }
                }
                for (int s = 0; s < STREAMS; s++) {
                    assertArrayEquals(aloneState[s], StreamTesting.bits(states[s].toArray()), "state of stream " + s);
                    states[s].close();
                }
            }
        }
    }
}
