package org.rnn4j.backend;

/** Elementwise unary operations. Codes are shared with native kernels: do not reorder. */
public enum UnaryOp {
    NEG, EXP, LOG, TANH, SIGMOID, RELU, SQRT, ABS, SQUARE, RECIPROCAL, SIGN,
    /** 1 where x > 0 else 0 (relu's derivative). */
    STEP;

    public int code() {
        return ordinal();
    }
}
