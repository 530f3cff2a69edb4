package org.rnn4j.loss;

import org.rnn4j.Tensor;

/** {@code torch.nn.MSELoss}: see {@link Losses#mse(Tensor, Tensor, Reduction)}. */
public final class MSELoss {
    private final Reduction reduction;

    /** PyTorch default: mean reduction. */
    public MSELoss() {
        this(builder());
    }

    private MSELoss(Builder b) {
        this.reduction = b.reduction;
    }

    /** A builder with PyTorch's default (mean reduction). */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The squared-error loss of {@code input} against {@code target}: {@code criterion(input, target)};
     * see {@link Losses#mse(Tensor, Tensor, Reduction)}.
     */
    public Tensor forward(Tensor input, Tensor target) {
        return Losses.mse(input, target, reduction);
    }

    /** How per-element losses are reduced. */
    public Reduction reduction() {
        return reduction;
    }

    @Override
    public String toString() {
        return "MSELoss(reduction=" + reduction + ")";
    }

    /** Builder for {@link MSELoss}; start from {@link MSELoss#builder()}. */
    public static final class Builder {
        private Reduction reduction = Reduction.MEAN;

        private Builder() {
        }

        /** Sets the reduction ({@code reduction}, default {@link Reduction#MEAN}); returns this builder. */
        public Builder reduction(Reduction reduction) {
            this.reduction = reduction;
            return this;
        }

        /**
         * Creates the loss.
         *
         * @throws IllegalArgumentException if the reduction is null
         */
        public MSELoss build() {
            if (reduction == null) {
                throw new IllegalArgumentException("MSELoss: reduction must not be null");
            }
            return new MSELoss(this);
        }
    }
}
