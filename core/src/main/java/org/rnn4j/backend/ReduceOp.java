package org.rnn4j.backend;

/** Reductions over one dimension. Codes are shared with native kernels: do not reorder. */
public enum ReduceOp {
    SUM(0), MAX(1), MIN(2), ARGMAX(3), ARGMIN(4);

    private final int code;

    ReduceOp(int code) {
        this.code = code;
    }

    /** The native op code ({@code rnn4j::ReduceCode}), explicit on both sides and checked at load. */
    public int code() {
        return code;
    }
}
