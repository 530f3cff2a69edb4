package org.rnn4j.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.Tensor;

/**
 * RMSprop ({@code torch.optim.RMSprop}, maximize off), written with tensor ops through
 * {@link Optimizer#apply} (no fused kernel). Per parameter, with {@code g} the gradient:
 * <pre>
 * g = g + weight_decay * p                                  (if weight_decay != 0)
 * square_avg = alpha * square_avg + (1 - alpha) * g * g
 * avg = sqrt(square_avg) + eps                              (not centered)
 * grad_avg = alpha * grad_avg + (1 - alpha) * g             (centered)
 * avg = sqrt(square_avg - grad_avg * grad_avg) + eps        (centered)
 * buf = momentum * buf + g / avg;  p -= lr * buf            (momentum > 0)
 * p -= lr * g / avg                                         (momentum == 0)
 * </pre>
 * All buffers start at zero. State keys are PyTorch's: {@code square_avg},
 * {@code momentum_buffer} (when momentum &gt; 0), {@code grad_avg} (when centered) and
 * {@code step}. Whether there is a momentum buffer and whether it is centered are fixed when the
 * optimizer is built (they decide its buffers): {@link #loadStateDict} refuses state that
 * changes them, and accepts any other value of the settings.
 * <pre>{@code
 * RMSprop opt = RMSprop.builder(model.parameters()).lr(1e-3).momentum(0.9).centered(true).build();
 * }</pre>
 */
public final class RMSprop extends Optimizer {
    private double alpha;
    private double eps;
    private double weightDecay;
    private double momentum;
    private final boolean centered;
    /** Indices of the buffers in the state array, or -1 when absent. */
    private final int momentumSlot;
    private final int gradAvgSlot;

    private RMSprop(Builder b) {
        super("RMSprop", b.params, b.lr, stateNames(b.momentum > 0, b.centered));
        this.alpha = b.alpha;
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.momentum = b.momentum;
        this.centered = b.centered;
        this.momentumSlot = b.momentum > 0 ? 1 : -1;
        this.gradAvgSlot = b.centered ? (b.momentum > 0 ? 2 : 1) : -1;
    }

    private static String[] stateNames(boolean momentum, boolean centered) {
        List<String> names = new ArrayList<>(List.of("square_avg"));
        if (momentum) {
            names.add("momentum_buffer");
        }
        if (centered) {
            names.add("grad_avg");
        }
        return names.toArray(new String[0]);
    }

    /** RMSprop with PyTorch's defaults and the given learning rate. */
    public RMSprop(List<Tensor> params, double lr) {
        this(builder(params).lr(lr).validate());
    }

    /** A builder over {@code params} with PyTorch's defaults (lr 0.01, alpha 0.99, eps 1e-8, no weight decay, momentum or centering). */
    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    /** Smoothing constant of the running average of squared gradients. */
    public double alpha() {
        return alpha;
    }

    /** Term added to the denominator for numerical stability. */
    public double eps() {
        return eps;
    }

    /** L2 penalty added to the gradient ({@code grad + weightDecay * param}). */
    public double weightDecay() {
        return weightDecay;
    }

    /** Momentum factor (0: none, and no {@code momentum_buffer}). */
    public double momentum() {
        return momentum;
    }

    /** Whether the gradient is normalised by an estimate of its variance ({@code grad_avg} kept). */
    public boolean centered() {
        return centered;
    }

    @Override
    protected boolean savesStep() {
        return true;
    }

    @Override
    protected void apply(int i, Tensor param, Tensor grad, Tensor[] state, long step) {
        Tensor g = weightDecay != 0 ? grad.add(param.mul((float) weightDecay)) : grad;
        Tensor squareAvg = state[0];
        squareAvg.mulInPlace((float) alpha).addInPlace(g.square(), (float) (1 - alpha));
        Tensor avg;
        if (centered) {
            Tensor gradAvg = state[gradAvgSlot];
            gradAvg.mulInPlace((float) alpha).addInPlace(g, (float) (1 - alpha));
            avg = squareAvg.sub(gradAvg.square()).sqrt();
        } else {
            avg = squareAvg.sqrt();
        }
        avg = avg.add((float) eps);
        if (momentum > 0) {
            Tensor buf = state[momentumSlot];
            buf.mulInPlace((float) momentum).addInPlace(g.div(avg), 1f);
            param.addInPlace(buf, (float) -getLr());
        } else {
            param.addInPlace(g.div(avg), (float) -getLr());
        }
    }

