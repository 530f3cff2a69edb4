package org.rnn4j.backend;

/** Recurrent cell kinds. Codes are shared with native kernels: do not reorder. */
public enum CellKind {
    /** h' = tanh(W_ih x + b_ih + W_hh h + b_hh). */
    RNN_TANH(0, 1),
    /** h' = relu(W_ih x + b_ih + W_hh h + b_hh). */
    RNN_RELU(1, 1),
    /** Gates i, f, g, o (PyTorch order); optional projection h = W_hr (o * tanh(c)). */
    LSTM(2, 4),
    /** Gates r, z, n (PyTorch order); n = tanh(W_in x + b_in + r * (W_hn h + b_hn)). */
    GRU(3, 3);

    private final int code;
    private final int gates;

    CellKind(int code, int gates) {
        this.code = code;
        this.gates = gates;
    }

    /** Number of gate blocks G: weight_ih is (G*H, I). */
    public int gates() {
        return gates;
    }

    /** The native cell code ({@code rnn4j::CellCode}), explicit on both sides and checked at load. */
    public int code() {
        return code;
    }

    /**
     * Floats per packed row of the saved-activation workspace (the {@link RnnBuffer#WS} buffer):
     * RNN: h (H). LSTM: i,f,g,o after activation (4H), c (H), and with projection the
     * unprojected h = o*tanh(c) (H). GRU: r, z, n after activation and W_hn h + b_hn (4H).
     */
    public int workspaceRow(int hidden, int proj) {
        return switch (this) {
            case RNN_TANH, RNN_RELU -> hidden;
            case LSTM -> 5 * hidden + (proj > 0 ? hidden : 0);
            case GRU -> 4 * hidden;
        };
    }
}
