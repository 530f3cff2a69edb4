package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;

/**
 * Concurrent calls are bitwise the serial ones: a module shared by 8 threads, called with a pool
 * of random-length padded and packed batches for a bounded time, gives exactly
 * (Float.floatToRawIntBits) the results the same calls gave one at a time, on every CPU backend
 * and with the default thread budget. Covers the bidirectional layer (two native threads per
 * call, OpenBLAS thread count lowered meanwhile), the step worker's one-row and wide paths, and
 * the backward (each thread on its own copy of the module). The arithmetic of a call may depend
 * on the shapes and the configured thread budget only, never on timing or on whether the step
 * worker or an OpenBLAS thread happened to be free.
 */
class ConcurrentBitwiseTest {

    private static final int THREADS = 8;
    /** Wall time of the concurrent phase of each case (the CI budget: a few seconds in all). */
    private static final long MILLIS = Long.getLong("rnn4j.test.bitwiseMillis", 1000);

    @TestFactory
    Stream<DynamicTest> eightThreadsBitwiseSerial() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            // the reference backend is an oracle in plain Java: a smaller pool of shorter inputs
            boolean ref = b.name().equals("reference");
            int pool = ref ? 8 : 160;
            int len = ref ? 8 : 40;
            tests.add(DynamicTest.dynamicTest(b.name() + ": bidirectional 2-layer LSTM H=128, batches 1..16, lengths 1..40",
                    () -> eval(b, seed -> LSTM.builder().inputSize(64).hiddenSize(128).numLayers(2)
                            .bidirectional(true).generator(new Generator(seed)).build(), pool, 1, 16, len)));
            // depth 400 of the input projection: OpenBLAS's single- and multi-threaded drivers
            // block such a depth differently
            tests.add(DynamicTest.dynamicTest(b.name() + ": bidirectional LSTM, input 400, H=128",
                    () -> eval(b, seed -> LSTM.builder().inputSize(400).hiddenSize(128)
                            .bidirectional(true).generator(new Generator(seed)).build(), pool / 4, 1, 16, len)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": LSTM H=128, one row (step worker)",
                    () -> eval(b, seed -> LSTM.builder().inputSize(64).hiddenSize(128)
                            .generator(new Generator(seed)).build(), pool / 2, 1, 1, len)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": GRU H=128, one row (step worker)",
                    () -> eval(b, seed -> GRU.builder().inputSize(64).hiddenSize(128)
                            .generator(new Generator(seed)).build(), pool / 2, 1, 1, len)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": LSTM H=128, batches 5..16 (wide split)",
                    () -> eval(b, seed -> LSTM.builder().inputSize(64).hiddenSize(128)
                            .generator(new Generator(seed)).build(), pool / 2, 5, 16, len)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": GRU H=128, batches 1..16",
                    () -> eval(b, seed -> GRU.builder().inputSize(64).hiddenSize(128)
                            .generator(new Generator(seed)).build(), pool / 2, 1, 16, len)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": bidirectional 2-layer LSTM backward, a module copy per thread",
                    () -> backward(b, seed -> LSTM.builder().inputSize(64).hiddenSize(128).numLayers(2)
                            .bidirectional(true).generator(new Generator(seed)).build(), ref ? 2 : 12, len)));
        }
        return tests.stream();
    }

    /** One input of the pool: padded (T, B, I) with every row full length, or packed from lengths. */
    private record Input(Tensor x, int[] lengths, Tensor dy) {
    }

    private static List<Input> inputs(int count, int inputSize, int outSize, int minBatch, int maxBatch, int maxLen,
            boolean withDy) {
        Generator gen = new Generator(11);
        SplittableRandom rnd = new SplittableRandom(5);
        List<Input> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int b = minBatch + rnd.nextInt(maxBatch - minBatch + 1);
            int[] len = new int[b];
            int t = 0;
            int total = 0;
            for (int k = 0; k < b; k++) {
                len[k] = 1 + rnd.nextInt(maxLen);
                t = Math.max(t, len[k]);
                total += len[k];
            }
            boolean packed = i % 2 == 0;
            Tensor x = Tensor.randn(gen, t, b, inputSize);
            Tensor dy = withDy ? (packed ? Tensor.randn(gen, total, outSize) : Tensor.randn(gen, t, b, outSize)) : null;
            out.add(new Input(x, packed ? len : null, dy));
        }
        return out;
    }

    /** Output, h_n and c_n of one call, flattened. */
    private static float[] forward(RNNBase m, Input in) {
        try (Scope s = Scope.open()) {
            List<Tensor> parts = new ArrayList<>();
            run(m, in, parts);
            return concat(parts);
        }
    }

    private static void run(RNNBase m, Input in, List<Tensor> parts) {
        if (in.lengths() == null) {
            RnnOutput o = m instanceof LSTM l ? l.forward(in.x()) : ((GRU) m).forward(in.x());
            parts.add(o.output());
            parts.add(o.hN());
            if (o.cN() != null) {
                parts.add(o.cN());
            }
        } else {
            PackedSequence p = RnnUtils.packPaddedSequence(in.x(), in.lengths(), false, false);
            PackedRnnOutput o = m instanceof LSTM l ? l.forward(p) : ((GRU) m).forward(p);
            parts.add(o.output().data());
            parts.add(o.hN());
            if (o.cN() != null) {
                parts.add(o.cN());
            }
        }
    }

    private static float[] concat(List<Tensor> parts) {
        List<float[]> arrays = new ArrayList<>();
        int n = 0;
        for (Tensor t : parts) {
            float[] a = t.toArray();
            arrays.add(a);
            n += a.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] a : arrays) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** The gradients of every parameter for loss = sum(output * dy) + sum(h_n) (+ sum(c_n)). */
    private static float[] gradients(RNNBase m, Input in) {
        try (Scope s = Scope.open()) {
            m.zeroGrad();
            List<Tensor> parts = new ArrayList<>();
            run(m, in, parts);
            Tensor loss = parts.get(0).mul(in.dy()).sum();
            for (int k = 1; k < parts.size(); k++) {
                loss = loss.add(parts.get(k).sum());
            }
            loss.backward();
            List<Tensor> grads = new ArrayList<>();
            for (Tensor p : m.parameters()) {
                grads.add(p.grad());
            }
            return concat(grads);
        }
    }

    /** Counts calls that differ bitwise from the serial result. */
    private static final class Tally {
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger differing = new AtomicInteger();
        final boolean[] inputDiffers;
        double maxDiff;

        Tally(int n) {
            inputDiffers = new boolean[n];
        }

        void check(int i, float[] want, float[] got) {
            calls.incrementAndGet();
            boolean same = want.length == got.length;
            double d = same ? 0 : Double.POSITIVE_INFINITY;
            for (int k = 0; same && k < want.length || d > 0 && k < Math.min(want.length, got.length); k++) {
                if (Float.floatToRawIntBits(want[k]) != Float.floatToRawIntBits(got[k])) {
                    same = false;
                    d = Math.max(d, Math.abs((double) want[k] - got[k]));
                }
            }
            if (!same) {
                differing.incrementAndGet();
                synchronized (this) {
                    inputDiffers[i] = true;
                    maxDiff = Math.max(maxDiff, d);
                }
            }
        }

        String report() {
            int inputs = 0;
            for (boolean b : inputDiffers) {
                inputs += b ? 1 : 0;
            }
            return differing.get() + " of " + calls.get() + " concurrent calls differ from the serial result (max |diff| "
                    + maxDiff + ", on " + inputs + " of " + inputDiffers.length + " inputs)";
        }
    }

    /** Runs calls from THREADS threads for MILLIS (and at least one pass over the pool). */
    private static void hammer(int n, Tally tally, ThreadCall call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            long deadline = System.nanoTime() + MILLIS * 1_000_000L;
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> futures = new ArrayList<>();
            for (int th = 0; th < THREADS; th++) {
                final int thread = th;
                futures.add(pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(100 + thread);
                    for (;;) {
                        int k = next.getAndIncrement();
                        if (k >= n && System.nanoTime() > deadline) {
                            return null;
                        }
                        int i = k < n ? k : rnd.nextInt(n);  // the whole pool once, then random picks
                        call.run(thread, i);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @FunctionalInterface
    private interface ThreadCall {
        void run(int thread, int input) throws Exception;
    }

    private static void eval(Backend backend, IntFunction<RNNBase> make, int n, int minBatch, int maxBatch, int maxLen)
            throws Exception {
        try (Backends.Override o = Backends.use(backend); Scope scope = Scope.open();
                GradMode.Guard g = GradMode.noGrad()) {
            RNNBase module = make.apply(3);
            try {
                module.eval();
                List<Input> pool = inputs(n, module.inputSize(), 0, minBatch, maxBatch, maxLen, false);
                List<float[]> serial = new ArrayList<>();
                for (Input in : pool) {
                    serial.add(forward(module, in));
                }
                Tally tally = new Tally(n);
                hammer(n, tally, (thread, i) -> {
                    try (Backends.Override inner = Backends.use(backend); GradMode.Guard ng = GradMode.noGrad()) {
                        tally.check(i, serial.get(i), forward(module, pool.get(i)));
                    }
                });
                assertEquals(0, tally.differing.get(), tally.report());
            } finally {
                module.close();
            }
        }
    }

    private static void backward(Backend backend, IntFunction<RNNBase> make, int n, int maxLen) throws Exception {
        try (Backends.Override o = Backends.use(backend); Scope scope = Scope.open()) {
            RNNBase[] modules = new RNNBase[THREADS + 1];
            try {
                for (int k = 0; k < modules.length; k++) {
                    modules[k] = make.apply(3);  // the same seed: identical copies
                    modules[k].train();
                }
                int out = modules[0].hiddenSize() * (modules[0].bidirectional() ? 2 : 1);
                List<Input> pool = inputs(n, modules[0].inputSize(), out, 1, 16, maxLen, true);
                List<float[]> serial = new ArrayList<>();
                for (Input in : pool) {
                    serial.add(gradients(modules[THREADS], in));
                }
                Tally tally = new Tally(n);
                hammer(n, tally, (thread, i) -> {
                    try (Backends.Override inner = Backends.use(backend)) {
                        tally.check(i, serial.get(i), gradients(modules[thread], pool.get(i)));
                    }
                });
                assertEquals(0, tally.differing.get(), tally.report());
            } finally {
                for (RNNBase m : modules) {
                    if (m != null) {
                        m.close();
                    }
                }
            }
        }
    }
}
