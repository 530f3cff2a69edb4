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
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.GRUCell;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.LSTMCell;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RNNCell;

/**
 * Config D: one inference step, N=1, I=128, H=256 — the single-stream serving shape — through the
 * cell API and through the layer API with T=1. Microseconds per step, the state carried over.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RnnStepBenchmark {
    @Param({"LSTM", "GRU", "RNN"})
    public String cell;

    private RNNBase layer;
    private LSTMCell lstmCell;
    private GRUCell gruCell;
    private RNNCell rnnCell;
    private Tensor x;
    private Tensor x3;
    private Tensor h;
    private Tensor c;
    private Tensor h3;
    private Tensor c3;

    @Setup(Level.Trial)
    public void setup() {
        BenchEnv.ensure();
        Generator g = new Generator(3);
        layer = RnnConfigs.module(cell, RnnConfigs.shape("D"));
        layer.eval();
        switch (cell) {
            case "LSTM" -> lstmCell = new LSTMCell(128, 256, true, g);
            case "GRU" -> gruCell = new GRUCell(128, 256, true, g);
            default -> rnnCell = new RNNCell(128, 256, true, "tanh", g);
        }
        x = Tensor.randn(g, 1, 128);
        x3 = x.reshape(1, 1, 128);
        h = Tensor.zeros(1, 256);
        c = Tensor.zeros(1, 256);
        h3 = Tensor.zeros(1, 1, 256);
        c3 = Tensor.zeros(1, 1, 256);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
        for (AutoCloseable m : new AutoCloseable[] {lstmCell, gruCell, rnnCell}) {
            if (m != null) {
                try {
                    m.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /**
     * h, c = cell(x, (h, c)) as a serving loop writes it: the new state is kept past the step's
     * scope and the old one closed, so every call does the same work with the state carried over.
     */
    @Benchmark
    public float cellStep() {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor hNew;
            if (lstmCell != null) {
                LSTMCell.State st = lstmCell.forward(x, h, c);
                c.close();
                c = s.keep(st.c());
                hNew = st.h();
            } else if (gruCell != null) {
                hNew = gruCell.forward(x, h);
            } else {
                hNew = rnnCell.forward(x, h);
            }
            h.close();
            h = s.keep(hNew);
            return 0f;
        }
    }

    /** The same step through the layer API with a (1, 1, I) input. */
    @Benchmark
    public float layerStep() {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor hNew;
            if (layer instanceof LSTM l) {
                var r = l.forward(x3, h3, c3);
                c3.close();
                c3 = s.keep(r.cN());
                hNew = r.hN();
            } else if (layer instanceof GRU gru) {
                hNew = gru.forward(x3, h3).hN();
            } else {
                hNew = ((RNN) layer).forward(x3, h3).hN();
            }
            h3.close();
            h3 = s.keep(hNew);
            return 0f;
        }
    }
}
