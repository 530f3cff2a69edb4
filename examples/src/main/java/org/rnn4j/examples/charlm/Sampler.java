package org.rnn4j.examples.charlm;

import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.nn.State;

/** Generates text one character at a time, feeding each sampled character back in. */
public final class Sampler {
    private Sampler() {
    }

    /**
     * Warms the state up on {@code prefix}, then draws {@code length} characters from
     * softmax(logits / temperature) with {@code gen} (temperature 0: always the most likely one).
     * Unknown prefix characters read as {@code <unk>}; {@code <unk>} is never drawn.
     */
    public static String generate(CharModel model, Vocab vocab, String prefix, int length, double temperature, Generator gen) {
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("--prefix must not be empty (the model needs a first character)");
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        StringBuilder out = new StringBuilder(prefix);
        int[] ids = vocab.encode(prefix);
        State state = null;
        try (GradMode.Guard g = GradMode.noGrad()) {
            int[] input = ids;
            for (int i = 0; i < length; i++) {
                float[] logits;
                try (Scope scope = Scope.open()) {
                    CharModel.Step step = model.forward(input, input.length, 1, state);
                    logits = step.logits().select(0, input.length - 1).toArray();
                    state = Trainer.keep(scope, step.state(), state);
                }
                int next = draw(logits, temperature, gen);
                out.append(vocab.token(next));
                input = new int[] {next};
            }
        } finally {
            Trainer.close(state);
            model.train(wasTraining);
        }
        return out.toString();
    }

    static int draw(float[] logits, double temperature, Generator gen) {
        int best = 1;
        for (int i = 2; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        if (temperature <= 0) {
            return best;
        }
        double[] p = new double[logits.length];
        double total = 0;
        for (int i = 1; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - logits[best]) / temperature);
            total += p[i];
        }
        double u = gen.nextFloat() * total;
        for (int i = 1; i < logits.length; i++) {
            u -= p[i];
            if (u < 0) {
                return i;
            }
        }
        return best;
    }
}
