package org.rnn4j.nn.rnn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.rnn4j.Tensor;

/**
 * PyTorch's {@code torch.nn.utils.rnn}: packing and padding of variable-length sequences, with
 * the same semantics, ordering and errors.
 *
 * <p>Dimension letters (the legend of {@link org.rnn4j.nn.rnn}): L = time (longest length, or
 * total_length), N = batch, L_i = length of sequence i, S = sum of lengths (packed rows),
 * * = feature dims (any number, including none).
 *
 * <p>Every result is built from recorded tensor operations (a row gather, {@code indexSelect},
 * over a flattened view), so gradients flow: from packed data back to the padded input, and from
 * a padded result back to the packed data (zero for padding positions). Intermediates are closed
 * here; results belong to the caller (and its {@link org.rnn4j.Scope}).
 *
 * <p>{@code sortedIndices} orders lengths decreasing with PyTorch's tie order: batch order for up
 * to 16 sequences, libstdc++'s (unstable) {@code std::sort} order beyond, as {@code torch.sort} on
 * the CPU gives.
 */
public final class RnnUtils {
    private RnnUtils() {
    }

    // =====================================================================================
    // pack_padded_sequence / pad_packed_sequence
    // =====================================================================================

    /** {@code pack_padded_sequence(input, lengths)}: batchFirst false, enforceSorted true. */
    public static PackedSequence packPaddedSequence(Tensor input, int[] lengths) {
        return packPaddedSequence(input, lengths, false, true);
    }

    /** As {@link #packPaddedSequence(Tensor, int[], boolean, boolean)} with lengths as a (N,) tensor of integers. */
    public static PackedSequence packPaddedSequence(Tensor input, Tensor lengths, boolean batchFirst, boolean enforceSorted) {
        Objects.requireNonNull(lengths, "lengths");
        if (lengths.dim() != 1) {
            throw new IllegalArgumentException("packPaddedSequence: argument 'lengths' must be 1-D, got shape "
                    + Arrays.toString(lengths.shape()));
        }
        return packPaddedSequence(input, lengths.toIntArray("pack_padded_sequence", "lengths"), batchFirst, enforceSorted);
    }

    /**
     * Packs a padded batch (PyTorch {@code pack_padded_sequence}).
     *
     * @param input (L, N, *), or (N, L, *) if {@code batchFirst}; positions past each length are ignored
     * @param lengths (N,) each in 1..L
     * @param enforceSorted if true, lengths must already be non-increasing and the result has no
     *     indices; if false, sequences are sorted by decreasing length (ties in batch order)
     * @return data (S, *) with batch sizes and indices
     */
    public static PackedSequence packPaddedSequence(Tensor input, int[] lengths, boolean batchFirst, boolean enforceSorted) {
        final String op = "packPaddedSequence";
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(lengths, "lengths");
        input.ensureOpen(op);
        if (input.dim() < 2) {
            throw new IllegalArgumentException(op + ": argument 'input' must be " + (batchFirst ? "(N, L, *)" : "(L, N, *)")
                    + " with at least 2 dims, got shape " + Arrays.toString(input.shape()));
        }
        if (input.numel() == 0) {
            throw new IllegalArgumentException(op + ": argument 'input' is empty (shape " + Arrays.toString(input.shape())
                    + "); cannot pack empty tensors");
        }
        int tDim = batchFirst ? 1 : 0;
        int steps = input.size(tDim);
        int batch = input.size(1 - tDim);
        if (lengths.length != batch) {
            throw new IllegalArgumentException(op + ": argument 'lengths' has " + lengths.length + " entries, expected the batch size "
                    + batch + " (input shape " + Arrays.toString(input.shape()) + ", batchFirst=" + batchFirst + ")");
        }
        checkLengths(op, lengths, steps, tDim, input);
        int[] sortedIndices = null;
        if (enforceSorted) {
            for (int i = 1; i < batch; i++) {
                if (lengths[i] > lengths[i - 1]) {
                    throw new IllegalArgumentException(op + ": argument 'lengths' must be sorted in decreasing order when enforceSorted "
                            + "is true, but lengths[" + i + "] = " + lengths[i] + " > lengths[" + (i - 1) + "] = " + lengths[i - 1]
                            + " in " + Arrays.toString(lengths) + "; pass enforceSorted=false to pack unsorted sequences");
                }
            }
        } else {
            sortedIndices = argsortDescending(lengths);
        }
        int[] sortedLen = permute(lengths, sortedIndices);
        int[] batchSizes = batchSizes(sortedLen);
        // packed row k = (step t, i-th longest sequence b): input row b*L + t (batch first) or t*N + b
        int[] rows = new int[sum(lengths)];
        int k = 0;
        for (int t = 0; t < batchSizes.length; t++) {
            for (int i = 0; i < batchSizes[t]; i++) {
                int b = sortedIndices == null ? i : sortedIndices[i];
                rows[k++] = batchFirst ? b * steps + t : t * batch + b;
            }
        }
        Tensor data = gatherRows(input, 2, rows, null);
        return new PackedSequence(data, batchSizes, sortedIndices, null);
    }

