package org.rnn4j.backend;

/** Elementwise unary operations. Codes are shared with native kernels: do not reorder. */
public enum UnaryOp {
    NEG(0), EXP(1), LOG(2), TANH(3), SIGMOID(4), RELU(5), SQRT(6), ABS(7), SQUARE(8), RECIPROCAL(9), SIGN(10),
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
