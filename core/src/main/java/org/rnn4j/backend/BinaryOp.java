package org.rnn4j.backend;

/** Elementwise binary operations. Codes are shared with native kernels: do not reorder. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN, POW,
    /** Comparisons give 1 or 0. */
    GT, GE, LT, LE, EQ,
    /** b - a, so that scalar - tensor works with {@link Backend#binaryScalar}. */
    RSUB,
    /** b / a, for scalar / tensor. */
    RDIV;

    public int code() {
        return ordinal();
    }
}
