package org.rnn4j.optim;

import org.rnn4j.backend.Pins;
import org.rnn4j.backend.View;
import java.util.ArrayList;
import java.util.List;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.BinaryOp;

/** Gradient clipping ({@code torch.nn.utils.clip_grad_norm_} / {@code clip_grad_value_}), in place on {@code p.grad()}. */
public final class GradClip {
    private GradClip() {
    }

    /** {@link #clipGradNorm(List, double, double)} with the 2-norm. */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        return clipGradNorm(params, maxNorm, 2.0);
    }

    /**
     * Scales all gradients together so that their total norm (the norm of the per-tensor norms)
     * is at most {@code maxNorm}: by {@code maxNorm / (total + 1e-6)} when that is below 1.
     * Parameters without a gradient are skipped. The norm is computed in double: the 2-norm with
     * one fused {@code sumSquares} call over all gradients and one fused {@code scale} call,
     * the inf-norm as the largest |g|; other p use |g|^p sums.
     *
     * @param normType 2, {@code Double.POSITIVE_INFINITY}, or any other p > 0
     * @return the total norm before clipping (NaN or infinite if a gradient is; then, like
     *     PyTorch with {@code error_if_nonfinite=False}, the gradients are scaled by NaN or 0)
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm, double normType) {
        if (!(normType > 0)) {
            throw new IllegalArgumentException("clipGradNorm: normType must be > 0 or infinity, got " + normType);
        }
        if (!(maxNorm >= 0) || Double.isInfinite(maxNorm)) {
            throw new IllegalArgumentException("clipGradNorm: maxNorm must be finite and >= 0, got " + maxNorm);
        }
        List<Tensor> grads = grads(params);
        if (grads.isEmpty()) {
            return 0.0;
        }
        double total;
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            if (normType == 2.0) {
                Tensor[] dense = new Tensor[grads.size()];
                for (int i = 0; i < dense.length; i++) {
                    dense[i] = grads.get(i).contiguous();
                }
                try (Pins pins = new Pins()) {
                    total = Math.sqrt(dense[0].backend().sumSquares(Tensor.pin(pins, dense)));
                }
            } else if (Double.isInfinite(normType)) {
                total = 0;
                for (Tensor gr : grads) {
                    if (gr.numel() > 0) {
                        float m = gr.abs().max().item();
                        total = Float.isNaN(m) ? Double.NaN : Math.max(total, m);
                    }
                }
            } else {
                double acc = 0;
                for (Tensor gr : grads) {
                    if (gr.numel() > 0) {
                        try (Pins pins = new Pins()) {
                            acc += gr.backend().sumAll(gr.abs().pow((float) normType).contiguous().pin(pins));
                        }
                    }
                }
                total = Math.pow(acc, 1.0 / normType);
            }
        }
        // PyTorch computes the coefficient in float32 from its float32 total norm
        float coef = (float) maxNorm / ((float) total + 1e-6f);
        if (!(coef >= 1f)) {   // also NaN, which PyTorch's clamp(max=1) lets through
            List<Tensor> dense = new ArrayList<>();
            for (Tensor gr : grads) {
                if (gr.isContiguous()) {
                    dense.add(gr);
                } else {
                    scale(gr, coef);
                }
            }
            if (!dense.isEmpty()) {
                try (Pins pins = new Pins()) {
                    dense.get(0).backend().scale(Tensor.pin(pins, dense.toArray(new Tensor[0])), coef);
                }
            }
        }
        return total;
    }

    /** Clamps every gradient element into [-clip, clip]. */
    public static void clipGradValue(List<Tensor> params, double clip) {
        if (!(clip >= 0) || Double.isInfinite(clip)) {
            throw new IllegalArgumentException("clipGradValue: clip must be finite and >= 0, got " + clip);
        }
        float c = (float) clip;
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (Tensor gr : grads(params)) {
                if (gr.numel() == 0) {
                    continue;
                }
                if (gr.isContiguous()) {
                    try (Pins pins = new Pins()) {
                        View v = gr.pin(pins);
                        gr.backend().binaryScalar(BinaryOp.MIN, v, v, c);    // in place: out is the same view
                        gr.backend().binaryScalar(BinaryOp.MAX, v, v, -c);
                    }
                } else {
                    try (Scope s = Scope.open()) {
                        gr.copyFrom(gr.clamp(-c, c));
                    }
                }
            }
        }
    }

    private static void scale(Tensor gr, float coef) {
        if (gr.numel() == 0) {
            return;
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            if (gr.isContiguous()) {
                gr.mulInPlace(coef);
            } else {
                try (Scope s = Scope.open()) {
                    gr.copyFrom(gr.mul(coef));
                }
            }
        }
    }

    private static List<Tensor> grads(List<Tensor> params) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g != null) {
                g.ensureOpen("clipGrad");
                out.add(g);
            }
        }
        return out;
    }
}
