package org.rnn4j.nn.rnn;

import java.util.Arrays;
import java.util.Objects;
import org.rnn4j.Device;
import org.rnn4j.Tensor;

/**
 * A batch of variable-length sequences packed time-major (PyTorch
 * {@code torch.nn.utils.rnn.PackedSequence}). Made by {@link RnnUtils#packPaddedSequence} or
 * {@link RnnUtils#packSequence}; consumed by the recurrent layers and
 * {@link RnnUtils#padPackedSequence}.
 *
 * <p>Dimension letters as in {@link org.rnn4j.nn}: N = batch (number of sequences), L = longest
 * length, B_t = {@code batchSizes[t]}, S = sum of lengths (packed rows).
 * {@code data} is (S, *): the rows of step 0 for the B_0 = {@code batchSizes[0]} sequences, then the
 * rows of step 1 for the {@code batchSizes[1]} sequences still running, and so on; within a step
 * sequences appear in decreasing-length order. {@code sortedIndices[i]} is the original batch
 * index of the i-th longest sequence and {@code unsortedIndices} its inverse; both are null when
 * the batch was packed with {@code enforceSorted = true} (already in decreasing-length order).
 *
 * <p>Immutable: the accessors return copies of the index arrays. The instance owns {@code data}
 * for {@link #close()}.
 */
public final class PackedSequence implements AutoCloseable {
    private final Tensor data;           // (S, *)
    private final int[] batchSizes;      // (L,)
    private final int[] sortedIndices;   // (N,) or null
    private final int[] unsortedIndices; // (N,) or null

