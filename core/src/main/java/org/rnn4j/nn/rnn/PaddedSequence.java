package org.rnn4j.nn.rnn;

import java.util.Arrays;
import org.rnn4j.Tensor;

/**
 * What {@link RnnUtils#padPackedSequence} returns (PyTorch's {@code (padded, lengths)} tuple):
 * the padded batch, (L, N, *) or (N, L, *) with batch_first, and each sequence's length in the
 * original batch order. Owns {@code padded} for {@link #close()}.
 */
public final class PaddedSequence implements AutoCloseable {
    private final Tensor padded;
    private final int[] lengths;

    PaddedSequence(Tensor padded, int[] lengths) {
        this.padded = padded;
        this.lengths = lengths;
    }

    /** (L, N, *), or (N, L, *) with batch_first; padding value past each length. */
    public Tensor padded() {
        return padded;
    }

    /** (N,) lengths in the original batch order (a copy). */
    public int[] lengths() {
        return lengths.clone();
    }

    @Override
    public void close() {
        padded.close();
    }

    @Override
    public String toString() {
        return "PaddedSequence(padded=" + Arrays.toString(padded.shape()) + ", lengths=" + Arrays.toString(lengths) + ")";
    }
}
