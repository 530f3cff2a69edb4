package org.rnn4j.examples.charlm;

import java.util.LinkedHashMap;
import java.util.Map;
import org.rnn4j.examples.util.Options;
import org.rnn4j.io.Checkpoint;

/**
 * How to train: data preparation, model shape and optimisation. Saved in every checkpoint so that
 * {@code --resume}, {@code sample} and {@code eval} rebuild exactly the same model and data split.
 * Defaults are d2l's recipe (chapter 8.5), except the model shape, which the caller chooses.
 */
public record TrainConfig(String corpus, boolean d2l, int maxTokens, double valFraction, Hyper hyper,
                          int batch, int steps, int epochs, double lr, String optimizer, double clip,
                          String partition, long seed) {

    /** Marks the embedded Time Machine in {@link #corpus()} (otherwise a file path). */
    public static final String TIME_MACHINE = "timemachine";

    public TrainConfig {
        if (!optimizer.equals("sgd") && !optimizer.equals("adam")) {
            throw new IllegalArgumentException("--optimizer must be sgd or adam, got '" + optimizer + "'");
        }
        if (!partition.equals("sequential") && !partition.equals("random")) {
            throw new IllegalArgumentException("--partition must be sequential or random, got '" + partition + "'");
        }
        if (batch < 1 || steps < 1 || epochs < 0 || !(lr > 0) || maxTokens < 0 || valFraction < 0 || valFraction >= 1) {
            throw new IllegalArgumentException("invalid training settings: batch " + batch + ", steps " + steps
                    + ", epochs " + epochs + ", lr " + lr + ", max-tokens " + maxTokens + ", val-fraction " + valFraction);
        }
    }

    /** Everything from the command line; {@code vocab} is known only once the text is read. */
    static TrainConfig fromOptions(Options o, int vocab) {
        Hyper h = new Hyper(o.string("model", "rnn"), vocab, o.integer("embedding", 0), o.integer("hidden", 512),
                o.integer("layers", 1), (float) o.number("dropout", 0));
        return new TrainConfig(o.string("corpus", TIME_MACHINE), o.flag("d2l"), o.integer("max-tokens", 0),
                o.number("val-fraction", 0), h, o.integer("batch", 32), o.integer("steps", 35), o.integer("epochs", 500),
                o.number("lr", 1), o.string("optimizer", "sgd"), o.number("clip", 1), o.string("partition", "sequential"),
                o.integer("seed", 0));
    }

    public boolean sequential() {
        return partition.equals("sequential");
    }

    public TrainConfig withEpochs(int newEpochs) {
        return new TrainConfig(corpus, d2l, maxTokens, valFraction, hyper, batch, steps, newEpochs, lr, optimizer, clip,
                partition, seed);
    }

    Map<String, String> toInfo() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("corpus", corpus);
        m.put("d2l", Boolean.toString(d2l));
        m.put("max_tokens", Integer.toString(maxTokens));
        m.put("val_fraction", Double.toString(valFraction));
        m.putAll(hyper.toInfo());
        m.put("batch", Integer.toString(batch));
        m.put("steps", Integer.toString(steps));
        m.put("epochs", Integer.toString(epochs));
        m.put("lr", Double.toString(lr));
        m.put("optimizer", optimizer);
        m.put("clip", Double.toString(clip));
        m.put("partition", partition);
        m.put("seed", Long.toString(seed));
        return m;
    }

    static TrainConfig fromInfo(Map<String, Object> info) {
        return new TrainConfig(s(info, "corpus"), Boolean.parseBoolean(s(info, "d2l")), Integer.parseInt(s(info, "max_tokens")),
                Double.parseDouble(s(info, "val_fraction")), Hyper.fromInfo(info), Integer.parseInt(s(info, "batch")),
                Integer.parseInt(s(info, "steps")), Integer.parseInt(s(info, "epochs")), Double.parseDouble(s(info, "lr")),
                s(info, "optimizer"), Double.parseDouble(s(info, "clip")), s(info, "partition"), Long.parseLong(s(info, "seed")));
    }

    private static String s(Map<String, Object> info, String key) {
        return Checkpoint.string(info, key);
    }
}
