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
    /** x: the packed input (S, I). */
    X(0, Rows.S, Cols.I, Use.ALWAYS),
    /** h0: the initial hidden state (N, R). */
    H0(1, Rows.N, Cols.R, Use.ALWAYS),
    /** c0: the initial LSTM cell state (N, H). */
    C0(2, Rows.N, Cols.H, Use.LSTM),
    /** w_ih: input-hidden weights (GH, I), PyTorch's {@code weight_ih_l{k}}. */
    W_IH(3, Rows.GH, Cols.I, Use.ALWAYS),
    /** w_hh: hidden-hidden weights (GH, R), PyTorch's {@code weight_hh_l{k}}. */
    W_HH(4, Rows.GH, Cols.R, Use.ALWAYS),
    /** b_ih: input-hidden bias (GH), or null for bias=False. */
    B_IH(5, Rows.GH, Cols.VECTOR, Use.OPTIONAL),
    /** b_hh: hidden-hidden bias (GH), or null for bias=False. */
    B_HH(6, Rows.GH, Cols.VECTOR, Use.OPTIONAL),
    /** w_hr: the LSTM projection weights (P, H), PyTorch's {@code weight_hr_l{k}}. */
    W_HR(7, Rows.P, Cols.H, Use.PROJ),
    // forward outputs
    /** y: the packed output (S, R): each row the layer's output h (projected when P &gt; 0) after that row's step. */
    Y(8, Rows.S, Cols.R, Use.ALWAYS),
    /** h_n: the final hidden state of each sequence (N, R). */
    H_N(9, Rows.N, Cols.R, Use.ALWAYS),
    /** c_n: the final LSTM cell state of each sequence (N, H). */
    C_N(10, Rows.N, Cols.H, Use.LSTM),
    /** Saved activations: written by forward when present (training), read by backward. */
    WS(11, Rows.S, Cols.W, Use.BACKWARD_REQUIRED),
    // backward inputs (absent gradients are zero)
    /** dy: gradient of the loss with respect to y (S, R). */
    DY(12, Rows.S, Cols.R, Use.BACKWARD_REQUIRED),
    /** dh_n: gradient with respect to h_n (N, R); null is zero. */
    DH_N(13, Rows.N, Cols.R, Use.BACKWARD),
    /** dc_n: gradient with respect to c_n (N, H); null is zero. */
    DC_N(14, Rows.N, Cols.H, Use.BACKWARD_LSTM),
    // backward outputs: dx and parameter gradients accumulate (+=), dh0/dc0 are assigned (=)
    /** dx: gradient with respect to x (S, I), accumulated (+=). */
    DX(15, Rows.S, Cols.I, Use.BACKWARD),
    /** dh0: gradient with respect to h0 (N, R), assigned (=). */
    DH0(16, Rows.N, Cols.R, Use.BACKWARD),
    /** dc0: gradient with respect to c0 (N, H), assigned (=). */
    DC0(17, Rows.N, Cols.H, Use.BACKWARD_LSTM),
    /** dw_ih: gradient of w_ih (GH, I), accumulated (+=). */
    DW_IH(18, Rows.GH, Cols.I, Use.BACKWARD),
    /** dw_hh: gradient of w_hh (GH, R), accumulated (+=). */
    DW_HH(19, Rows.GH, Cols.R, Use.BACKWARD),
    /** db_ih: gradient of b_ih (GH), accumulated (+=); used only when b_ih is given. */
    DB_IH(20, Rows.GH, Cols.VECTOR, Use.BACKWARD_IF_B_IH),
    /** db_hh: gradient of b_hh (GH), accumulated (+=); used only when b_hh is given. */
    DB_HH(21, Rows.GH, Cols.VECTOR, Use.BACKWARD_IF_B_HH),
    /** dw_hr: gradient of w_hr (P, H), accumulated (+=). */
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
