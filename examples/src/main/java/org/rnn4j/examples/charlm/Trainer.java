package org.rnn4j.examples.charlm;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.examples.util.LinePlot;
import org.rnn4j.examples.util.Progress;
import org.rnn4j.io.Checkpoint;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.State;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.GradClip;
import org.rnn4j.optim.Optimizer;
import org.rnn4j.optim.SGD;

/**
 * d2l's {@code train_ch8}: per epoch, minibatches from the chosen sampler; with sequential
 * partitioning the hidden state flows from batch to batch, detached so that backpropagation stops
 * at the batch boundary (truncated BPTT); the state restarts from zero each epoch.
 *
 * <p>Everything random in an epoch (sampler offset and order, dropout masks) is seeded from
 * (seed, epoch), so training resumed from an end-of-epoch checkpoint repeats the uninterrupted run.
 */
public final class Trainer implements AutoCloseable {
    private final TrainConfig config;
    private final Dataset data;
    private final Generator gen;
    private final CharModel model;
    private final Optimizer optimizer;
    private int epochsDone;
    private final List<EpochResult> history = new ArrayList<>();

    /** One line of the training log. */
    public record EpochResult(int epoch, double trainPerplexity, double valPerplexity, double tokensPerSecond, double seconds) {
    }

    public Trainer(TrainConfig config, Dataset data) {
        this.config = config;
        this.data = data;
        this.gen = new Generator(config.seed());
        this.model = new CharModel(config.hyper(), gen);
        this.optimizer = config.optimizer().equals("adam")
                ? Adam.builder(model.parameters()).lr(config.lr()).build()
                : SGD.builder(model.parameters()).lr(config.lr()).build();
    }

    public CharModel model() {
        return model;
    }

    public int epochsDone() {
        return epochsDone;
    }

