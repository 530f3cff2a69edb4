package org.rnn4j.backend;

/**
 * The buffers of one recurrent layer call, once: the order and numbers of the native argument
 * block ({@code rnn4j::RnnSlot} in the shared ABI header, checked against this list when the
 * native library loads), each buffer's shape in the legend's letters, and when it is used.
 *
 * <p>Legend: S = sum(batchSizes) packed rows, N = batch (= batchSizes[0]), I input size, H hidden
 * size, P projection size (LSTM only, 0 = none), R = P if P &gt; 0 else H, GH = gates * H,
 * W = {@link CellKind#workspaceRow} floats per packed row. A {@link Cols#VECTOR} buffer is 1-D of
 * {@link Rows} elements; every other one is 2-D with unit column stride and a row stride of at
 * least its column count (y and dy may be column slices of a bidirectional output).
 */
public enum RnnBuffer {
    // forward inputs and parameters
    X(0, Rows.S, Cols.I, Use.ALWAYS),
    H0(1, Rows.N, Cols.R, Use.ALWAYS),
    C0(2, Rows.N, Cols.H, Use.LSTM),
    W_IH(3, Rows.GH, Cols.I, Use.ALWAYS),
    W_HH(4, Rows.GH, Cols.R, Use.ALWAYS),
    B_IH(5, Rows.GH, Cols.VECTOR, Use.OPTIONAL),
    B_HH(6, Rows.GH, Cols.VECTOR, Use.OPTIONAL),
    W_HR(7, Rows.P, Cols.H, Use.PROJ),
    // forward outputs
    Y(8, Rows.S, Cols.R, Use.ALWAYS),
    H_N(9, Rows.N, Cols.R, Use.ALWAYS),
    C_N(10, Rows.N, Cols.H, Use.LSTM),
    /** Saved activations: written by forward when present (training), read by backward. */
    WS(11, Rows.S, Cols.W, Use.BACKWARD_REQUIRED),
    // backward inputs (absent gradients are zero)
    DY(12, Rows.S, Cols.R, Use.BACKWARD_REQUIRED),
    DH_N(13, Rows.N, Cols.R, Use.BACKWARD),
    DC_N(14, Rows.N, Cols.H, Use.BACKWARD_LSTM),
    // backward outputs: dx and parameter gradients accumulate (+=), dh0/dc0 are assigned (=)
    DX(15, Rows.S, Cols.I, Use.BACKWARD),
    DH0(16, Rows.N, Cols.R, Use.BACKWARD),
    DC0(17, Rows.N, Cols.H, Use.BACKWARD_LSTM),
    DW_IH(18, Rows.GH, Cols.I, Use.BACKWARD),
    DW_HH(19, Rows.GH, Cols.R, Use.BACKWARD),
    DB_IH(20, Rows.GH, Cols.VECTOR, Use.BACKWARD_IF_B_IH),
    DB_HH(21, Rows.GH, Cols.VECTOR, Use.BACKWARD_IF_B_HH),
    DW_HR(22, Rows.P, Cols.H, Use.BACKWARD_PROJ);

    /** Number of buffers per direction (the native RNN_NUM_SLOTS). */
    public static final int COUNT = values().length;

    private final int code;
    private final Rows rows;
    private final Cols cols;
    private final Use use;

    RnnBuffer(int code, Rows rows, Cols cols, Use use) {
        this.code = code;
        this.rows = rows;
        this.cols = cols;
        this.use = use;
    }

    /** The slot number in the native argument block (explicit, never {@code ordinal()}). */
    public int code() {
        return code;
    }

    /** Whether the kernel reads or writes this buffer in this call ({@code false}: ignored, may be null). */
    public boolean used(RnnLayerArgs a, boolean backward) {
        boolean lstm = a.kind == CellKind.LSTM;
        return switch (use) {
            case ALWAYS, OPTIONAL -> true;
            case LSTM -> lstm;
            case PROJ -> lstm && a.projSize > 0;
            case BACKWARD_REQUIRED -> true;  // WS is written by a training forward too
            case BACKWARD -> backward;
            case BACKWARD_LSTM -> backward && lstm;
            case BACKWARD_PROJ -> backward && lstm && a.projSize > 0;
            case BACKWARD_IF_B_IH -> backward && a.get(B_IH) != null;
            case BACKWARD_IF_B_HH -> backward && a.get(B_HH) != null;
        };
    }

    /** Whether the call needs this buffer (null is an error). */
    public boolean required(RnnLayerArgs a, boolean backward) {
        boolean lstm = a.kind == CellKind.LSTM;
        return switch (use) {
            case ALWAYS -> true;
            case LSTM -> lstm;
            case PROJ -> lstm && a.projSize > 0;
            case BACKWARD_REQUIRED -> backward;
            default -> false;
        };
    }

    /** Expected rows. */
    public long rows(RnnLayerArgs a) {
        return switch (rows) {
            case S -> a.rows();
            case N -> a.batch();
            case GH -> (long) a.kind.gates() * a.hiddenSize;
            case P -> a.projSize;
        };
    }

    /** Expected columns, or -1 for a 1-D buffer. */
    public long cols(RnnLayerArgs a) {
        return switch (cols) {
            case I -> a.inputSize;
            case H -> a.hiddenSize;
            case R -> a.outputSize();
            case W -> a.kind.workspaceRow(a.hiddenSize, a.projSize);
            case VECTOR -> -1;
        };
    }

    /** The argument's name in messages, as the native header names it: x, h0, w_ih, h_n, ws, dw_hr... */
    public String argName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    enum Rows { S, N, GH, P }

    enum Cols { I, H, R, W, VECTOR }

    enum Use { ALWAYS, OPTIONAL, LSTM, PROJ, BACKWARD_REQUIRED, BACKWARD, BACKWARD_LSTM, BACKWARD_PROJ,
        BACKWARD_IF_B_IH, BACKWARD_IF_B_HH }
}
