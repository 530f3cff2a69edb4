package org.rnn4j.examples.sine;

import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.examples.util.LinePlot;
import org.rnn4j.examples.util.Options;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Module;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.nn.State;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.Optimizer;

/**
 * Sequence-to-sequence regression: an RNN reads sin(t) and outputs cos(t) at every step. A single
 * sin value does not determine cos (sin is the same going up and coming down), so the network has
 * to remember where the wave came from: the hidden state is carried across consecutive windows of
 * each stream, detached at the window boundary (truncated BPTT).
 * Legend: T = window length, B = parallel streams, H = hidden.
 */
public final class SineToCosine {
    static final double DT = 0.1;

    /** RNN(1, H) -> Linear(H, 1). */
    static final class Model extends Module {
        final RNNBase rnn;   // any kind runs the same loop below
        final Linear fc;

        Model(int hidden, Generator gen) {
            rnn = registerModule("rnn", RNN.builder().inputSize(1).hiddenSize(hidden).generator(gen).build());
            fc = registerModule("fc", new Linear(hidden, 1, true, gen));
        }
    }

    /** What a run measured. */
    public record Result(double firstEpochMse, double lastEpochMse, double testMse) {
    }

    private final PrintStream out;

    public SineToCosine(PrintStream out) {
        this.out = out;
    }

    public int run(String[] args) throws IOException {
        Options o = new Options(args, Set.of());
        int epochs = o.integer("epochs", 30);
        int hidden = o.integer("hidden", 32);
        int steps = o.integer("steps", 25);
        int batch = o.integer("batch", 16);
        int length = o.integer("length", 1000);
        double lr = o.number("lr", 0.01);
        long seed = o.integer("seed", 0);
        Path plot = Path.of(o.string("plot", "sine.png"));
        o.rejectUnknown();
        out.println("backend " + org.rnn4j.backend.Backends.selectionReport(org.rnn4j.Device.CPU));
        Result r = train(epochs, hidden, steps, batch, length, lr, seed, plot);
        out.printf("test MSE %.5f (%s 0.01)%n", r.testMse(), r.testMse() < 0.01 ? "below" : "NOT below");
        out.println("plot: " + plot);
        return r.testMse() < 0.01 ? 0 : 1;
    }

    /** Trains and evaluates; writes the plot unless {@code plot} is null. */
    public Result train(int epochs, int hidden, int steps, int batch, int length, double lr, long seed, Path plot) throws IOException {
        Generator gen = new Generator(seed);
        // B streams of sin/cos, each starting at its own random phase: (length, B) time-major
        float[][] streams = waves(gen, batch, length);
        double first = Double.NaN;
        double last = Double.NaN;
        try (Model model = new Model(hidden, gen); Optimizer opt = Adam.builder(model.parameters()).lr(lr).build()) {
            for (int epoch = 1; epoch <= epochs; epoch++) {
                double sum = 0;
                int windows = 0;
                State state = null;   // zeros
                for (int start = 0; start + steps <= length; start += steps) {
                    try (Scope scope = Scope.open()) {
                        opt.zeroGrad();
                        Tensor x = window(streams[0], start, steps, batch);
                        Tensor y = window(streams[1], start, steps, batch);
                        RnnOutput o = model.rnn.forward(x, state);
                        Tensor loss = Losses.mse(model.fc.forward(o.output()), y);
                        loss.backward();
                        opt.step();
                        sum += loss.item();
                        windows++;
                        State next = o.state().detach().keep(scope);   // truncated BPTT: carried, not differentiated
                        if (state != null) {
                            state.close();
                        }
                        state = next;
                    }
                }
                if (state != null) {
                    state.close();
                }
                last = sum / windows;
                if (epoch == 1) {
                    first = last;
                }
                if (epoch == 1 || epoch % Math.max(1, epochs / 10) == 0 || epoch == epochs) {
                    out.printf("epoch %3d  train MSE %.5f%n", epoch, last);
                }
            }
            double test = evaluate(model, gen, length, plot);
            return new Result(first, last, test);
        }
    }

    /** MSE on a fresh stream with an unseen phase, read in one pass from zero state; plots its start. */
    private double evaluate(Model model, Generator gen, int length, Path plot) throws IOException {
        float[][] stream = waves(gen, 1, length);
        float[] pred;
        double mse;
        try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor x = Tensor.fromArray(stream[0], length, 1, 1);
            Tensor yHat = model.fc.forward(model.rnn.forward(x).output());
            pred = yHat.toArray();
            mse = Losses.mse(yHat, Tensor.fromArray(stream[1], length, 1, 1)).item();
        }
        if (plot != null) {
            int n = Math.min(length, 200);
            double[] t = new double[n];
            double[] sin = new double[n];
            double[] cos = new double[n];
            double[] yHat = new double[n];
            for (int i = 0; i < n; i++) {
                t[i] = i * DT;
                sin[i] = stream[0][i];
                cos[i] = stream[1][i];
                yHat[i] = pred[i];
            }
            LinePlot.write(plot, String.format("RNN reads sin(t), predicts cos(t): test MSE %.5f", mse), "t - t0",
                    t, List.of(new LinePlot.Series("input sin(t)", Color.LIGHT_GRAY, sin),
                            new LinePlot.Series("target cos(t)", new Color(31, 119, 180), cos),
                            new LinePlot.Series("RNN prediction", new Color(255, 127, 14), yHat)));
        }
        return mse;
    }

    /** {sin, cos}, each (length, B) time-major, stream b starting at a random phase. */
    static float[][] waves(Generator gen, int batch, int length) {
        float[] sin = new float[length * batch];
        float[] cos = new float[length * batch];
        for (int b = 0; b < batch; b++) {
            double t0 = gen.nextFloat() * 2 * Math.PI;
            for (int i = 0; i < length; i++) {
                sin[i * batch + b] = (float) Math.sin(t0 + i * DT);
                cos[i * batch + b] = (float) Math.cos(t0 + i * DT);
            }
        }
        return new float[][] {sin, cos};
    }

    /** Steps [start, start+T) of every stream: (T, B, 1). */
    static Tensor window(float[] data, int start, int steps, int batch) {
        float[] w = new float[steps * batch];
        System.arraycopy(data, start * batch, w, 0, steps * batch);
        return Tensor.fromArray(w, steps, batch, 1);
    }
}
