package org.rnn4j.loss;

import org.rnn4j.backend.Pins;
import java.util.Arrays;
import org.rnn4j.GradFn;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

/**
 * Loss functions with PyTorch semantics ({@code torch.nn.functional}).
 *
 * <p>Shapes: R = rows (batch positions), C = classes. Class targets are {@code int[]} because they
 * are indices, not data; a row whose target equals {@code ignoreIndex} contributes loss 0 and
 * gradient 0, and is not counted by the mean.
 *
 * <p>Every function works under {@link GradMode#noGrad()}: then no graph is recorded and the cross
 * entropy kernel skips computing the gradient altogether.
 */
public final class Losses {
    /** PyTorch's default {@code ignore_index}. */
    public static final int DEFAULT_IGNORE_INDEX = -100;

    private Losses() {
    }

    // ---- cross entropy -------------------------------------------------------------------

    /** {@code F.cross_entropy(logits, target)}: mean reduction, ignore index -100. */
    public static Tensor crossEntropy(Tensor logits, int[] target) {
        return crossEntropy(logits, target, Reduction.MEAN, DEFAULT_IGNORE_INDEX);
    }

    /** Same with the targets as a tensor of integral floats (the fixtures' and PyTorch users' form). */
    public static Tensor crossEntropy(Tensor logits, Tensor target, Reduction reduction, int ignoreIndex) {
        return crossEntropy(logits, target.toIntArray("cross_entropy", "target"), reduction, ignoreIndex);
    }

    /**
     * {@code F.cross_entropy(logits, target, reduction=, ignore_index=)} with class-index targets.
     *
     * <p>Logits may be (R, C) with {@code target.length == R}; (C) with one target (unbatched, a
     * 0-d loss for every reduction); or PyTorch's K-dimensional form (N, C, d1, ..., dk) with
     * targets for (N, d1, ..., dk) in row-major order, where NONE returns (N, d1, ..., dk).
     * The 2-D case is one fused backend call computing the loss and, when a gradient is
     * needed, d(loss)/d(logits); the other forms are views onto it.
     */
    public static Tensor crossEntropy(Tensor logits, int[] target, Reduction reduction, int ignoreIndex) {
        logits.ensureOpen("cross_entropy");
        int[] s = logits.shape();
        switch (s.length) {
            case 0:
                throw new IllegalArgumentException("cross_entropy: argument 'input' must be at least 1-D (C) or (N, C), got a 0-d tensor");
            case 1: {
                requireTargets("cross_entropy", target, 1, s);
                Tensor loss = crossEntropyRows(logits.reshape(1, s[0]), target, reduction, ignoreIndex);
                return reduction == Reduction.NONE ? loss.reshape() : loss;
            }
            case 2:
                return crossEntropyRows(logits, target, reduction, ignoreIndex);
            default: {
                // (N, C, d1..dk) -> (N, d1..dk, C) -> (N*d1*..*dk, C): the row order then matches
                // the targets' row-major (N, d1..dk) order
                int c = s[1];
                int[] perm = new int[s.length];
                int[] rest = new int[s.length - 1];
                perm[0] = 0;
                rest[0] = s[0];
                for (int d = 2; d < s.length; d++) {
                    perm[d - 1] = d;
                    rest[d - 1] = s[d];
                }
                perm[s.length - 1] = 1;
                Tensor rows = logits.permute(perm).reshape(kDimRows("cross_entropy", s, target), c);
                Tensor loss = crossEntropyRows(rows, target, reduction, ignoreIndex);
                return reduction == Reduction.NONE ? loss.reshape(rest) : loss;
            }
        }
    }

