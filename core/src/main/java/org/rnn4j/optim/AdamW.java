package org.rnn4j.optim;

import java.util.List;
import org.rnn4j.Tensor;
import org.rnn4j.backend.OptimizerStep;

/**
 * AdamW ({@code torch.optim.AdamW}): Adam whose weight decay shrinks the parameter directly,
 * {@code p *= 1 - lr * weightDecay}, instead of being added to the gradient.
 */
public final class AdamW extends AdamBase {
    private AdamW(Builder b) {
        super("AdamW", OptimizerStep.Kind.ADAMW, b);
    }

    /** AdamW with PyTorch's defaults (weight decay 1e-2) and the given learning rate. */
    public AdamW(List<Tensor> params, double lr) {
        this(builder(params).lr(lr).validate("AdamW"));
    }

    /** A builder for an AdamW over {@code params}, with PyTorch's defaults. */
    public static Builder builder(List<Tensor> params) {
        return new Builder(params);
    }

    /** Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 1e-2. */
    public static final class Builder extends AdamBase.Config<Builder> {
        private Builder(List<Tensor> params) {
            super(params, 1e-2);
        }

        /**
         * Validates the settings with PyTorch's rules and creates the optimizer.
         *
         * @throws IllegalArgumentException naming the first bad setting
         */
        public AdamW build() {
            return new AdamW(validate("AdamW"));
        }
    }
}
