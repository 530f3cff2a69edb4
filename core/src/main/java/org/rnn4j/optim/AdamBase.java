package org.rnn4j.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.Tensor;
import org.rnn4j.backend.OptimizerStep;

/**
 * What {@link Adam} and {@link AdamW} share: moment buffers, bias corrections from each
 * parameter's own step count (as PyTorch does), and the settings. Formulas in {@link OptimizerStep}.
 */
public abstract class AdamBase extends Optimizer {
    private final OptimizerStep.Kind kind;
    private double beta1;
    private double beta2;
    private double eps;
    private double weightDecay;

    AdamBase(String name, OptimizerStep.Kind kind, Config<?> c) {
        super(name, c.params, c.lr, "exp_avg", "exp_avg_sq");
        this.kind = kind;
        this.beta1 = c.beta1;
        this.beta2 = c.beta2;
        this.eps = c.eps;
        this.weightDecay = c.weightDecay;
    }

    /** The decay rate of the first-moment average (PyTorch's {@code betas[0]}). */
    public double beta1() {
        return beta1;
    }

    /** The decay rate of the second-moment average (PyTorch's {@code betas[1]}). */
    public double beta2() {
        return beta2;
    }

    /** The term added to the denominator for numerical stability ({@code eps}). */
    public double eps() {
        return eps;
    }

    /** The weight decay: an L2 term for {@link Adam}, decoupled shrinking for {@link AdamW}. */
    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected boolean savesStep() {
        return true;
    }

    @Override
    protected OptimizerStep update(int i, long step, boolean first) {
        return new OptimizerStep(kind, (float) getLr(), 0f, 0f, false, (float) weightDecay,
                (float) beta1, (float) beta2, (float) eps, step, first);
    }

    @Override
    protected Map<String, String> hyperParameters() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("betas", beta1 + "," + beta2);
        m.put("eps", Double.toString(eps));
        m.put("weight_decay", Double.toString(weightDecay));
        return m;
    }

    @Override
    protected Runnable prepareHyperParameters(Map<String, String> v) {
        Scratch b = new Scratch(params(), weightDecay);
        b.lr = getLr();
        b.beta1 = beta1;
        b.beta2 = beta2;
        if (v.containsKey("betas")) {
            // "0.9,0.999", also accepting PyTorch's printed "(0.9, 0.999)" / "[0.9, 0.999]"
            String[] parts = v.get("betas").replaceAll("[\\[\\]() ]", "").split(",", -1);
            if (parts.length != 2) {
                throw new IllegalArgumentException(name() + ".loadStateDict: 'betas' must hold two numbers, got '" + v.get("betas") + "'");
            }
            b.beta1 = number(Map.of("betas[0]", parts[0]), "betas[0]", beta1);
            b.beta2 = number(Map.of("betas[1]", parts[1]), "betas[1]", beta2);
        }
        b.eps = number(v, "eps", eps);
        b.weightDecay = number(v, "weight_decay", weightDecay);
        b.validate(name());
        return () -> {
            beta1 = b.beta1;
            beta2 = b.beta2;
            eps = b.eps;
            weightDecay = b.weightDecay;
        };
    }

    @Override
    public String toString() {
        return name() + "(lr=" + getLr() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps
                + ", weightDecay=" + weightDecay + ")";
    }

    /** Settings shared by {@link Adam} and {@link AdamW}; B is the concrete builder, for chaining. */
    public abstract static class Config<B extends Config<B>> {
        final List<Tensor> params;
        double lr = 1e-3;
        double beta1 = 0.9;
        double beta2 = 0.999;
        double eps = 1e-8;
        double weightDecay;

        Config(List<Tensor> params, double weightDecay) {
            this.params = params;
            this.weightDecay = weightDecay;
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /** Sets the learning rate ({@code lr}, finite and at least 0, default 1e-3); returns this builder. */
        public B lr(double lr) {
            this.lr = lr;
            return self();
        }

        /** PyTorch's {@code betas=(beta1, beta2)}. */
        public B betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            return self();
        }

        /** Sets {@code eps} (finite and at least 0, default 1e-8); returns this builder. */
        public B eps(double eps) {
            this.eps = eps;
            return self();
        }

        /**
         * Sets the weight decay ({@code weight_decay}, finite and at least 0; the default is the optimizer's); returns this builder.
         */
        public B weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return self();
        }

        /** PyTorch's checks; messages name the bad value. */
        B validate(String name) {
            if (!(lr >= 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException(name + ": invalid learning rate: " + lr + " (lr must be finite and >= 0)");
            }
            if (!(eps >= 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException(name + ": invalid epsilon value: " + eps + " (eps must be finite and >= 0)");
            }
            if (!(beta1 >= 0 && beta1 < 1)) {
                throw new IllegalArgumentException(name + ": invalid beta parameter at index 0: " + beta1 + " (betas[0] must be in [0, 1))");
            }
            if (!(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException(name + ": invalid beta parameter at index 1: " + beta2 + " (betas[1] must be in [0, 1))");
            }
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException(name + ": invalid weight_decay value: " + weightDecay + " (must be finite and >= 0)");
            }
            return self();
        }
    }

    /** Used to validate loaded settings with the builders' rules before applying them. */
    private static final class Scratch extends Config<Scratch> {
        Scratch(List<Tensor> params, double weightDecay) {
            super(params, weightDecay);
        }
    }
}
