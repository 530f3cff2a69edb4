package org.rnn4j.examples.charlm;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.rnn4j.Device;
import org.rnn4j.Generator;
import org.rnn4j.backend.Backends;
import org.rnn4j.examples.util.Options;
import org.rnn4j.examples.util.Progress;
import org.rnn4j.io.Checkpoint;

/** {@code charlm train|sample|eval}: a character-level language model, d2l chapter 8 style. */
public final class CharLm {
    static final String USAGE = """
            usage: charlm train  [--corpus FILE] [--d2l] [--max-tokens N] [--val-fraction F]
                                 [--model rnn|lstm|gru] [--hidden H] [--layers L] [--dropout P] [--embedding E (0 = one-hot)]
                                 [--batch B] [--steps T] [--epochs N] [--lr LR] [--optimizer sgd|adam] [--clip C]
                                 [--partition sequential|random] [--seed S] [--print-every N] [--out DIR] [--resume]
                   charlm sample --out DIR [--prefix TEXT] [--length N] [--temperature K] [--seed S]
                   charlm eval   --out DIR [--file FILE]   (default: the validation part of the training corpus)
            Without --corpus it trains on The Time Machine by H. G. Wells, which this jar carries (nothing is downloaded).
            """;

    private final PrintStream out;
    private final PrintStream err;

    /** Output and error messages both to {@code out}. */
    public CharLm(PrintStream out) {
        this(out, out);
    }

    public CharLm(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) throws Exception {
        System.exit(new CharLm(System.out, System.err).run(args));
    }