    /** {@code pad_packed_sequence(sequence)}: time-major, padding 0, padded to the longest length. */
    public static PaddedSequence padPackedSequence(PackedSequence sequence) {
        return padPackedSequence(sequence, false, 0f, null);
    }

    /** {@code pad_packed_sequence(sequence, batch_first)}: padding 0, padded to the longest length. */
    public static PaddedSequence padPackedSequence(PackedSequence sequence, boolean batchFirst) {
        return padPackedSequence(sequence, batchFirst, 0f, null);
    }

    /**
     * Unpacks to a padded batch in the original batch order (PyTorch {@code pad_packed_sequence}).
     *
     * @param totalLength pad to this many steps (null: the longest length); must be at least the longest length
     * @return padded (L, N, *) or (N, L, *), and the lengths in original order
     */
    public static PaddedSequence padPackedSequence(PackedSequence sequence, boolean batchFirst, float paddingValue,
            Integer totalLength) {
        final String op = "padPackedSequence";
        Objects.requireNonNull(sequence, "sequence");
        Tensor data = sequence.data().ensureOpen(op);
        int[] batchSizes = sequence.batchSizesRef();
        int[] unsorted = sequence.unsortedIndicesRef();
        int maxLen = batchSizes.length;
        int batch = batchSizes[0];
        int steps = maxLen;
        if (totalLength != null) {
            if (totalLength < maxLen) {
                throw new IllegalArgumentException(op + ": argument 'totalLength' must be at least the length of the longest sequence, "
                        + "got totalLength=" + totalLength + " and max sequence length " + maxLen);
            }
            steps = totalLength;
        }
        int[] sortedLen = PackedSequence.sortedLengths(batchSizes);
        int[] offsets = new int[maxLen];
        for (int t = 1; t < maxLen; t++) {
            offsets[t] = offsets[t - 1] + batchSizes[t - 1];
        }
        int packedRows = data.size(0); // S
        // padded row (t, b) <- packed row offsets[t] + position of b in sorted order, or the pad row S
        int[] rows = new int[Math.multiplyExact(steps, batch)];
        boolean anyPad = false;
        for (int t = 0; t < steps; t++) {
            for (int b = 0; b < batch; b++) {
                int pos = unsorted == null ? b : unsorted[b];
                int r = t < sortedLen[pos] ? offsets[t] + pos : packedRows;
                anyPad |= r == packedRows;
                rows[batchFirst ? b * steps + t : t * batch + b] = r;
            }
        }
        int[] tail = Arrays.copyOfRange(data.shape(), 1, data.dim());
        int[] outShape = new int[tail.length + 2];
        outShape[0] = batchFirst ? batch : steps;
        outShape[1] = batchFirst ? steps : batch;
        System.arraycopy(tail, 0, outShape, 2, tail.length);
        Tensor padded = gatherRows(data, 1, rows, anyPad ? paddingValue : null, outShape);
        int[] lengths = permute(sortedLen, null);
        if (unsorted != null) {
            for (int b = 0; b < batch; b++) {
                lengths[b] = sortedLen[unsorted[b]];
            }
        }
        return new PaddedSequence(padded, lengths);
    }

    // =====================================================================================
    // pack_sequence / pad_sequence
    // =====================================================================================

    /** {@code pack_sequence(sequences)} with enforceSorted true. */
    public static PackedSequence packSequence(List<Tensor> sequences) {
        return packSequence(sequences, true);
    }

