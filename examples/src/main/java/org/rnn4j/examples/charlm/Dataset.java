package org.rnn4j.examples.charlm;

import java.nio.file.Path;
import java.util.Arrays;

/** The text as ids, cut into a training part and a validation part (the last fraction). */
public record Dataset(Vocab vocab, int[] train, int[] val) {

    /** Reads the corpus named in {@code config}: {@link TrainConfig#TIME_MACHINE} (the embedded book) or a path. */
    static String readText(String corpus) {
        return corpus.equals(TrainConfig.TIME_MACHINE) ? Corpus.timeMachine() : Corpus.readFile(Path.of(corpus));
    }

    /** How the corpus is named in the program's output. */
    static String displayName(String corpus) {
        return corpus.equals(TrainConfig.TIME_MACHINE) ? "The Time Machine (built in)" : corpus;
    }

    static String prepare(String text, boolean d2l) {
        return d2l ? Vocab.d2lPreprocess(text) : text;
    }

    /**
     * @param vocab null to build it from the text (a new run), else the checkpoint's
     */
    static Dataset of(String prepared, Vocab vocab, int maxTokens, double valFraction) {
        Vocab v = vocab != null ? vocab : Vocab.of(prepared);
        int[] ids = v.encode(prepared);
        if (maxTokens > 0 && ids.length > maxTokens) {
            ids = Arrays.copyOf(ids, maxTokens);
        }
        int valLength = (int) Math.round(ids.length * valFraction);
        int[] train = Arrays.copyOfRange(ids, 0, ids.length - valLength);
        int[] val = Arrays.copyOfRange(ids, ids.length - valLength, ids.length);
        return new Dataset(v, train, val);
    }
}
