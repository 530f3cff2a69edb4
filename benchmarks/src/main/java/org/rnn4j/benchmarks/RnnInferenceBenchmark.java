package org.rnn4j.benchmarks;

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
import org.rnn4j.nn.RNNBase;

/**
 * Inference of whole layers through the public API (module.forward under no-grad), configs A, B
 * and C (the packed config P is {@link PackedRnnBenchmark}). Milliseconds per call; compare with
 * {@code benchmarks/pytorch/bench_rnn.py --mode infer} run with the same thread count.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RnnInferenceBenchmark {
    @Param({"A", "B", "C"})
    public String config;

    @Param({"LSTM", "GRU", "RNN"})
    public String cell;

    private RNNBase module;
    private Tensor input;

    @Setup(Level.Trial)
    public void setup() {
        BenchEnv.ensure();
        RnnConfigs.Shape s = RnnConfigs.shape(config);
        module = RnnConfigs.module(cell, s);
        module.eval();
        input = Tensor.randn(new Generator(2), s.steps(), s.batch(), s.input());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        module.close();
        input.close();
    }

    @Benchmark
    public float forward() {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor h = module.forward(input).hN();
            return h.get(0, 0, 0);
        }
    }
}