    /**
     * Packs a list of (L_i, *) sequences (PyTorch {@code pack_sequence}); each L_i must be at
     * least 1 and, with {@code enforceSorted}, non-increasing.
     */
    public static PackedSequence packSequence(List<Tensor> sequences, boolean enforceSorted) {
        final String op = "packSequence";
        int[] lengths = checkSequences(op, sequences);
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] <= 0) {
                throw new IllegalArgumentException(op + ": every sequence must have length > 0, but sequences[" + i
                        + "] has shape " + Arrays.toString(sequences.get(i).shape()));
            }
        }
        int[] sortedIndices = null;
        if (enforceSorted) {
            for (int i = 1; i < lengths.length; i++) {
                if (lengths[i] > lengths[i - 1]) {
                    throw new IllegalArgumentException(op + ": sequences must be sorted by decreasing length when enforceSorted is true, "
                            + "but sequences[" + i + "] has length " + lengths[i] + " > sequences[" + (i - 1) + "] length "
                            + lengths[i - 1] + "; pass enforceSorted=false to pack unsorted sequences");
                }
            }
        } else {
            sortedIndices = argsortDescending(lengths);
        }
        int[] starts = new int[lengths.length];
        for (int i = 1; i < lengths.length; i++) {
            starts[i] = starts[i - 1] + lengths[i - 1];
        }
        int[] batchSizes = batchSizes(permute(lengths, sortedIndices));
        int[] rows = new int[sum(lengths)];
        int k = 0;
        for (int t = 0; t < batchSizes.length; t++) {
            for (int i = 0; i < batchSizes[t]; i++) {
                rows[k++] = starts[sortedIndices == null ? i : sortedIndices[i]] + t;
            }
        }
        Tensor all = Tensor.concat(sequences, 0); // (S, *) in list order
        Tensor data;
        try {
            data = gatherRows(all, 1, rows, null);
        } finally {
            all.close();
        }
        return new PackedSequence(data, batchSizes, sortedIndices, null);
    }

    /** {@code pad_sequence(sequences)}: time-major, padding 0. */
    public static Tensor padSequence(List<Tensor> sequences) {
        return padSequence(sequences, false, 0f);
    }

    /**
     * Stacks (L_i, *) sequences into (L, N, *), or (N, L, *) with {@code batchFirst}, L = max L_i,
     * filling past each length with {@code paddingValue} (PyTorch {@code pad_sequence}). Empty
     * sequences (L_i = 0) are allowed, as in PyTorch.
     */
    public static Tensor padSequence(List<Tensor> sequences, boolean batchFirst, float paddingValue) {
        final String op = "padSequence";
        int[] lengths = checkSequences(op, sequences);
        int batch = lengths.length;
        int steps = 0;
        for (int l : lengths) {
            steps = Math.max(steps, l);
        }
        int total = sum(lengths); // S
        int[] rows = new int[Math.multiplyExact(steps, batch)];
        boolean anyPad = false;
        int start = 0;
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                int r = t < lengths[b] ? start + t : total;
                anyPad |= r == total;
                rows[batchFirst ? b * steps + t : t * batch + b] = r;
            }
            start += lengths[b];
        }
        int[] s0 = sequences.get(0).shape();
        int[] outShape = new int[s0.length + 1];
        outShape[0] = batchFirst ? batch : steps;
        outShape[1] = batchFirst ? steps : batch;
        System.arraycopy(s0, 1, outShape, 2, s0.length - 1);
        Tensor all = Tensor.concat(sequences, 0); // (S, *)
        try {
            return gatherRows(all, 1, rows, anyPad ? paddingValue : null, outShape);
        } finally {
            all.close();
        }
    }

    // =====================================================================================
    // unpack_sequence / unpad_sequence
    // =====================================================================================

    /** The sequences of a packed batch, (L_b, *) each, in original batch order (PyTorch {@code unpack_sequence}). */
    public static List<Tensor> unpackSequence(PackedSequence sequence) {
        Objects.requireNonNull(sequence, "sequence");
        Tensor data = sequence.data().ensureOpen("unpackSequence");
        int[] batchSizes = sequence.batchSizesRef();
        int[] unsorted = sequence.unsortedIndicesRef();
        int[] sortedLen = PackedSequence.sortedLengths(batchSizes);
        int[] offsets = new int[batchSizes.length];
        for (int t = 1; t < batchSizes.length; t++) {
            offsets[t] = offsets[t - 1] + batchSizes[t - 1];
        }
        List<Tensor> out = new ArrayList<>(batchSizes[0]);
        for (int b = 0; b < batchSizes[0]; b++) {
            int pos = unsorted == null ? b : unsorted[b];
            int[] rows = new int[sortedLen[pos]];
            for (int t = 0; t < rows.length; t++) {
                rows[t] = offsets[t] + pos;
            }
            out.add(data.indexSelect(0, rows));
        }
        return out;
    }

    /** {@code unpad_sequence(padded, lengths)}, time-major. */
    public static List<Tensor> unpadSequence(Tensor padded, int[] lengths) {
        return unpadSequence(padded, lengths, false);
    }

    /**
     * The first {@code lengths[b]} steps of each sequence of a padded batch, (L_b, *) each, as new
     * tensors (PyTorch {@code unpad_sequence}).
     *
     * @param padded (L, N, *), or (N, L, *) with batchFirst
     * @param lengths (N,) each in 0..L
     */
    public static List<Tensor> unpadSequence(Tensor padded, int[] lengths, boolean batchFirst) {
        final String op = "unpadSequence";
        Objects.requireNonNull(padded, "padded");
        Objects.requireNonNull(lengths, "lengths");
        padded.ensureOpen(op);
        if (padded.dim() < 2) {
            throw new IllegalArgumentException(op + ": argument 'padded' must be " + (batchFirst ? "(N, L, *)" : "(L, N, *)")
                    + " with at least 2 dims, got shape " + Arrays.toString(padded.shape()));
        }
        int tDim = batchFirst ? 1 : 0;
        int steps = padded.size(tDim);
        int batch = padded.size(1 - tDim);
        if (lengths.length != batch) {
            throw new IllegalArgumentException(op + ": argument 'lengths' has " + lengths.length + " entries, expected the batch size "
                    + batch + " (padded shape " + Arrays.toString(padded.shape()) + ", batchFirst=" + batchFirst + ")");
        }
        for (int b = 0; b < batch; b++) {
            if (lengths[b] < 0 || lengths[b] > steps) {
                throw new IllegalArgumentException(op + ": argument 'lengths' must be in 0.." + steps + " (the time dimension, dim "
                        + tDim + " of 'padded' " + Arrays.toString(padded.shape()) + "), got lengths[" + b + "] = " + lengths[b]);
            }
        }
        List<Tensor> out = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            int[] rows = new int[lengths[b]];
            for (int t = 0; t < rows.length; t++) {
                rows[t] = batchFirst ? b * steps + t : t * batch + b;
            }
            out.add(gatherRows(padded, 2, rows, null));
        }
        return out;
    }

    // =====================================================================================
    // helpers
    // =====================================================================================

    /** Checks lengths are in 1..steps. */
    private static void checkLengths(String op, int[] lengths, int steps, int tDim, Tensor input) {
        for (int b = 0; b < lengths.length; b++) {
            if (lengths[b] <= 0) {
                throw new IllegalArgumentException(op + ": every length must be > 0, but lengths[" + b + "] = " + lengths[b]
                        + " in " + Arrays.toString(lengths));
            }
            if (lengths[b] > steps) {
                throw new IllegalArgumentException(op + ": lengths[" + b + "] = " + lengths[b] + " exceeds the time dimension of 'input' "
                        + "(size " + steps + " at dim " + tDim + ", shape " + Arrays.toString(input.shape()) + ")");
            }
        }
    }

    /** Validates a list of (L_i, *) sequences with equal trailing dims; returns the L_i. */
    private static int[] checkSequences(String op, List<Tensor> sequences) {
        Objects.requireNonNull(sequences, "sequences");
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException(op + ": argument 'sequences' is empty, expected at least one sequence");
        }
        int[] lengths = new int[sequences.size()];
        int[] tail0 = null;
        for (int i = 0; i < lengths.length; i++) {
            Tensor s = sequences.get(i);
            if (s == null) {
                throw new IllegalArgumentException(op + ": sequences[" + i + "] is null");
            }
            s.ensureOpen(op);
            if (s.dim() < 1) {
                throw new IllegalArgumentException(op + ": sequences[" + i + "] must be (L, *) with at least 1 dim, got a 0-d tensor");
            }
            int[] shape = s.shape();
            int[] tail = Arrays.copyOfRange(shape, 1, shape.length);
            if (tail0 == null) {
                tail0 = tail;
            } else if (!Arrays.equals(tail, tail0)) {
                throw new IllegalArgumentException(op + ": sequences[" + i + "] has shape " + Arrays.toString(shape)
                        + ", expected (L, " + Arrays.toString(tail0).replaceAll("[\\[\\]]", "") + ") like sequences[0] "
                        + Arrays.toString(sequences.get(0).shape()));
            }
            if (!s.device().equals(sequences.get(0).device())) {
                throw new IllegalArgumentException(op + ": sequences[" + i + "] is on " + s.device() + ", expected "
                        + sequences.get(0).device() + " like sequences[0]");
            }
            lengths[i] = shape[0];
        }
        return lengths;
    }

    /** Rows of {@code src} viewed as (R, *) where the first {@code lead} dims are flattened into R. */
    private static Tensor gatherRows(Tensor src, int lead, int[] rows, Float padValue) {
        int[] s = src.shape();
        int[] out = new int[s.length - lead + 1];
        out[0] = rows.length;
        System.arraycopy(s, lead, out, 1, s.length - lead);
        return gatherRows(src, lead, rows, padValue, out);
    }

    /**
     * out = (src viewed as (R, *), plus one row of {@code padValue} at index R if padValue is
     * non-null) .indexSelect(0, rows), reshaped to {@code outShape}. Recorded for autograd; the
     * intermediates are closed (backward needs only their shapes).
     */
    private static Tensor gatherRows(Tensor src, int lead, int[] rows, Float padValue, int[] outShape) {
        int[] s = src.shape();
        int[] flatShape = new int[s.length - lead + 1];
        flatShape[0] = Math.toIntExact(Tensor.numel(Arrays.copyOf(s, lead)));
        System.arraycopy(s, lead, flatShape, 1, s.length - lead);
        List<Tensor> temps = new ArrayList<>();
        try {
            Tensor flat = src.reshape(flatShape); // (R, *)
            temps.add(flat);
            if (padValue != null) {
                int[] padShape = flatShape.clone();
                padShape[0] = 1;
                Tensor padRow = Tensor.zeros(src.device(), padShape);
                temps.add(padRow);
                if (padValue != 0f) {
                    padRow.fill(padValue);
                }
                flat = Tensor.concat(List.of(flat, padRow), 0); // (R + 1, *)
                temps.add(flat);
            }
            Tensor picked = flat.indexSelect(0, rows);
            if (Arrays.equals(picked.shape(), outShape)) {
                return picked;
            }
            temps.add(picked);
            return picked.reshape(outShape);
        } finally {
            temps.forEach(Tensor::close);
        }
    }

    /**
     * Indices that sort lengths decreasing, with PyTorch's tie order: {@code pack_padded_sequence}
     * calls {@code torch.sort(lengths, descending=True)}, which on the CPU is {@code std::sort}
     * (not stable) over (length, index) pairs. Up to 16 sequences that is an insertion sort, so
     * ties stay in batch order; beyond, libstdc++'s introsort reorders ties, and so do we: this
     * is a literal port of it (median-of-three pivot, unguarded partition, heapsort past the
     * depth limit, final insertion sort).
     */
    static int[] argsortDescending(int[] lengths) {
        int n = lengths.length; // N
        int[] key = lengths.clone();
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        if (n > 1) {
            Introsort s = new Introsort(key, idx);
            s.introsortLoop(0, n, 2 * (31 - Integer.numberOfLeadingZeros(n)));
            s.finalInsertionSort(0, n);
        }
        return idx;
    }

    /** libstdc++'s std::sort on (key, index) pairs with comp(a, b) = key a &gt; key b. */
    private static final class Introsort {
        private static final int THRESHOLD = 16;
        private final int[] key;
        private final int[] idx;

        Introsort(int[] key, int[] idx) {
            this.key = key;
            this.idx = idx;
        }

        private boolean less(int i, int j) {          // comp(*i, *j)
            return key[i] > key[j];
        }

        private void swap(int i, int j) {
            int k = key[i];
            key[i] = key[j];
            key[j] = k;
            int x = idx[i];
            idx[i] = idx[j];
            idx[j] = x;
        }

        void introsortLoop(int first, int last, int depthLimit) {
            while (last - first > THRESHOLD) {
                if (depthLimit == 0) {
                    heapSort(first, last);
                    return;
                }
                depthLimit--;
                int cut = unguardedPartitionPivot(first, last);
                introsortLoop(cut, last, depthLimit);
                last = cut;
            }
        }

        private int unguardedPartitionPivot(int first, int last) {
            int mid = first + (last - first) / 2;
            moveMedianToFirst(first, first + 1, mid, last - 1);
            return unguardedPartition(first + 1, last, first);
        }

        private void moveMedianToFirst(int result, int a, int b, int c) {
            if (less(a, b)) {
                if (less(b, c)) {
                    swap(result, b);
                } else if (less(a, c)) {
                    swap(result, c);
                } else {
                    swap(result, a);
                }
            } else if (less(a, c)) {
                swap(result, a);
            } else if (less(b, c)) {
                swap(result, c);
            } else {
                swap(result, b);
            }
        }

        private int unguardedPartition(int first, int last, int pivot) {
            while (true) {
                while (less(first, pivot)) {
                    first++;
                }
                last--;
                while (less(pivot, last)) {
                    last--;
                }
                if (first >= last) {
                    return first;
                }
                swap(first, last);
                first++;
            }
        }

        void finalInsertionSort(int first, int last) {
            if (last - first > THRESHOLD) {
                insertionSort(first, first + THRESHOLD);
                for (int i = first + THRESHOLD; i < last; i++) {
                    unguardedLinearInsert(i);
                }
            } else {
                insertionSort(first, last);
            }
        }

        private void insertionSort(int first, int last) {
            for (int i = first + 1; i < last; i++) {
                if (less(i, first)) {
                    int k = key[i];
                    int x = idx[i];
                    System.arraycopy(key, first, key, first + 1, i - first);
                    System.arraycopy(idx, first, idx, first + 1, i - first);
                    key[first] = k;
                    idx[first] = x;
                } else {
                    unguardedLinearInsert(i);
                }
            }
        }

        private void unguardedLinearInsert(int last) {
            int k = key[last];
            int x = idx[last];
            int next = last - 1;
            while (k > key[next]) {
                key[last] = key[next];
                idx[last] = idx[next];
                last = next;
                next--;
            }
            key[last] = k;
            idx[last] = x;
        }

        // std::__partial_sort(first, last, last): make_heap, then sort_heap
        private void heapSort(int first, int last) {
            int len = last - first;
            if (len >= 2) {
                for (int parent = (len - 2) / 2; ; parent--) {
                    adjustHeap(first, parent, len, key[first + parent], idx[first + parent]);
                    if (parent == 0) {
                        break;
                    }
                }
            }
            while (last - first > 1) {
                last--;
                int k = key[last];
                int x = idx[last];
                key[last] = key[first];
                idx[last] = idx[first];
                adjustHeap(first, 0, last - first, k, x);
            }
        }

        private void adjustHeap(int first, int hole, int len, int k, int x) {
            int top = hole;
            int child = hole;
            while (child < (len - 1) / 2) {
                child = 2 * (child + 1);
                if (key[first + child] > key[first + child - 1]) {   // comp(first[child], first[child - 1])
                    child--;
                }
                key[first + hole] = key[first + child];
                idx[first + hole] = idx[first + child];
                hole = child;
            }
            if ((len & 1) == 0 && child == (len - 2) / 2) {
                child = 2 * (child + 1);
                key[first + hole] = key[first + child - 1];
                idx[first + hole] = idx[first + child - 1];
                hole = child - 1;
            }
            // __push_heap
            int parent = (hole - 1) / 2;
            while (hole > top && key[first + parent] > k) {           // comp(first[parent], value)
                key[first + hole] = key[first + parent];
                idx[first + hole] = idx[first + parent];
                hole = parent;
                parent = (hole - 1) / 2;
            }
            key[first + hole] = k;
            idx[first + hole] = x;
        }
    }

    /** values[perm[i]] for each i, or a copy if perm is null. */
    private static int[] permute(int[] values, int[] perm) {
        if (perm == null) {
            return values.clone();
        }
        int[] out = new int[perm.length];
        for (int i = 0; i < perm.length; i++) {
            out[i] = values[perm[i]];
        }
        return out;
    }

    /** batchSizes[t] = number of sorted lengths greater than t. */
    private static int[] batchSizes(int[] sortedLengths) {
        int[] bs = new int[sortedLengths[0]];
        for (int len : sortedLengths) {
            for (int t = 0; t < len; t++) {
                bs[t]++;
            }
        }
        return bs;
    }

    private static int sum(int[] v) {
        long s = 0;
        for (int x : v) {
            s += x;
        }
        return Math.toIntExact(s);
    }
}
