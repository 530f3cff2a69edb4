package org.rnn4j.backend;

/**
 * The integer arguments of one direction of a recurrent layer call, in the order and with the
 * numbers of the native {@code rnn4j::RnnDim} (checked against it when the library loads).
 */
public enum RnnDim {
    /** The {@link CellKind#code()} of the cell. */
    KIND(0),
    /** 1 for the reverse direction, else 0. */
    REVERSE(1),
    /** Input size I. */
    INPUT(2),
    /** Hidden size H. */
    HIDDEN(3),
    /** LSTM projection size P, 0 for none. */
    PROJ(4);

    /** Ints per direction (the native RNN_NUM_DIMS). */
    public static final int COUNT = values().length;

    private final int code;

    RnnDim(int code) {
        this.code = code;
    }

    /** The index in the native per-direction dims block (explicit, never {@code ordinal()}). */
    public int code() {
        return code;
    }

    /** This size of {@code a}, as the kernel reads it. */
    public int of(RnnLayerArgs a) {
        return switch (this) {
            case KIND -> a.kind.code();
            case REVERSE -> a.reverse ? 1 : 0;
            case INPUT -> a.inputSize;
            case HIDDEN -> a.hiddenSize;
            case PROJ -> a.projSize;
        };
    }
}
