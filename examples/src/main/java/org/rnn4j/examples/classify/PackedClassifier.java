package org.rnn4j.examples.classify;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.examples.util.Options;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Module;
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.Optimizer;

/**
 * Classifies variable-length sequences with a bidirectional LSTM over a packed batch. The task,
 * "is the first symbol equal to the last one?", needs the true lengths (the last symbol is at
 * position length-1, not at the padded end) and is easy with both directions: the forward
 * direction's final state has just read the last symbol and the reverse direction's final state
 * has just read the first one. Packing with unsorted lengths means the batch keeps its order.
 * Legend: T = padded length, B = batch, E = embedding, H = hidden per direction.
 */
public final class PackedClassifier {
    static final int SYMBOLS = 6;   // ids 1..6; 0 is only ever padding
    static final int MIN_LENGTH = 2;
    static final int MAX_LENGTH = 16;

    /** Embedding(7, E) -> bidirectional LSTM(E, H) -> [h_n forward, h_n reverse] (B, 2H) -> Linear(2H, 2). */
    static final class Model extends Module {
        final Embedding embedding;
        final LSTM lstm;
        final Linear head;

        Model(int embedding, int hidden, Generator gen) {
            this.embedding = registerModule("embedding", new Embedding(SYMBOLS + 1, embedding, Embedding.NONE, gen));
            this.lstm = registerModule("lstm", LSTM.builder().inputSize(embedding).hiddenSize(hidden).bidirectional(true)
                    .generator(gen).build());
            this.head = registerModule("head", new Linear(2 * hidden, 2, true, gen));
        }

        /** Logits (B, 2) for {@code seqs}, padded to {@code padTo} steps with {@code padding} (ids). */
        Tensor forward(List<int[]> seqs, int padTo, int[] padding) {
            int b = seqs.size();
            int[] ids = new int[padTo * b];
            int[] lengths = new int[b];
            for (int s = 0; s < b; s++) {
                int[] seq = seqs.get(s);
                lengths[s] = seq.length;
                for (int t = 0; t < padTo; t++) {
                    ids[t * b + s] = t < seq.length ? seq[t] : padding[(t * b + s) % padding.length];
                }
            }
            Tensor x = embedding.forward(ids, padTo, b);   // (T, B, E)
            PackedSequence packed = RnnUtils.packPaddedSequence(x, lengths, false, false);
            PackedRnnOutput out = lstm.forward(packed, null);   // null state: zeros
            // h_n (2, B, H): PyTorch restores the batch order of an unsorted pack
            Tensor hN = out.state().h();
            return head.forward(Tensor.concat(List.of(hN.select(0, 0), hN.select(0, 1)), 1));
        }
    }

    /** A labelled set: half the sequences end with their first symbol. */
    record Data(List<int[]> seqs, int[] labels) {
        static Data make(Random rnd, int n) {
            List<int[]> seqs = new ArrayList<>();
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                int[] s = new int[MIN_LENGTH + rnd.nextInt(MAX_LENGTH - MIN_LENGTH + 1)];
                for (int t = 0; t < s.length; t++) {
                    s[t] = 1 + rnd.nextInt(SYMBOLS);
                }
                labels[i] = rnd.nextBoolean() ? 1 : 0;
                s[s.length - 1] = labels[i] == 1 ? s[0] : 1 + (s[0] - 1 + 1 + rnd.nextInt(SYMBOLS - 1)) % SYMBOLS;
                seqs.add(s);
            }
            return new Data(seqs, labels);
        }

        Data slice(int from, int to) {
            return new Data(seqs.subList(from, to), Arrays.copyOfRange(labels, from, to));
        }
    }

    /** What a run measured. */
    public record Result(double trainAccuracy, double testAccuracy, float maxPaddingDifference) {
    }

    private final PrintStream out;

    public PackedClassifier(PrintStream out) {
        this.out = out;
    }

    public int run(String[] args) {
        Options o = new Options(args, Set.of());
        int steps = o.integer("steps", 600);
        int batch = o.integer("batch", 64);
        int hidden = o.integer("hidden", 32);
        double lr = o.number("lr", 0.01);
        long seed = o.integer("seed", 0);
        o.rejectUnknown();
        out.println("backend " + org.rnn4j.backend.Backends.selectionReport(org.rnn4j.Device.CPU));
        Result r = train(steps, batch, hidden, lr, seed);
        out.printf("held-out accuracy %.2f%% (%s 95%%)%n", 100 * r.testAccuracy(), r.testAccuracy() > 0.95 ? "above" : "NOT above");
        out.printf("padding check: same sequences padded to %d with zeros and to %d with random symbols: max |logit difference| = %s%n",
                MAX_LENGTH, MAX_LENGTH + 9, r.maxPaddingDifference());
        return r.testAccuracy() > 0.95 && r.maxPaddingDifference() == 0f ? 0 : 1;
    }

    public Result train(int steps, int batch, int hidden, double lr, long seed) {
        Generator gen = new Generator(seed);
        Random rnd = new Random(seed);
        Data test = Data.make(rnd, 1000);
        int[] zeros = {0};
        try (Model model = new Model(16, hidden, gen); Optimizer opt = Adam.builder(model.parameters()).lr(lr).build()) {
            double accuracy = 0;
            for (int step = 1; step <= steps; step++) {
                Data b = Data.make(rnd, batch);
                try (Scope scope = Scope.open()) {
                    opt.zeroGrad();
                    Tensor logits = model.forward(b.seqs(), maxLength(b.seqs()), zeros);
                    Tensor loss = Losses.crossEntropy(logits, b.labels());
                    loss.backward();
                    opt.step();
                    accuracy = 0.9 * accuracy + 0.1 * accuracy(logits, b.labels());
                    if (step % Math.max(1, steps / 10) == 0 || step == steps) {
                        out.printf("step %4d  loss %.4f  running train accuracy %.1f%%%n", step, loss.item(), 100 * accuracy);
                    }
                }
            }
            model.eval();
            try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
                double correct = 0;
                for (int i = 0; i < test.seqs().size(); i += 250) {
                    Data part = test.slice(i, Math.min(i + 250, test.seqs().size()));
                    correct += accuracy(model.forward(part.seqs(), maxLength(part.seqs()), zeros), part.labels()) * part.labels().length;
                }
                return new Result(accuracy, correct / test.seqs().size(), paddingDifference(model, test.slice(0, 32), rnd));
            }
        }
    }

    /** Max |difference| between logits of the same sequences padded two different ways (0 when padding is ignored). */
    static float paddingDifference(Model model, Data data, Random rnd) {
        int[] garbage = new int[101];
        for (int i = 0; i < garbage.length; i++) {
            garbage[i] = 1 + rnd.nextInt(SYMBOLS);
        }
        float[] a = model.forward(data.seqs(), MAX_LENGTH, new int[] {0}).toArray();
        float[] b = model.forward(data.seqs(), MAX_LENGTH + 9, garbage).toArray();
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    static double accuracy(Tensor logits, int[] labels) {
        float[] l = logits.toArray();
        int correct = 0;
        for (int i = 0; i < labels.length; i++) {
            int predicted = l[2 * i + 1] > l[2 * i] ? 1 : 0;
            correct += predicted == labels[i] ? 1 : 0;
        }
        return (double) correct / labels.length;
    }

    static int maxLength(List<int[]> seqs) {
        int m = 0;
        for (int[] s : seqs) {
            m = Math.max(m, s.length);
        }
        return m;
    }
}
