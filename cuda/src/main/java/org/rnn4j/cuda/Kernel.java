package org.rnn4j.cuda;

/**
 * Every kernel CudaBackend launches, by its extern "C" name in {@code rnn4j_kernels.cu}. The
 * backend looks each one up when it loads the module (a missing one makes it unavailable, with
 * the name in the reason); {@code FatbinTest} checks at build time that every name is in every
 * architecture's code of the fatbin resource.
 */
enum Kernel {
    FILL("rnn4j_fill"),
    COPY("rnn4j_copy"),
    UNARY("rnn4j_unary"),
    BINARY("rnn4j_binary"),
    BINARY_SCALAR("rnn4j_binary_scalar"),
    ADD_SCALED("rnn4j_add_scaled"),
    WHERE("rnn4j_where"),
    REDUCE("rnn4j_reduce"),
    SOFTMAX("rnn4j_softmax"),
    SUM("rnn4j_sum"),
    SCALE("rnn4j_scale"),
    INDEX_SELECT("rnn4j_index_select"),
    INDEX_ADD("rnn4j_index_add"),
    GATHER("rnn4j_gather"),
    SCATTER_ADD("rnn4j_scatter_add"),
    CROSS_ENTROPY("rnn4j_cross_entropy"),
    SGD("rnn4j_sgd"),
    ADAM("rnn4j_adam"),
    COPY_ROWS("rnn4j_copy_rows"),
    RNN_FWD_STEP("rnn4j_rnn_fwd_step"),
    RNN_BWD_PREP("rnn4j_rnn_bwd_prep"),
    RNN_BWD_STEP("rnn4j_rnn_bwd_step"),
    COL_SUM_ADD("rnn4j_col_sum_add");

    /** Class path resource holding the fatbin (built by nvcc in the Maven build). */
    static final String RESOURCE = "/org/rnn4j/cuda/rnn4j_kernels.fatbin";

    final String symbol;

    Kernel(String symbol) {
        this.symbol = symbol;
    }
}
