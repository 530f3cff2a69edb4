package org.rnn4j.nn;

import java.util.Arrays;
import java.util.Objects;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;

/**
 * The recurrent state a layer or cell reads and returns: the hidden state {@code h} and, for an
 * LSTM, the cell state {@code c} (null for RNN and GRU). This is PyTorch's {@code h_0} / {@code
 * h_n} tensor, or its {@code (h_0, c_0)} / {@code (h_n, c_n)} tuple for an LSTM.
 *
 * <p>Shapes (see the legend in {@link org.rnn4j.nn}): for {@link RNN}, {@link LSTM} and {@link GRU}
 * {@code h} is (D*num_layers, N, H_out) and {@code c} is (D*num_layers, N, H_cell), or
 * (D*num_layers, H_out) / (D*num_layers, H_cell) for unbatched input; for the cells
 * ({@link RNNCellBase}) {@code h} and {@code c} are (N, H_cell), or (H_cell) unbatched.
 *
 * <p>The record checks what it can on its own: {@code h} is non-null and open; {@code c}, if given,
 * has as many dims as {@code h}, the same sizes in every dim but the last (the feature dim, which
 * differs under {@code proj_size}) and lives on the same device. Whether the sizes fit a given
 * layer is checked by that layer's {@code forward}, which names the argument and both shapes.
 *
 * <p>Carrying state across batches (truncated back-propagation through time):
 *
 * <pre>{@code
 * State state = null;                                   // null: zeros, as in PyTorch
 * for (Tensor[] batch : batches) {
 *     try (Scope step = Scope.open()) {
 *         RnnOutput out = rnn.forward(batch[0], state);
 *         ... loss.backward(); opt.step(); ...
 *         State next = out.state().detach().keep(step);  // outlives this scope
 *         if (state != null) {
 *             state.close();
 *         }
 *         state = next;
 *     }
 * }
 * if (state != null) {
 *     state.close();
 * }
 * }</pre>
 *
 * <p>{@link #close()} closes both tensors (closing is idempotent).
 */
public record State(Tensor h, Tensor c) implements AutoCloseable {
    /** Checks h is non-null and open and that c, if given, matches h in every dim but the last. */
    public State {
        Objects.requireNonNull(h, "State: argument 'h' is null (pass a null State for zeros)");
        h.ensureOpen("State");
        if (h.dim() < 1) {
            throw new IllegalArgumentException("State: argument 'h' must have at least 1 dim, got a 0-d tensor");
        }
        if (c != null) {
            c.ensureOpen("State");
            int[] hs = h.shape();
            int[] cs = c.shape();
            if (cs.length != hs.length || !Arrays.equals(Arrays.copyOf(hs, hs.length - 1), Arrays.copyOf(cs, cs.length - 1))) {
                throw new IllegalArgumentException("State: arguments 'h' " + shape(hs) + " and 'c' " + shape(cs)
                        + " must agree in every dim but the last, i.e. (D*num_layers, N, H_out) and (D*num_layers, N, H_cell)");
            }
            if (!h.device().equals(c.device())) {
                throw new IllegalArgumentException("State: 'h' is on " + h.device() + " but 'c' is on " + c.device());
            }
        }
    }

    /** The state of an RNN or GRU: h alone. */
    public static State of(Tensor h) {
        return new State(h, null);
    }

    /** The state of an LSTM: h and c. */
    public static State of(Tensor h, Tensor c) {
        return new State(h, c);
    }

    /** True when there is a cell state (an LSTM state). */
    public boolean hasCell() {
        return c != null;
    }

    /** The same values cut from the autograd graph (views, no copies): truncated BPTT. */
    public State detach() {
        return new State(h.detach(), c == null ? null : c.detach());
    }

    /** Hands h and c to {@code scope.keep} so they outlive it; returns this. */
    public State keep(Scope scope) {
        scope.keep(h);
        if (c != null) {
            scope.keep(c);
        }
        return this;
    }

    /** Closes h and c. */
    @Override
    public void close() {
        h.close();
        if (c != null) {
            c.close();
        }
    }

    @Override
    public String toString() {
        return "State(h=" + (h.isClosed() ? "closed" : shape(h.shape())) + (c == null ? ""
                : ", c=" + (c.isClosed() ? "closed" : shape(c.shape()))) + ")";
    }

    /** PyTorch's way of writing a shape: (2, 3, 20). */
    static String shape(int... s) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(s[i]);
        }
        return sb.append(s.length == 1 ? ",)" : ")").toString();
    }
}
