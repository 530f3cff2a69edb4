package org.rnn4j.backend;

/** Elementwise binary operations. Codes are shared with native kernels: do not reorder. */
public enum BinaryOp {
    ADD(0), SUB(1), MUL(2), DIV(3), MAX(4), MIN(5), POW(6),
    /** Comparisons give 1 or 0. */
    GT(7), GE(8), LT(9), LE(10), EQ(11),
    /** b - a, so that scalar - tensor works with {@link Backend#binaryScalar}. */
    RSUB(12),
    /** b / a, for scalar / tensor. */
    RDIV(13);

    private final int code;

    BinaryOp(int code) {
        this.code = code;
    }

    /** The native op code ({@code rnn4j::BinaryCode}), explicit on both sides and checked at load. */
    public int code() {
        return code;
    }
}