    /**
     * Runs a command and returns the process exit status: 0, 2 for bad input (an unknown option, a
     * missing or unreadable file, a bad value), 1 when reading or writing fails otherwise. Errors
     * are one line on {@code err}, never a stack trace.
     */
    public int run(String[] args) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.print(USAGE);
            return 0;
        }
        if (args.length == 0 || !Set.of("train", "sample", "eval").contains(args[0])) {
            err.print(USAGE);
            return 2;
        }
        try {
            Options o = new Options(Arrays.copyOfRange(args, 1, args.length), Set.of("d2l", "resume"));
            switch (args[0]) {
                case "train" -> train(o);
                case "sample" -> sample(o);
                default -> eval(o);
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("charlm: " + e.getMessage());
            return 2;
        } catch (IOException | java.io.UncheckedIOException e) {
            err.println("charlm: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            return 1;
        }
    }

    private void train(Options o) throws IOException {
        Path dir = o.has("out") ? Path.of(o.string("out", null)) : null;
        boolean resume = o.flag("resume");
        TrainConfig config;
        Vocab vocab;
        String text;
        if (resume) {
            if (dir == null || !Files.exists(dir.resolve(Checkpoint.JSON_FILE))) {
                throw new IllegalArgumentException("--resume needs --out DIR holding a checkpoint");
            }
            Map<String, Object> info = Checkpoint.readInfo(dir);
            config = TrainConfig.fromInfo(info);
            config = config.withEpochs(o.integer("epochs", config.epochs()));
            vocab = new Vocab(Checkpoint.strings(info, "vocab"));
            text = Dataset.prepare(Dataset.readText(config.corpus()), config.d2l());
        } else {
            text = Dataset.prepare(Dataset.readText(o.string("corpus", TrainConfig.TIME_MACHINE)), o.flag("d2l"));
            vocab = Vocab.of(text);
            config = TrainConfig.fromOptions(o, vocab.size());
        }
        int printEvery = o.integer("print-every", Math.max(1, config.epochs() / 20));
        o.rejectUnknown();
        Dataset data = Dataset.of(text, vocab, config.maxTokens(), config.valFraction());
        out.printf("backend %s; corpus %s: %,d training + %,d validation tokens, vocabulary %d%n",
                Backends.selectionReport(Device.CPU), Dataset.displayName(config.corpus()), data.train().length,
                data.val().length, data.vocab().size());
        out.printf("model %s: %s, %d layer(s) x %d hidden, %s input; %s lr %s, clip %s, batch %d x %d steps, %s partitioning%n",
                config.hyper().model(), config.hyper().model().toUpperCase(), config.hyper().layers(), config.hyper().hidden(),
                config.hyper().embedding() == 0 ? "one-hot" : config.hyper().embedding() + "-d embedding", config.optimizer(),
                config.lr(), config.clip(), config.batch(), config.steps(), config.partition());
        try (Trainer trainer = new Trainer(config, data)) {
            if (resume) {
                trainer.resume(dir);
                out.printf("resumed from %s after epoch %d%n", dir, trainer.epochsDone());
            }
            long t0 = System.nanoTime();
            trainer.fit(new Progress(out), printEvery, dir);
            out.printf("trained to epoch %d in %.1f s%n", trainer.epochsDone(), (System.nanoTime() - t0) / 1e9);
            String prefix = config.d2l() ? "time traveller" : "The Time Traveller";
            out.println("sample: " + Sampler.generate(trainer.model(), data.vocab(), prefix, 100, 0.8, new Generator(config.seed())));
            if (dir != null) {
                out.println("checkpoint: " + dir);
            }
        }
    }

    /** Rebuilds the model of the checkpoint in {@code --out} and loads its weights. */
    private static Trainer restore(Options o, Dataset data, TrainConfig config) throws IOException {
        Trainer trainer = new Trainer(config, data);
        trainer.resume(Path.of(o.string("out", null)));
        return trainer;
    }

    private static Map<String, Object> checkpointInfo(Options o) throws IOException {
        if (!o.has("out")) {
            throw new IllegalArgumentException("--out DIR (a checkpoint written by 'charlm train --out DIR') is required");
        }
        Path dir = Path.of(o.string("out", null));
        if (!Files.isRegularFile(dir.resolve(Checkpoint.JSON_FILE))) {
            throw new IllegalArgumentException("no checkpoint in " + dir + " (no " + Checkpoint.JSON_FILE
                    + "; write one with 'charlm train --out " + dir + "')");
        }
        return Checkpoint.readInfo(dir);
    }

    private void sample(Options o) throws IOException {
        Map<String, Object> info = checkpointInfo(o);
        TrainConfig config = TrainConfig.fromInfo(info);
        Vocab vocab = new Vocab(Checkpoint.strings(info, "vocab"));
        String prefix = o.string("prefix", config.d2l() ? "time traveller" : "The Time Traveller");
        int length = o.integer("length", 200);
        double temperature = o.number("temperature", 0.8);
        long seed = o.integer("seed", 0);
        o.rejectUnknown();
        Dataset empty = new Dataset(vocab, new int[0], new int[0]);
        try (Trainer trainer = restore(o, empty, config)) {
            out.println(Sampler.generate(trainer.model(), vocab, prefix, length, temperature, new Generator(seed)));
        }
    }

    private void eval(Options o) throws IOException {
        Map<String, Object> info = checkpointInfo(o);
        TrainConfig config = TrainConfig.fromInfo(info);
        Vocab vocab = new Vocab(Checkpoint.strings(info, "vocab"));
        String file = o.string("file", null);
        o.rejectUnknown();
        int[] ids;
        String what;
        if (file != null) {
            ids = vocab.encode(Dataset.prepare(Corpus.readFile(Path.of(file)), config.d2l()));
            what = file;
        } else {
            Dataset split = Dataset.of(Dataset.prepare(Dataset.readText(config.corpus()), config.d2l()), vocab,
                    config.maxTokens(), config.valFraction());
            boolean hasVal = split.val().length > 1;
            ids = hasVal ? split.val() : split.train();
            what = (hasVal ? "validation part" : "training part") + " of " + Dataset.displayName(config.corpus());
        }
        try (Trainer trainer = restore(o, new Dataset(vocab, new int[0], new int[0]), config)) {
            long t0 = System.nanoTime();
            double ppl = trainer.perplexity(ids);
            out.printf("perplexity %.3f on %s (%,d tokens, %.1f s)%n", ppl, what, ids.length, (System.nanoTime() - t0) / 1e9);
        }
    }
}
