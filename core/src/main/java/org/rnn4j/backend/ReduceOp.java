package org.rnn4j.backend;

/** Reductions over one dimension. Codes are shared with native kernels: do not reorder. */
public enum ReduceOp {
    SUM, MAX, MIN, ARGMAX, ARGMIN;

    public int code() {
        return ordinal();
    }
}
