package org.rnn4j.optim;

/**
 * Base of the learning-rate schedulers ({@code torch.optim.lr_scheduler}). Like PyTorch, the
 * constructor performs step 0 (which keeps the optimizer's current lr as the base lr), and each
 * {@link #step()} advances one epoch and writes the new lr into the optimizer with PyTorch's
 * recursive ("chainable") formulas, so that the sequence matches PyTorch's {@code get_last_lr()}.
 * Call {@code optimizer.step()} before {@code scheduler.step()}, as in PyTorch.
 */
public abstract class LRScheduler {
    /** The optimizer whose learning rate this scheduler sets. */
    protected final Optimizer optimizer;
    /** The optimizer's learning rate when the scheduler was created (PyTorch's {@code base_lrs[0]}). */
    protected final double baseLr;
    private int lastEpoch = -1;
    private double lastLr;

    /**
     * Takes the optimizer's current learning rate as the base; the subclass constructor must end with {@link #initialStep()}.
     *
     * @throws IllegalArgumentException if {@code optimizer} is null
     */
    protected LRScheduler(Optimizer optimizer) {
        if (optimizer == null) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": optimizer is null");
        }
        this.optimizer = optimizer;
        this.baseLr = optimizer.getLr();
    }

    /** Must be called at the end of the subclass constructor: PyTorch's initial step. */
    protected final void initialStep() {
        step();
    }

    /** The lr for {@link #lastEpoch()} given the optimizer's current lr (PyTorch's {@code get_lr}). */
    protected abstract double computeLr(int epoch, double currentLr);

    /** Advances one epoch and sets the optimizer's learning rate. */
    public void step() {
        int epoch = lastEpoch + 1;
        double lr = computeLr(epoch, optimizer.getLr());
        optimizer.setLr(lr);   // refuses a non-finite or negative lr before anything here changes
        lastEpoch = epoch;
        lastLr = lr;
    }

    /** The lr set by the last {@link #step()} ({@code get_last_lr()[0]}). */
    public double lastLr() {
        return lastLr;
    }

    /** The number of steps taken since construction (PyTorch's {@code last_epoch}). */
    public int lastEpoch() {
        return lastEpoch;
    }

    /** The base learning rate (the optimizer's when the scheduler was created). */
    public double baseLr() {
        return baseLr;
    }
}
