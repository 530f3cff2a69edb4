package org.rnn4j.backend;

/** Reductions over one dimension. Codes are shared with native kernels: do not reorder. */
public enum ReduceOp {
    /** Sum. */
    SUM(0),
    /** Maximum. */
    MAX(1),
    /** Minimum. */
    MIN(2),
    /** Index of the maximum. */
    ARGMAX(3),
    /** Index of the minimum. */
    ARGMIN(4);

    private final int code;

    ReduceOp(int code) {
        this.code = code;
    }

    /** The native op code ({@code rnn4j::ReduceCode}), explicit on both sides and checked at load. */
    public int code() {
        return code;
    }
}
