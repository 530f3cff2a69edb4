package org.rnn4j.backend;

/** Elementwise unary operations. Codes are shared with native kernels: do not reorder. */
public enum UnaryOp {
    /** -x. */
    NEG(0),
    /** e^x. */
    EXP(1),
    /** Natural logarithm. */
    LOG(2),
    /** Hyperbolic tangent. */
    TANH(3),
    /** 1 / (1 + e^-x). */
    SIGMOID(4),
    /** max(x, 0). */
    RELU(5),
    /** Square root. */
    SQRT(6),
    /** |x|. */
    ABS(7),
    /** x * x. */
    SQUARE(8),
    /** 1 / x. */
    RECIPROCAL(9),
    /** -1, 0 or 1 by the sign of x. */
    SIGN(10),
    /** 1 where x > 0 else 0 (relu's derivative). */
    STEP(11);

    private final int code;

    UnaryOp(int code) {
        this.code = code;
    }

    /** The native op code ({@code rnn4j::UnaryCode}), explicit on both sides and checked at load. */
    public int code() {
        return code;
    }
}