    @Override
    protected Map<String, String> hyperParameters() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("alpha", Double.toString(alpha));
        m.put("eps", Double.toString(eps));
        m.put("weight_decay", Double.toString(weightDecay));
        m.put("momentum", Double.toString(momentum));
        m.put("centered", Boolean.toString(centered));
        return m;
    }

    @Override
    protected Runnable prepareHyperParameters(Map<String, String> v) {
        Builder b = new Builder(params());
        b.lr = getLr();
        b.alpha = number(v, "alpha", alpha);
        b.eps = number(v, "eps", eps);
        b.weightDecay = number(v, "weight_decay", weightDecay);
        b.momentum = number(v, "momentum", momentum);
        b.centered = bool(v, "centered", centered);
        String where = name() + ".loadStateDict";
        b.validate(where);
        if (b.centered != centered) {
            throw new IllegalArgumentException(where + ": 'centered' is " + b.centered + " in the state, this optimizer was built with "
                    + centered + " (it decides the grad_avg buffer)");
        }
        if ((b.momentum > 0) != (momentum > 0)) {
            throw new IllegalArgumentException(where + ": 'momentum' is " + b.momentum + " in the state, this optimizer was built with "
                    + momentum + " (momentum > 0 decides the momentum_buffer buffer)");
        }
        return () -> {
            alpha = b.alpha;
            eps = b.eps;
            weightDecay = b.weightDecay;
            momentum = b.momentum;
        };
    }

    @Override
    public String toString() {
        return "RMSprop(lr=" + getLr() + ", alpha=" + alpha + ", eps=" + eps + ", weightDecay=" + weightDecay
                + ", momentum=" + momentum + ", centered=" + centered + ")";
    }

    /** Defaults are PyTorch's: lr 1e-2, alpha 0.99, eps 1e-8, weight decay 0, momentum 0, not centered. */
    public static final class Builder {
        private final List<Tensor> params;
        private double lr = 1e-2;
        private double alpha = 0.99;
        private double eps = 1e-8;
        private double weightDecay;
        private double momentum;
        private boolean centered;

        private Builder(List<Tensor> params) {
            this.params = params;
        }

        /** Learning rate, finite and >= 0 (default 0.01). */
        public Builder lr(double lr) {
            this.lr = lr;
            return this;
        }

        /** The smoothing constant of the squared-gradient average. */
        public Builder alpha(double alpha) {
            this.alpha = alpha;
            return this;
        }

        /** Denominator term, finite and >= 0 (default 1e-8). */
        public Builder eps(double eps) {
            this.eps = eps;
            return this;
        }

        /** L2 penalty, finite and >= 0 (default 0). */
        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        /** Momentum factor, finite and >= 0 (default 0). */
        public Builder momentum(double momentum) {
            this.momentum = momentum;
            return this;
        }

        /** Normalizes by the estimated variance of the gradient instead of its second moment. */
        public Builder centered(boolean centered) {
            this.centered = centered;
            return this;
        }

        private Builder validate() {
            return validate("RMSprop");
        }

        /** PyTorch's checks (all values finite besides); messages name the bad value. */
        private Builder validate(String where) {
            if (!(lr >= 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException(where + ": invalid learning rate: " + lr + " (lr must be finite and >= 0)");
            }
            if (!(eps >= 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException(where + ": invalid epsilon value: " + eps + " (eps must be finite and >= 0)");
            }
            if (!(momentum >= 0) || Double.isInfinite(momentum)) {
                throw new IllegalArgumentException(where + ": invalid momentum value: " + momentum + " (must be finite and >= 0)");
            }
            if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
                throw new IllegalArgumentException(where + ": invalid weight_decay value: " + weightDecay + " (must be finite and >= 0)");
            }
            if (!(alpha >= 0) || Double.isInfinite(alpha)) {
                throw new IllegalArgumentException(where + ": invalid alpha value: " + alpha + " (must be finite and >= 0)");
            }
            return this;
        }

        /** The optimizer; every setting is validated here, by name. */
        public RMSprop build() {
            return new RMSprop(validate());
        }
    }
}
