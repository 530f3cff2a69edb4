package org.rnn4j.benchmarks;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.nn.LSTM;
import org.rnn4j.stream.FrozenRnn;
import org.rnn4j.stream.MicroBatcher;
import org.rnn4j.stream.StreamState;

/**
 * Streaming inference, LSTM I=128 H=256 (one layer): one benchmark op = one step of each of
 * {@code streams} independent streams, the state carried over. Microseconds per op; streams/s =
 * streams / op time; through the batcher the op time is also each request's latency (all of
 * them are submitted at once and the op ends when the last future completes).
 *
 * <ul>
 *   <li>{@code layerForwardAlone}: the named reference, today's API: every stream stepped alone
 *       with {@code LSTM.forward} on a (1, 1, I) input and its own (h, c).</li>
 *   <li>{@code frozenAlone}: every stream stepped alone with {@link FrozenRnn#step}.</li>
 *   <li>{@code stepBatch}: all streams in one {@link FrozenRnn#stepBatch} call (the kernel
 *       without the batcher).</li>
 *   <li>{@code batcher}: every stream's step submitted to a {@link MicroBatcher} (maxBatch 256,
 *       maxWait 100 µs), then all futures joined.</li>
 * </ul>
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class StreamBenchmark {
    static final int I = 128;
    static final int H = 256;

    @Param({"1", "16", "64", "256"})
    public int streams;

    /** The batcher's largest batch. */
    @Param({"256"})
    public int maxBatch;

    /** The batcher's row ranges stepped at once ({@code MicroBatcher.Builder.parallelism}). */
    @Param({"1"})
    public int parallelism;

    private LSTM lstm;
    private FrozenRnn model;
    private MicroBatcher batcher;
    private StreamState[] states;
    private float[][] xs;
    private float[] xBatch;
    private float[] yBatch;
    private Tensor x3;
    private Tensor[] h;
    private Tensor[] c;
    @SuppressWarnings("unchecked")
    private CompletableFuture<float[]>[] futures;

    @Setup(Level.Trial)
    public void setup() {
        BenchEnv.ensure();
        Generator g = new Generator(3);
        lstm = LSTM.builder().inputSize(I).hiddenSize(H).generator(g).build();
        lstm.eval();
        model = FrozenRnn.freeze(lstm);
        System.out.println("# stream kernel: " + model.describe());
        batcher = MicroBatcher.builder(model).maxBatch(maxBatch).maxWait(Duration.ofNanos(100_000))
                .parallelism(parallelism).build();
        states = new StreamState[streams];
        xs = new float[streams][];
        java.util.Random r = new java.util.Random(1);
        xBatch = new float[streams * I];
        for (int s = 0; s < streams; s++) {
            states[s] = model.newState();
            xs[s] = new float[I];
            for (int i = 0; i < I; i++) {
                xs[s][i] = (float) r.nextGaussian();
            }
            System.arraycopy(xs[s], 0, xBatch, s * I, I);
        }
        yBatch = new float[streams * model.outputSize()];
        futures = new CompletableFuture[streams];
        x3 = Tensor.randn(g, 1, 1, I);
        h = new Tensor[streams];
        c = new Tensor[streams];
        for (int s = 0; s < streams; s++) {
            h[s] = Tensor.zeros(1, 1, H);
            c[s] = Tensor.zeros(1, 1, H);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        batcher.close();
        model.close();
        lstm.close();
    }

    @Benchmark
    public float layerForwardAlone() {
        for (int s = 0; s < streams; s++) {
            try (Scope sc = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
                var out = lstm.forward(x3, h[s], c[s]);
                h[s].close();
                c[s].close();
                h[s] = sc.keep(out.hN());
                c[s] = sc.keep(out.cN());
            }
        }
        return 0f;
    }

    @Benchmark
    public float frozenAlone() {
        float acc = 0;
        for (int s = 0; s < streams; s++) {
            acc += model.step(states[s], xs[s])[0];
        }
        return acc;
    }

    @Benchmark
    public float stepBatch() {
        model.stepBatch(states, xBatch, yBatch);
        return yBatch[0];
    }

    @Benchmark
    public float batcher() {
        for (int s = 0; s < streams; s++) {
            futures[s] = batcher.submit(states[s], xs[s]);
        }
        float acc = 0;
        for (int s = 0; s < streams; s++) {
            acc += futures[s].join()[0];
        }
        return acc;
    }
}