    /**
     * Validates and wraps. {@code unsortedIndices} may be null with non-null
     * {@code sortedIndices}: it is then computed as the inverse permutation (as PyTorch does).
     *
     * @throws IllegalArgumentException if batchSizes is empty, not positive and non-increasing,
     *     does not sum to data.size(0), or the indices are not mutually inverse permutations of
     *     0..batchSizes[0]-1
     */
    public PackedSequence(Tensor data, int[] batchSizes, int[] sortedIndices, int[] unsortedIndices) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(batchSizes, "batchSizes");
        data.ensureOpen("PackedSequence");
        if (data.dim() < 1) {
            throw new IllegalArgumentException("PackedSequence: argument 'data' must have shape (S, *), got a 0-d tensor");
        }
        if (batchSizes.length == 0) {
            throw new IllegalArgumentException("PackedSequence: argument 'batchSizes' is empty, expected at least one step");
        }
        long total = 0;
        for (int t = 0; t < batchSizes.length; t++) {
            if (batchSizes[t] <= 0) {
                throw new IllegalArgumentException("PackedSequence: argument 'batchSizes' must be positive, got batchSizes[" + t
                        + "] = " + batchSizes[t]);
            }
            if (t > 0 && batchSizes[t] > batchSizes[t - 1]) {
                throw new IllegalArgumentException("PackedSequence: argument 'batchSizes' must be non-increasing, got batchSizes["
                        + t + "] = " + batchSizes[t] + " > batchSizes[" + (t - 1) + "] = " + batchSizes[t - 1]);
            }
            total += batchSizes[t];
        }
        if (total != data.size(0)) {
            throw new IllegalArgumentException("PackedSequence: argument 'batchSizes' sums to " + total
                    + ", expected data.size(0) = " + data.size(0) + " (data shape " + Arrays.toString(data.shape()) + ")");
        }
        int b = batchSizes[0];
        if (sortedIndices == null) {
            if (unsortedIndices != null) {
                throw new IllegalArgumentException("PackedSequence: argument 'unsortedIndices' given without 'sortedIndices'");
            }
        } else {
            checkPermutation("sortedIndices", sortedIndices, b);
            if (unsortedIndices == null) {
                unsortedIndices = invert(sortedIndices);
            } else {
                checkPermutation("unsortedIndices", unsortedIndices, b);
                for (int i = 0; i < b; i++) {
                    if (unsortedIndices[sortedIndices[i]] != i) {
                        throw new IllegalArgumentException("PackedSequence: argument 'unsortedIndices' is not the inverse of 'sortedIndices': "
                                + "unsortedIndices[sortedIndices[" + i + "]] = " + unsortedIndices[sortedIndices[i]] + ", expected " + i);
                    }
                }
                unsortedIndices = unsortedIndices.clone();
            }
            sortedIndices = sortedIndices.clone();
        }
        this.data = data;
        this.batchSizes = batchSizes.clone();
        this.sortedIndices = sortedIndices;
        this.unsortedIndices = unsortedIndices;
    }

    /** Packed rows, (S, *). */
    public Tensor data() {
        return data;
    }

    /** Number of sequences running at each step, (L,), non-increasing. */
    public int[] batchSizes() {
        return batchSizes.clone();
    }

    /** Original batch index of the i-th longest sequence, or null if packed already sorted. */
    public int[] sortedIndices() {
        return sortedIndices == null ? null : sortedIndices.clone();
    }

    /** Inverse of {@link #sortedIndices()}: position in sorted order of original sequence b; null if sorted. */
    public int[] unsortedIndices() {
        return unsortedIndices == null ? null : unsortedIndices.clone();
    }

    /** True when packed with enforceSorted (no permutation: the batch was already longest first). */
    public boolean isSorted() {
        return sortedIndices == null;
    }

    /** N, the number of sequences. */
    public int batchSize() {
        return batchSizes[0];
    }

    /** L, the longest length. */
    public int maxLength() {
        return batchSizes.length;
    }

    /** Lengths of the sequences in the original batch order. */
    public int[] lengths() {
        int[] sortedLen = sortedLengths(batchSizes);
        if (unsortedIndices == null) {
            return sortedLen;
        }
        int[] out = new int[sortedLen.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = sortedLen[unsortedIndices[i]];
        }
        return out;
    }

    /** The same packing around other data, e.g. a recurrent layer's output (S, D*H_out). */
    public PackedSequence withData(Tensor newData) {
        Objects.requireNonNull(newData, "newData");
        if (newData.dim() < 1 || newData.size(0) != data.size(0)) {
            throw new IllegalArgumentException("withData: argument 'newData' must have " + data.size(0) + " rows, got shape "
                    + Arrays.toString(newData.shape()));
        }
        return new PackedSequence(newData, batchSizes, sortedIndices, unsortedIndices);
    }

    /** This packing with data on {@code device} (a new tensor; gradients flow back through it). */
    public PackedSequence to(Device device) {
        return new PackedSequence(data.to(device), batchSizes, sortedIndices, unsortedIndices);
    }

    /** The device of {@link #data()}. */
    public Device device() {
        return data.device();
    }

    /** Closes {@link #data()}. */
    @Override
    public void close() {
        data.close();
    }

    @Override
    public String toString() {
        return "PackedSequence(data=" + Arrays.toString(data.shape()) + ", batchSizes=" + Arrays.toString(batchSizes)
                + ", sortedIndices=" + Arrays.toString(sortedIndices) + ", unsortedIndices=" + Arrays.toString(unsortedIndices) + ")";
    }

    // package-private unchecked views for RnnUtils (no copies)
    int[] batchSizesRef() {
        return batchSizes;
    }

    int[] unsortedIndicesRef() {
        return unsortedIndices;
    }

    int[] sortedIndicesRef() {
        return sortedIndices;
    }

    /** Length of the i-th longest sequence: the number of steps whose batch size exceeds i. */
    static int[] sortedLengths(int[] batchSizes) {
        int[] len = new int[batchSizes[0]];
        for (int bs : batchSizes) {
            for (int i = 0; i < bs; i++) {
                len[i]++;
            }
        }
        return len;
    }

    static int[] invert(int[] perm) {
        int[] inv = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            inv[perm[i]] = i;
        }
        return inv;
    }

    private static void checkPermutation(String arg, int[] p, int n) {
        if (p.length != n) {
            throw new IllegalArgumentException("PackedSequence: argument '" + arg + "' has " + p.length
                    + " entries, expected batchSizes[0] = " + n);
        }
        boolean[] seen = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (p[i] < 0 || p[i] >= n || seen[p[i]]) {
                throw new IllegalArgumentException("PackedSequence: argument '" + arg + "' is not a permutation of 0.." + (n - 1)
                        + ": " + Arrays.toString(p));
            }
            seen[p[i]] = true;
        }
    }
}
