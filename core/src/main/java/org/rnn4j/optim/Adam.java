package org.rnn4j.optim;

import java.util.List;
import org.rnn4j.Tensor;
import org.rnn4j.backend.OptimizerStep;

/**
 * Adam ({@code torch.optim.Adam}, amsgrad off) with L2 weight decay added to the gradient;
 * {@link AdamW} decouples the decay.
 * <pre>{@code
 * Adam opt = Adam.builder(model.parameters()).lr(1e-3).build();
 * }</pre>
 */
public final class Adam extends AdamBase {
    private Adam(Builder b) {
        super("Adam", OptimizerStep.Kind.ADAM, b);
    }

    /** Adam with PyTorch's defaults and the given learning rate. */
    public Adam(List<Tensor> params, double lr) {
        this(builder(params).lr(lr).validate("Adam"));
    }

    /** A builder for an Adam over {@code params}, with PyTorch's defaults. */
    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    /** Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0. */
    public static final class Builder extends AdamBase.Config<Builder> {
        private Builder(List<Tensor> params) {
            super(params, 0);
        }

        /**
         * Validates the settings with PyTorch's rules and creates the optimizer.
         *
         * @throws IllegalArgumentException naming the first bad setting
         */
        public Adam build() {
            return new Adam(validate("Adam"));
        }
    }
}
