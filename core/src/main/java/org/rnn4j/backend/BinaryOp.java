package org.rnn4j.backend;

/** Elementwise binary operations. Codes are shared with native kernels: do not reorder. */
public enum BinaryOp {
    /** a + b. */
    ADD(0),
    /** a - b. */
    SUB(1),
    /** a * b. */
    MUL(2),
    /** a / b. */
    DIV(3),
    /** The larger of a and b. */
    MAX(4),
    /** The smaller of a and b. */
    MIN(5),
    /** a to the power b. */
    POW(6),
    /** 1 where a &gt; b, else 0 (comparisons give 1 or 0). */
    GT(7),
    /** 1 where a &gt;= b, else 0. */
    GE(8),
    /** 1 where a &lt; b, else 0. */
    LT(9),
    /** 1 where a &lt;= b, else 0. */
    LE(10),
    /** 1 where a == b, else 0. */
    EQ(11),
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