    /** Logits (R, C), targets (R). */
    private static Tensor crossEntropyRows(Tensor logits, int[] target, Reduction reduction, int ignoreIndex) {
        int rows = logits.size(0);
        int classes = logits.size(1);
        requireTargets("cross_entropy", target, rows, logits.shape());
        int counted = countAndCheckTargets("cross_entropy", target, classes, ignoreIndex);
        boolean needGrad = GradMode.isEnabled() && logits.requiresGrad();
        // mean: the kernel folds 1/counted into dlogits, so backward is one multiply by the
        // upstream gradient; with nothing counted PyTorch's loss is 0/0 = NaN and its gradient 0
        float gradScale = reduction == Reduction.MEAN ? (counted > 0 ? 1f / counted : 0f) : 1f;
        Tensor lossPerRow = Tensor.zeros(logits.device(), rows);                        // (R)
        Tensor dlogits = needGrad ? Tensor.zeros(logits.device(), rows, classes) : null;  // (R, C)
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor z = logits.contiguous();
            try {
                // no rows: nothing to compute; no classes: every row is ignored (the targets were
                // checked), so loss and gradient stay 0 on every backend
                if (rows > 0 && classes > 0) {
                    try (Pins pins = new Pins()) {
                        logits.backend().crossEntropy(lossPerRow.pin(pins), dlogits == null ? null : dlogits.pin(pins),
                                z.pin(pins), target, ignoreIndex, gradScale);
                    }
                }
            } catch (RuntimeException | Error e) {
                lossPerRow.close();
                if (dlogits != null) {
                    dlogits.close();
                }
                throw e;
            } finally {
                if (z != logits) {
                    z.close();
                }
            }
        }
        Tensor out = reduce(lossPerRow, reduction, counted);
        if (dlogits == null) {
            return out;
        }
        int[] upstreamShape = reduction == Reduction.NONE ? new int[] {rows, 1} : new int[0];
        Tensor saved = dlogits;
        out.attach(new GradFn("CrossEntropyLoss", 1, logits) {
            @Override
            protected Tensor[] backward(Tensor[] gradOutputs) {
                Tensor g = gradOutputs[0];
                if (g == null) {
                    return new Tensor[] {null};
                }
                // (R, C) * (R, 1) for NONE, * () for MEAN/SUM
                return new Tensor[] {saved.mul(g.reshape(upstreamShape))};
            }

            @Override
            protected void release() {
                saved.close();
            }
        }, 0);
        return out;
    }

    // ---- negative log-likelihood ---------------------------------------------------------

    /** {@code F.nll_loss(logProbs, target)}: mean reduction, ignore index -100. */
    public static Tensor nllLoss(Tensor logProbs, int[] target) {
        return nllLoss(logProbs, target, Reduction.MEAN, DEFAULT_IGNORE_INDEX);
    }

    /**
     * {@code F.nll_loss}: loss[r] = -logProbs[r, target[r]], 0 for ignored rows; same shapes as
     * {@link #crossEntropy(Tensor, int[], Reduction, int)}. Built from gather, so its gradient
     * comes from the ops it is made of.
     */
    public static Tensor nllLoss(Tensor logProbs, int[] target, Reduction reduction, int ignoreIndex) {
        logProbs.ensureOpen("nll_loss");
        int[] s = logProbs.shape();
        switch (s.length) {
            case 0:
                throw new IllegalArgumentException("nll_loss: argument 'input' must be at least 1-D (C) or (N, C), got a 0-d tensor");
            case 1: {
                requireTargets("nll_loss", target, 1, s);
                Tensor loss = nllRows(logProbs.reshape(1, s[0]), target, reduction, ignoreIndex);
                return reduction == Reduction.NONE ? loss.reshape() : loss;
            }
            case 2:
                return nllRows(logProbs, target, reduction, ignoreIndex);
            default: {
                int c = s[1];
                int[] perm = new int[s.length];
                int[] rest = new int[s.length - 1];
                rest[0] = s[0];
                for (int d = 2; d < s.length; d++) {
                    perm[d - 1] = d;
                    rest[d - 1] = s[d];
                }
                perm[s.length - 1] = 1;
                Tensor loss = nllRows(logProbs.permute(perm).reshape(kDimRows("nll_loss", s, target), c), target, reduction,
                        ignoreIndex);
                return reduction == Reduction.NONE ? loss.reshape(rest) : loss;
            }
        }
    }

    private static Tensor nllRows(Tensor logProbs, int[] target, Reduction reduction, int ignoreIndex) {
        int rows = logProbs.size(0);
        int classes = logProbs.size(1);
        requireTargets("nll_loss", target, rows, logProbs.shape());
        int counted = countAndCheckTargets("nll_loss", target, classes, ignoreIndex);
        float[] index = new float[rows];   // ignored rows pick class 0, then the mask zeroes them
        float[] keep = new float[rows];
        for (int r = 0; r < rows; r++) {
            boolean ignored = target[r] == ignoreIndex;
            index[r] = ignored ? 0 : target[r];
            keep[r] = ignored ? 0 : -1;
        }
        Tensor sign = Tensor.fromArray(keep, rows).to(logProbs.device());
        Tensor perRow;   // (R)
        if (classes == 0) {
            // every row is ignored (the targets were checked): 0 each, a zero-size gradient
            perRow = logProbs.sum(1, false).mul(sign);
        } else {
            Tensor idx = Tensor.fromArray(index, rows, 1);
            perRow = logProbs.gather(1, idx).reshape(rows).mul(sign);
            idx.close();
        }
        if (reduction == Reduction.NONE) {
            return perRow;
        }
        Tensor sum = perRow.sum();
        if (reduction == Reduction.SUM) {
            return sum;
        }
        // nothing counted: PyTorch's 0/0 = NaN, with a zero gradient (a division by 0 would
        // send 0 * inf = NaN back into every ignored row)
        return counted == 0 ? sum.mul(0f).add(Float.NaN) : sum.div(counted);
    }

    // ---- mean squared error --------------------------------------------------------------

    /** {@code F.mse_loss(input, target)} with mean reduction. */
    public static Tensor mse(Tensor input, Tensor target) {
        return mse(input, target, Reduction.MEAN);
    }

    /**
     * {@code F.mse_loss(input, target, reduction=)}: (input - target)^2, reduced. Both inputs
     * get gradients if they require them. Unlike PyTorch, which only warns, shapes must be
     * equal: a broadcast here is almost always an (N) vs (N, 1) mistake that silently trains
     * on the wrong loss.
     */
    public static Tensor mse(Tensor input, Tensor target, Reduction reduction) {
        input.ensureOpen("mse_loss");
        target.ensureOpen("mse_loss");
        if (!Arrays.equals(input.shape(), target.shape())) {
            throw new IllegalArgumentException("mse_loss: target shape " + Arrays.toString(target.shape())
                    + " differs from input shape " + Arrays.toString(input.shape())
                    + "; reshape one of them (rnn4j does not broadcast losses)");
        }
        Tensor sq = input.sub(target).square();
        return switch (reduction) {
            case NONE -> sq;
            case SUM -> sq.sum();
            case MEAN -> sq.mean();
        };
    }

    // ---- helpers -------------------------------------------------------------------------

    private static Tensor reduce(Tensor lossPerRow, Reduction reduction, int counted) {
        if (reduction == Reduction.NONE) {
            return lossPerRow;
        }
        Tensor out;
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor sum = lossPerRow.sum();
            out = reduction == Reduction.SUM ? sum : sum.div(counted);
            if (out != sum) {
                sum.close();
            }
        }
        lossPerRow.close();
        return out;
    }

    /**
     * The rows (N*d1*..*dk) of the K-dimensional form (N, C, d1, ..., dk). With no classes a
     * non-empty input is refused, as Debian's PyTorch 1.13 does (its view of the logits fails);
     * an empty one gives an empty loss.
     */
    private static int kDimRows(String op, int[] s, int[] target) {
        long rows = s[0];
        for (int d = 2; d < s.length; d++) {
            rows *= s[d];
        }
        if (s[1] == 0 && rows > 0) {
            throw new IllegalArgumentException(op + ": argument 'input' of shape " + Arrays.toString(s)
                    + " has no classes (dim 1 is 0) for " + rows + " target positions");
        }
        return (int) rows;
    }

    private static void requireTargets(String op, int[] target, int rows, int[] inputShape) {
        if (target == null) {
            throw new IllegalArgumentException(op + ": argument 'target' is null");
        }
        if (target.length != rows) {
            throw new IllegalArgumentException(op + ": expected " + rows + " targets for input of shape "
                    + Arrays.toString(inputShape) + ", got " + target.length);
        }
    }

    /** Range-checks targets (the backend contract) and counts the non-ignored ones. */
    private static int countAndCheckTargets(String op, int[] target, int classes, int ignoreIndex) {
        int counted = 0;
        for (int r = 0; r < target.length; r++) {
            int t = target[r];
            if (t == ignoreIndex) {
                continue;
            }
            if (t < 0 || t >= classes) {
                throw new IndexOutOfBoundsException(op + ": target " + t + " at row " + r + " is out of bounds for "
                        + classes + " classes (ignore_index is " + ignoreIndex + ")");
            }
            counted++;
        }
        return counted;
    }
}