    /** Restores weights, optimizer state and the epoch counter from {@code dir}. */
    public void resume(Path dir) throws IOException {
        Map<String, Object> info = Checkpoint.load(dir, model, optimizer);
        epochsDone = Integer.parseInt(Checkpoint.string(info, "epochs_done"));
        history.clear();
        if (info.containsKey("perplexity_history")) {
            for (String line : Checkpoint.strings(info, "perplexity_history")) {
                String[] f = line.split(" ");
                history.add(new EpochResult(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), 0, 0));
            }
        }
    }

    /** Every epoch trained so far (including those before a resume), for the perplexity chart. */
    public List<EpochResult> history() {
        return java.util.Collections.unmodifiableList(history);
    }

    public void save(Path dir, EpochResult last) throws IOException {
        Map<String, Object> info = new LinkedHashMap<>(config.toInfo());
        info.put("epochs_done", Integer.toString(epochsDone));
        List<String> hist = new ArrayList<>();
        for (EpochResult r : history) {
            hist.add(r.epoch() + " " + r.trainPerplexity() + " " + r.valPerplexity());
        }
        info.put("perplexity_history", hist);
        if (last != null) {
            info.put("train_perplexity", String.format("%.4f", last.trainPerplexity()));
            info.put("val_perplexity", Double.isNaN(last.valPerplexity()) ? "" : String.format("%.4f", last.valPerplexity()));
        }
        info.put("vocab", data.vocab().tokens());
        Checkpoint.save(dir, model, optimizer, info);
        plot(dir.resolve(PLOT_FILE));
    }

    /** The per-epoch perplexity chart written next to every checkpoint. */
    public static final String PLOT_FILE = "perplexity.png";

    /** Train (and validation, when there is a validation part) perplexity per epoch, as a PNG. */
    public void plot(Path png) throws IOException {
        if (history.isEmpty()) {
            return;
        }
        double[] x = new double[history.size()];
        double[] train = new double[history.size()];
        double[] val = new double[history.size()];
        boolean hasVal = false;
        for (int i = 0; i < history.size(); i++) {
            x[i] = history.get(i).epoch();
            train[i] = history.get(i).trainPerplexity();
            val[i] = history.get(i).valPerplexity();
            hasVal |= !Double.isNaN(val[i]);
        }
        List<LinePlot.Series> series = new ArrayList<>();
        series.add(new LinePlot.Series("train perplexity", new java.awt.Color(31, 119, 180), train));
        if (hasVal) {
            series.add(new LinePlot.Series("validation perplexity", new java.awt.Color(255, 127, 14), val));
        }
        LinePlot.write(png, config.hyper().model() + ", " + config.hyper().hidden() + " hidden: perplexity per epoch", "epoch", x, series);
    }

    /** Trains one epoch and returns its summary (validation perplexity NaN without a validation part). */
    public EpochResult epoch(Progress progress) {
        int epoch = epochsDone;
        gen.manualSeed(config.seed() * 1_000_003L + epoch);
        Random rnd = new Random(config.seed() * 1_000_003L + epoch);
        List<Batches.Batch> batches = config.sequential()
                ? Batches.sequential(data.train(), config.batch(), config.steps(), rnd)
                : Batches.random(data.train(), config.batch(), config.steps(), rnd);
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("the training text (" + data.train().length + " tokens) is too short for one batch of "
                    + config.batch() + " x " + config.steps() + " tokens; lower --batch or --steps");
        }
        model.train();
        long t0 = System.nanoTime();
        double lossSum = 0;
        long tokens = 0;
        State state = null;
        for (int i = 0; i < batches.size(); i++) {
            Batches.Batch b = batches.get(i);
            try (Scope scope = Scope.open()) {
                optimizer.zeroGrad();
                CharModel.Step step = model.forward(b.x(), config.steps(), config.batch(), config.sequential() ? state : null);
                Tensor loss = Losses.crossEntropy(step.logits(), b.y());
                loss.backward();
                GradClip.clipGradNorm(model.parameters(), config.clip());
                optimizer.step();
                lossSum += loss.item() * b.y().length;
                tokens += b.y().length;
                state = keep(scope, step.state().detach(), state);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            progress.update(i + 1, batches.size(), String.format("epoch %d/%d  loss %.3f  perplexity %.2f  %,.0f tokens/s",
                    epoch + 1, config.epochs(), lossSum / tokens, Math.exp(lossSum / tokens), tokens / seconds));
        }
        close(state);
        epochsDone++;
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new EpochResult(epochsDone, Math.exp(lossSum / tokens), data.val().length > 1 ? perplexity(data.val()) : Double.NaN,
                tokens / seconds, seconds);
    }

    /** Trains until {@code config.epochs()}, printing every {@code printEvery} epochs and saving to {@code out} (if non-null). */
    public List<EpochResult> fit(Progress progress, int printEvery, Path out) throws IOException {
        List<EpochResult> log = new ArrayList<>();
        EpochResult last = null;
        while (epochsDone < config.epochs()) {
            last = epoch(progress);
            log.add(last);
            history.add(last);
            if (last.epoch() % printEvery == 0 || epochsDone == config.epochs()) {
                progress.line(String.format("epoch %4d  train perplexity %7.3f%s  %,8.0f tokens/s",
                        last.epoch(), last.trainPerplexity(),
                        Double.isNaN(last.valPerplexity()) ? "" : String.format("  val perplexity %7.3f", last.valPerplexity()),
                        last.tokensPerSecond()));
                if (out != null) {
                    save(out, last);
                }
            }
        }
        return log;
    }

    /**
     * Perplexity of {@code ids} under the model in eval mode: the text is cut into
     * {@code config.batch()} streams read in chunks of {@code config.steps()}, state carried.
     */
    public double perplexity(int[] ids) {
        return perplexity(model, ids, config.batch(), config.steps());
    }

    static double perplexity(CharModel model, int[] ids, int batch, int steps) {
        int b = Math.max(1, Math.min(batch, (ids.length - 1) / Math.max(1, steps)));
        int length = (ids.length - 1) / b;
        if (length < 1) {
            throw new IllegalArgumentException("text too short for perplexity: " + ids.length + " tokens");
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        double lossSum = 0;
        State state = null;
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (int start = 0; start < length; start += steps) {
                int t = Math.min(steps, length - start);
                int[] x = new int[t * b];
                int[] y = new int[t * b];
                for (int s = 0; s < b; s++) {
                    for (int k = 0; k < t; k++) {
                        x[k * b + s] = ids[s * length + start + k];
                        y[k * b + s] = ids[s * length + start + k + 1];
                    }
                }
                try (Scope scope = Scope.open()) {
                    CharModel.Step step = model.forward(x, t, b, state);
                    lossSum += Losses.crossEntropy(step.logits(), y).item() * y.length;
                    state = keep(scope, step.state(), state);
                }
            }
        } finally {
            close(state);
            model.train(wasTraining);
        }
        return Math.exp(lossSum / ((double) length * b));
    }

    /** Moves {@code next} out of {@code scope} and frees the state it replaces. */
    static State keep(Scope scope, State next, State previous) {
        next.keep(scope);
        close(previous);
        return next;
    }

    static void close(State state) {
        if (state != null) {
            state.close();
        }
    }

    @Override
    public void close() {
        optimizer.close();
        model.close();
    }
}
