package org.rnn4j.optim;

/**
 * Cosine annealing from the base lr down to {@code etaMin} over {@code tMax} epochs, then back
 * up, periodically ({@code torch.optim.lr_scheduler.CosineAnnealingLR}, without restarts).
 * Closed form: {@code etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2}; the steps
 * use PyTorch's recursive form, which equals it up to rounding and follows manual lr changes.
 */
public final class CosineAnnealingLR extends LRScheduler {
    private final int tMax;
    private final double etaMin;

    /** PyTorch's default etaMin is 0. */
    public CosineAnnealingLR(Optimizer optimizer, int tMax) {
        this(optimizer, tMax, 0.0);
    }

    /**
     * torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min); performs the initial step.
     *
     * @throws IllegalArgumentException if {@code tMax} is not positive or {@code etaMin} is negative
     *     or not finite
     */
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin) {
        super(optimizer);
        if (tMax <= 0) {
            throw new IllegalArgumentException("CosineAnnealingLR: tMax must be > 0, got " + tMax);
        }
        if (!(etaMin >= 0) || Double.isInfinite(etaMin)) {
            // a negative floor drives the lr below zero part-way through the first cycle, where
            // the optimizer would refuse it many steps after this constructor returned
            throw new IllegalArgumentException("CosineAnnealingLR: etaMin must be finite and >= 0 (it is the lowest "
                    + "learning rate of the schedule), got " + etaMin);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
        initialStep();
    }

    @Override
    protected double computeLr(int epoch, double lr) {
        if (epoch == 0) {
            return lr;
        }
        // Python's % is a floor modulo: (epoch - 1 - tMax) is negative for the first tMax epochs
        if (Math.floorMod(epoch - 1 - tMax, 2 * tMax) == 0) {
            return lr + (baseLr - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2;
        }
        return (1 + Math.cos(Math.PI * epoch / tMax)) / (1 + Math.cos(Math.PI * (epoch - 1) / tMax))
                * (lr - etaMin) + etaMin;
    }

    /** PyTorch's {@code _get_closed_form_lr}. */
    public double closedFormLr(int epoch) {
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }
}
