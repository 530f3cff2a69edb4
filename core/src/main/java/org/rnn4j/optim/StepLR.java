package org.rnn4j.optim;

/** Multiplies the lr by {@code gamma} every {@code stepSize} epochs ({@code torch.optim.lr_scheduler.StepLR}). */
public final class StepLR extends LRScheduler {
    private final int stepSize;
    private final double gamma;

    /** PyTorch's default gamma is 0.1. */
    public StepLR(Optimizer optimizer, int stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    /**
     * torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma); performs the initial step.
     *
     * @throws IllegalArgumentException if {@code stepSize} is not positive or {@code gamma} is
     *     negative or not finite
     */
    public StepLR(Optimizer optimizer, int stepSize, double gamma) {
        super(optimizer);
        if (stepSize <= 0) {
            throw new IllegalArgumentException("StepLR: stepSize must be > 0, got " + stepSize);
        }
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("StepLR: gamma must be finite and >= 0, got " + gamma);
        }
        this.stepSize = stepSize;
        this.gamma = gamma;
        initialStep();
    }

    @Override
    protected double computeLr(int epoch, double currentLr) {
        if (epoch == 0 || epoch % stepSize != 0) {
            return currentLr;
        }
        return currentLr * gamma;
    }
}
