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

    public static Builder builder() {
        return new Builder();
    }

    public Tensor forward(Tensor input, Tensor target) {
        return Losses.mse(input, target, reduction);
    }

    public Reduction reduction() {
        return reduction;
    }

    @Override
    public String toString() {
        return "MSELoss(reduction=" + reduction + ")";
    }

    public static final class Builder {
        private Reduction reduction = Reduction.MEAN;

        private Builder() {
        }

        public Builder reduction(Reduction reduction) {
            this.reduction = reduction;
            return this;
        }

        public MSELoss build() {
            if (reduction == null) {
                throw new IllegalArgumentException("MSELoss: reduction must not be null");
            }
            return new MSELoss(this);
        }
    }
}
