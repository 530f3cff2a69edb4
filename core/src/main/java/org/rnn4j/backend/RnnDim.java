package org.rnn4j.backend;

/**
 * The integer arguments of one direction of a recurrent layer call, in the order and with the
 * numbers of the native {@code rnn4j::RnnDim} (checked against it when the library loads).
 */
public enum RnnDim {
    KIND(0), REVERSE(1), INPUT(2), HIDDEN(3), PROJ(4);

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
