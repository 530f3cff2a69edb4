package org.rnn4j.benchmarks;

import java.util.List;
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
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.optim.SGD;

/**
 * One training step — forward, backward of sum(output * g), SGD step — for configs A, B and C
 * (packed P: {@link PackedRnnBenchmark}), exactly what {@code bench_rnn.py --mode train} times.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RnnTrainBenchmark {
    @Param({"A", "B", "C"})
    public String config;

    @Param({"LSTM", "GRU", "RNN"})
    public String cell;

    private RNNBase module;
    private Tensor input;
    private Tensor upstream;
    private SGD opt;

    @Setup(Level.Trial)
    public void setup() {
        BenchEnv.ensure();
        RnnConfigs.Shape s = RnnConfigs.shape(config);
        module = RnnConfigs.module(cell, s);
        Generator g = new Generator(2);
        input = Tensor.randn(g, s.steps(), s.batch(), s.input());
        upstream = Tensor.randn(g, s.steps(), s.batch(), module.directions() * module.outputSize());
        List<Tensor> params = module.parameters();
        opt = SGD.builder(params).lr(RnnConfigs.TRAIN_LR).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
        module.close();
        input.close();
        upstream.close();
    }

    @Benchmark
    public float step() {
        try (Scope s = Scope.open()) {
            opt.zeroGrad();
            RnnOutput r = module.forward(input);
            Tensor out = r.output();
            Tensor loss = out.mul(upstream).sum();
            loss.backward();
            opt.step();
            return loss.item();
        }
    }
}
