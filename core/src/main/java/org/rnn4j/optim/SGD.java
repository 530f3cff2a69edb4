package org.rnn4j.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.Tensor;
import org.rnn4j.backend.OptimizerStep;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight
 * decay ({@code torch.optim.SGD}; formulas in {@link OptimizerStep}). The first momentum step
 * sets the buffer to the gradient, as PyTorch does.
 * <pre>{@code
 * SGD opt = SGD.builder(model.parameters()).lr(0.1).momentum(0.9).build();
 * }</pre>
 */
public final class SGD extends Optimizer {
    private double momentum;
    private double dampening;
    private boolean nesterov;
    private double weightDecay;

    private SGD(Builder b) {
        super("SGD", b.params, b.lr, "momentum_buffer");
        this.momentum = b.momentum;
        this.dampening = b.dampening;
        this.nesterov = b.nesterov;
        this.weightDecay = b.weightDecay;
    }

    /** Plain SGD: {@code p -= lr * grad}. */
    public SGD(List<Tensor> params, double lr) {
        this(builder(params).lr(lr).validate());
    }

    /** A builder for an SGD over {@code params}, with PyTorch's defaults. */
    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    /** The momentum factor (0: none). */
    public double momentum() {
        return momentum;
    }

    /** The dampening applied to the gradient in the momentum buffer. */
    public double dampening() {
        return dampening;
    }

    /** Whether Nesterov momentum is used. */
    public boolean nesterov() {
        return nesterov;
    }

    /** The L2 penalty added to the gradient as {@code weightDecay * p}. */
    public double weightDecay() {
        return weightDecay;
    }

    @Override
    protected boolean usesState() {
        return momentum != 0;
    }

    @Override
    protected OptimizerStep update(int i, long step, boolean first) {
        return new OptimizerStep(OptimizerStep.Kind.SGD, (float) getLr(), (float) momentum, (float) dampening, nesterov,
                (float) weightDecay, 0f, 0f, 0f, step, first);
    }

    @Override
    protected Map<String, String> hyperParameters() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("momentum", Double.toString(momentum));
        m.put("dampening", Double.toString(dampening));
        m.put("nesterov", Boolean.toString(nesterov));
        m.put("weight_decay", Double.toString(weightDecay));
        return m;
    }

    @Override
    protected Runnable prepareHyperParameters(Map<String, String> v) {
        Builder b = new Builder(params());
        b.lr = getLr();
        b.momentum = number(v, "momentum", momentum);
        b.dampening = number(v, "dampening", dampening);
        b.nesterov = bool(v, "nesterov", nesterov);
        b.weightDecay = number(v, "weight_decay", weightDecay);
        b.validate();
        return () -> {
            momentum = b.momentum;
            dampening = b.dampening;
            nesterov = b.nesterov;
            weightDecay = b.weightDecay;
        };
    }

    @Override
    public String toString() {
        return "SGD(lr=" + getLr() + ", momentum=" + momentum + ", dampening=" + dampening + ", nesterov=" + nesterov
                + ", weightDecay=" + weightDecay + ")";
    }

    /** Defaults are PyTorch's: lr 1e-3 (PyTorch 2.x; 1.x required it), everything else off. */
    public static final class Builder {
        private final List<Tensor> params;
        private double lr = 1e-3;
        private double momentum;
        private double dampening;
        private boolean nesterov;
        private double weightDecay;

        private Builder(List<Tensor> params) {
            this.params = params;
        }

        /** Sets the learning rate ({@code lr}, finite and at least 0, default 1e-3); returns this builder. */
        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        /** Sets the momentum factor ({@code momentum}, finite and at least 0, default 0); returns this builder. */
        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        /** Sets the dampening for momentum ({@code dampening}, finite, default 0); returns this builder. */
        public Builder dampening(double dampening) {
            this.dampening = dampening;
            return this;
        }

        /**
         * Enables Nesterov momentum ({@code nesterov}, default false; needs a momentum and zero dampening); returns this builder.
         */
        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        /** Sets the L2 penalty ({@code weight_decay}, finite and at least 0, default 0); returns this builder. */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /** Checks the values with PyTorch's rules; messages name the bad value. */
        private Builder validate() {
            if (!(lr >= 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException("SGD: invalid learning rate: " + lr + " (lr must be finite and >= 0)");
            }
            if (!(momentum >= 0) || Double.isInfinite(momentum)) {
                throw new IllegalArgumentException("SGD: invalid momentum value: " + momentum + " (must be finite and >= 0)");
            }
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException("SGD: invalid weight_decay value: " + weightDecay + " (must be finite and >= 0)");
            }
            if (Double.isNaN(dampening) || Double.isInfinite(dampening)) {
                throw new IllegalArgumentException("SGD: invalid dampening value: " + dampening + " (must be finite)");
            }
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening (got momentum="
                        + momentum + ", dampening=" + dampening + ")");
            }
            return this;
        }

        /**
         * Validates the settings with PyTorch's rules and creates the optimizer.
         *
         * @throws IllegalArgumentException naming the first bad setting
         */
        public SGD build() {
            return new SGD(validate());
        }
    }
}
