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

    public static Builder builder() {
        return new Builder();
    }

    public Tensor forward(Tensor logits, int[] target) {
        return Losses.crossEntropy(logits, target, reduction, ignoreIndex);
    }

    /** Targets as a tensor of integral floats. */
    public Tensor forward(Tensor logits, Tensor target) {
        return Losses.crossEntropy(logits, target.toIntArray("cross_entropy", "target"), reduction, ignoreIndex);
    }

    public Reduction reduction() {
        return reduction;
    }

    public int ignoreIndex() {
        return ignoreIndex;
    }

    @Override
    public String toString() {
        return "CrossEntropyLoss(reduction=" + reduction + ", ignoreIndex=" + ignoreIndex + ")";
    }

    public static final class Builder {
        private Reduction reduction = Reduction.MEAN;
        private int ignoreIndex = Losses.DEFAULT_IGNORE_INDEX;

        private Builder() {
        }

        public Builder reduction(Reduction reduction) {
            this.reduction = reduction;
            return this;
        }

        public Builder ignoreIndex(int ignoreIndex) {
            this.ignoreIndex = ignoreIndex;
            return this;
        }

        public CrossEntropyLoss build() {
            if (reduction == null) {
                throw new IllegalArgumentException("CrossEntropyLoss: reduction must not be null");
            }
            return new CrossEntropyLoss(this);
        }
    }
}
