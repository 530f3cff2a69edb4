package org.rnn4j.nn;

import org.rnn4j.Generator;
import org.rnn4j.Tensor;

/** Zeroes elements with probability p in training and scales the rest by 1/(1-p); identity in eval. */
public final class Dropout extends Module implements Layer {
    private final float p;
    private final Generator gen;

    /**
     * torch.nn.Dropout(p), the masks drawn from the default generator.
     *
     * @throws IllegalArgumentException if {@code p} is not in [0, 1]
     */
    public Dropout(float p) {
        this(p, Generator.defaultGenerator());
    }

    /**
     * torch.nn.Dropout(p), the masks drawn from {@code gen}.
     *
     * @throws IllegalArgumentException if {@code p} is not in [0, 1] or {@code gen} is null
     */
    public Dropout(float p, Generator gen) {
        checkP(p);
        if (gen == null) {
            throw new IllegalArgumentException("Dropout: argument 'gen' is null");
        }
        this.p = p;
        this.gen = gen;
    }

    static void checkP(float p) {
        if (!(p >= 0f && p <= 1f)) {
            throw new IllegalArgumentException("dropout: argument 'p' (the dropout probability) has to be between 0 and 1, but got " + p);
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        return dropout(x, p, isTraining(), gen);
    }

    /** Functional dropout: the mask is drawn from {@code gen} on the host, so every backend agrees. */
    public static Tensor dropout(Tensor x, float p, boolean training, Generator gen) {
        checkP(p);
        if (!training || p == 0f) {
            return x;
        }
        if (p == 1f) {
            return x.mul(0f);
        }
        float[] m = new float[Math.toIntExact(x.numel())];
        float scale = 1f / (1f - p);
        for (int i = 0; i < m.length; i++) {
            m[i] = gen.nextFloat() < p ? 0f : scale;
        }
        Tensor mask = Tensor.fromArray(m, x.shape()).to(x.device());
        return x.mul(mask);
    }

    @Override
    public String toString() {
        return "Dropout(p=" + p + ")";
    }
}
