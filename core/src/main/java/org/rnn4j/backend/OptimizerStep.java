package org.rnn4j.backend;

/**
 * One fused optimizer update, PyTorch's formulas (torch.optim, foreach=False):
 * <pre>
 * SGD:   g = grad + wd*p; if momentum != 0: buf = (first ? g : momentum*buf + (1-dampening)*g);
 *        g = nesterov ? g + momentum*buf : buf;  p -= lr*g                       (state1 = buf)
 * ADAM:  g = grad + wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 *        p -= lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps)                         (state1 = m, state2 = v)
 * ADAMW: p *= 1 - lr*wd; then ADAM without the wd term.
 * </pre>
 * {@code first} is true on a parameter's first momentum step (PyTorch's buf is initialised to g).
 */
public record OptimizerStep(Kind kind, float lr, float momentum, float dampening, boolean nesterov,
                            float weightDecay, float beta1, float beta2, float eps, long step,
                            boolean first) {
    /** The update rule; {@link #code()} is the native {@code rnn4j::OptimCode}, checked at load. */
    public enum Kind {
        /** SGD with optional momentum, dampening, Nesterov and L2 weight decay ({@code torch.optim.SGD}). */
        SGD(0),
        /** Adam with L2 weight decay added to the gradient ({@code torch.optim.Adam}). */
        ADAM(1),
        /** Adam with decoupled weight decay ({@code torch.optim.AdamW}). */
        ADAMW(2);

        private final int code;

        Kind(int code) {
            this.code = code;
        }

        /** The native code ({@code rnn4j::OptimCode}). */
        public int code() {
            return code;
        }
    }
}
