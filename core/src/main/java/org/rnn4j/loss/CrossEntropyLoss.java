package org.rnn4j.loss;

import org.rnn4j.Tensor;

/**
 * {@code torch.nn.CrossEntropyLoss} with class-index targets: see
 * {@link Losses#crossEntropy(Tensor, int[], Reduction, int)} for shapes.
 * <pre>{@code
 * CrossEntropyLoss criterion = CrossEntropyLoss.builder().ignoreIndex(0).build();
 * Tensor loss = criterion.forward(logits, targets);
 * }</pre>
 * Class weights and label smoothing are not supported.
 */
public final class CrossEntropyLoss {
    private final Reduction reduction;
    private final int ignoreIndex;

    /** PyTorch defaults: mean reduction, ignore index -100. */
    public CrossEntropyLoss() {
        this(builder());
    }

    private CrossEntropyLoss(Builder b) {
        this.reduction = b.reduction;
        this.ignoreIndex = b.ignoreIndex;
    }

    /** A builder with PyTorch's defaults (mean reduction, ignore index -100). */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The loss of {@code logits} against class indices {@code target}: {@code criterion(logits, target)}.
     * Shapes as in {@link Losses#crossEntropy(Tensor, int[], Reduction, int)}.
     */
    public Tensor forward(Tensor logits, int[] target) {
        return Losses.crossEntropy(logits, target, reduction, ignoreIndex);
    }

    /** Targets as a tensor of integral floats. */
    public Tensor forward(Tensor logits, Tensor target) {
        return Losses.crossEntropy(logits, target.toIntArray("cross_entropy", "target"), reduction, ignoreIndex);
    }

    /** How per-row losses are reduced. */
    public Reduction reduction() {
        return reduction;
    }

    /** The target value whose rows are left out of the loss and its mean ({@code ignore_index}). */
    public int ignoreIndex() {
        return ignoreIndex;
    }

    @Override
    public String toString() {
        return "CrossEntropyLoss(reduction=" + reduction + ", ignoreIndex=" + ignoreIndex + ")";
    }

    /** Builder for {@link CrossEntropyLoss}; start from {@link CrossEntropyLoss#builder()}. */
    public static final class Builder {
        private Reduction reduction = Reduction.MEAN;
        private int ignoreIndex = Losses.DEFAULT_IGNORE_INDEX;

        private Builder() {
        }

        /** Sets the reduction ({@code reduction}, default {@link Reduction#MEAN}); returns this builder. */
        public Builder reduction(Reduction reduction) {
            this.reduction = reduction;
            return this;
        }

        /** Sets the target value to ignore ({@code ignore_index}, default -100); returns this builder. */
        public Builder ignoreIndex(int ignoreIndex) {
            this.ignoreIndex = ignoreIndex;
            return this;
        }

        /**
         * Creates the loss.
         *
         * @throws IllegalArgumentException if the reduction is null
         */
        public CrossEntropyLoss build() {
            if (reduction == null) {
                throw new IllegalArgumentException("CrossEntropyLoss: reduction must not be null");
            }
            return new CrossEntropyLoss(this);
        }
    }
}
