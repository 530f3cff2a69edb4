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
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;
import org.rnn4j.optim.SGD;

/**
 * Config P: an LSTM, GRU or RNN-tanh layer (I=256, H=512) over 64 packed sequences with lengths
 * spread over 10..100 ({@link RnnConfigs#packedLengths()}, the same as the PyTorch script). As
 * there, packing is inside the timed inference call and training unpacks the output before the
 * loss. Target: no slower than config B of the same cell scaled by sum(lengths) / (T*N) + 15%.
 * (Was PackedLstmBenchmark, LSTM only; compare_rnn.py reads results of both names.)
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class PackedRnnBenchmark {
    @Param({"LSTM", "GRU", "RNN"})
    public String cell;

    private RNNBase module;
    private Tensor padded;
    private int[] lengths;
    private Tensor upstream;
    private SGD opt;

    @Setup(Level.Trial)
    public void setup() {
        BenchEnv.ensure();
        RnnConfigs.Shape s = RnnConfigs.shape("P");
        lengths = RnnConfigs.packedLengths();
        int steps = java.util.Arrays.stream(lengths).max().orElseThrow();
        module = RnnConfigs.module(cell, s);
        Generator g = new Generator(4);
        padded = Tensor.randn(g, steps, lengths.length, s.input());
        upstream = Tensor.randn(g, steps, lengths.length, s.hidden());
        opt = SGD.builder(module.parameters()).lr(RnnConfigs.TRAIN_LR).build();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        opt.close();
        module.close();
        padded.close();
        upstream.close();
    }

    private PackedRnnOutput forward(PackedSequence p) {
        return module.forward(p);
    }

    @Benchmark
    public float infer() {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            PackedSequence p = RnnUtils.packPaddedSequence(padded, lengths, false, false);
            return forward(p).hN().get(0, 0, 0);
        }
    }

    @Benchmark
    public float train() {
        try (Scope s = Scope.open()) {
            opt.zeroGrad();
            PackedSequence p = RnnUtils.packPaddedSequence(padded, lengths, false, false);
            Tensor out = RnnUtils.padPackedSequence(forward(p).output(), false, 0f, null).padded();
            Tensor loss = out.mul(upstream).sum();
            loss.backward();
            opt.step();
            return loss.item();
        }
    }
}
