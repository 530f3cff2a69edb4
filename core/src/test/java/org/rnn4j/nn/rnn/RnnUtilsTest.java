package org.rnn4j.nn.rnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.rnn4j.Device;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.io.SafeTensors;

class RnnUtilsTest {
    /** Every test runs in a scope, so that no tensor is left for the Cleaner (other tests watch Memory). */
    private Scope testScope;

    @BeforeEach
    void openScope() {
        testScope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        testScope.close();
    }

    private static int[] ints(Tensor t) {
        return t.toIntArray();
    }

    private static void assertExact(Tensor expected, Tensor actual, String name) {
        assertClose(actual, expected, 0, 0, name);
    }

    // =====================================================================================
    // PyTorch's documented example, literally
    // =====================================================================================

    @Test
    void pytorchDocsExample() {
        // seq = torch.tensor([[1,2,0], [3,0,0], [4,5,6]]); lens = [2, 1, 3]
        Tensor seq = Tensor.of(new float[][] {{1, 2, 0}, {3, 0, 0}, {4, 5, 6}});
        int[] lens = {2, 1, 3};
        PackedSequence packed = RnnUtils.packPaddedSequence(seq, lens, true, false);
        assertArrayEquals(new float[] {4, 1, 3, 5, 2, 6}, packed.data().toArray());
        assertArrayEquals(new int[] {6}, packed.data().shape());
        assertArrayEquals(new int[] {3, 2, 1}, packed.batchSizes());
        assertArrayEquals(new int[] {2, 0, 1}, packed.sortedIndices());
        assertArrayEquals(new int[] {1, 2, 0}, packed.unsortedIndices());
        assertArrayEquals(lens, packed.lengths());
        PaddedSequence unpacked = RnnUtils.padPackedSequence(packed, true);
        assertExact(seq, unpacked.padded(), "seq_unpacked");
        assertArrayEquals(lens, unpacked.lengths());
    }

    @Test
    void packSequenceDocsExample() {
        // a = [1,2,3], b = [4,5], c = [6]; pack_sequence([a, b, c]) -> data [1,4,6,2,5,3], batch_sizes [3,2,1]
        List<Tensor> seqs = List.of(Tensor.of(1, 2, 3), Tensor.of(4, 5), Tensor.of(6));
        PackedSequence p = RnnUtils.packSequence(seqs);
        assertArrayEquals(new float[] {1, 4, 6, 2, 5, 3}, p.data().toArray());
        assertArrayEquals(new int[] {3, 2, 1}, p.batchSizes());
        assertNull(p.sortedIndices());
        assertNull(p.unsortedIndices());
        assertTrue(p.isSorted());
        // pad_sequence([a, b, c], batch_first=True) from the docs of pad_sequence's shape rule
        Tensor padded = RnnUtils.padSequence(seqs, true, 0f);
        assertExact(Tensor.of(new float[][] {{1, 2, 3}, {4, 5, 0}, {6, 0, 0}}), padded, "pad_sequence");
        List<Tensor> back = RnnUtils.unpackSequence(p);
        for (int i = 0; i < 3; i++) {
            assertExact(seqs.get(i), back.get(i), "unpack_sequence[" + i + "]");
        }
    }

    // =====================================================================================
    // golden fixtures (fixtures/pack/*.safetensors)
    // =====================================================================================

    static Stream<String> packFixtures() {
        return Stream.of("padded_unsorted", "padded_unsorted_bf", "padded_sorted_enforced", "padded_total_length",
                "padded_padvalue_neg1", "padded_single", "pack_sequence_unsorted", "pack_sequence_sorted_bf",
                "pad_sequence_tf", "pad_sequence_bf_neg1",
                // edge/pack: ties past 16 sequences (std::sort order), total_length with batch_first,
                // every length equal to T
                "../edge/pack/padded_ties_n23_bf_total_length", "../edge/pack/padded_ties_n40_tf",
                "../edge/pack/padded_all_full_enforced_bf", "../edge/pack/padded_all_full_unsorted_tf_total_length",
                "../edge/pack/pack_sequence_ties_n21_bf");
    }

    /** torch.sort(lengths, descending=True) on many tie-heavy inputs (fixtures/edge/sort). */
    @Test
    void lengthSortMatchesTorchSortTieOrder() throws IOException {
        try (Scope scope = Scope.open()) {
            Path file = fixture("../edge/sort/descending_ties");
            Map<String, Tensor> t = SafeTensors.load(file);
            int cases = Integer.parseInt(SafeTensors.metadata(file).get("num_cases"));
            assertTrue(cases > 80);
            for (int k = 0; k < cases; k++) {
                int[] lengths = ints(t.get("lengths." + k));
                assertArrayEquals(ints(t.get("sorted_indices." + k)), RnnUtils.argsortDescending(lengths),
                        "case " + k + ", " + lengths.length + " lengths");
            }
        }
    }

    @Test
    void packedOrderOfEqualLengthsPast16IsTorchs() {
        // lengths = [2]*9 + [1]*8 (17 sequences): PyTorch 1.13 gives
        // sorted_indices [1, 8, 7, 6, 5, 4, 3, 2, 0, 9, 10, ..., 16], not batch order
        int[] lengths = {2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1};
        PackedSequence p = RnnUtils.packPaddedSequence(Tensor.zeros(2, 17), lengths, false, false);
        assertArrayEquals(new int[] {1, 8, 7, 6, 5, 4, 3, 2, 0, 9, 10, 11, 12, 13, 14, 15, 16}, p.sortedIndices());
        assertArrayEquals(lengths, p.lengths());
    }

    private static Path fixture(String name) {
        try {
            return Paths.get(RnnUtilsTest.class.getResource("/fixtures/pack/" + name + ".safetensors").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("fixture pack/" + name + " not on the test classpath", e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("packFixtures")
    void matchesPyTorchFixture(String name) throws IOException {
        try (Scope scope = Scope.open()) {
            Path file = fixture(name);
            Map<String, Tensor> t = SafeTensors.load(file);
            Map<String, String> m = SafeTensors.metadata(file);
            String op = m.get("op");
            boolean batchFirst = Boolean.parseBoolean(m.get("batch_first"));
            float pad = Float.parseFloat(m.get("padding_value"));
            int[] lengths = ints(t.get("lengths"));
            List<Tensor> seqs = new ArrayList<>();
            for (int i = 0; t.containsKey("sequence." + i); i++) {
                seqs.add(t.get("sequence." + i));
            }
            if (op.equals("pad_sequence")) {
                assertEquals(Integer.parseInt(m.get("num_sequences")), seqs.size());
                assertExact(t.get("padded"), RnnUtils.padSequence(seqs, batchFirst, pad), name + ": padded");
                List<Tensor> back = RnnUtils.unpadSequence(t.get("padded"), lengths, batchFirst);
                for (int i = 0; i < seqs.size(); i++) {
                    assertExact(seqs.get(i), back.get(i), name + ": unpad_sequence[" + i + "]");
                }
                return;
            }
            boolean enforceSorted = Boolean.parseBoolean(m.get("enforce_sorted"));
            Integer totalLength = m.get("total_length").equals("none") ? null : Integer.parseInt(m.get("total_length"));
            PackedSequence p;
            if (op.equals("pack_padded_sequence+pad_packed_sequence")) {
                p = RnnUtils.packPaddedSequence(t.get("input"), t.get("lengths"), batchFirst, enforceSorted);
            } else {
                assertEquals("pack_sequence+pad_packed_sequence", op);
                p = RnnUtils.packSequence(seqs, enforceSorted);
            }
            assertExact(t.get("data"), p.data(), name + ": data");
            assertArrayEquals(ints(t.get("batch_sizes")), p.batchSizes(), name + ": batch_sizes");
            if (Boolean.parseBoolean(m.get("has_sorted_indices"))) {
                assertArrayEquals(ints(t.get("sorted_indices")), p.sortedIndices(), name + ": sorted_indices");
                assertArrayEquals(ints(t.get("unsorted_indices")), p.unsortedIndices(), name + ": unsorted_indices");
            } else {
                assertNull(p.sortedIndices(), name + ": sorted_indices is None");
                assertNull(p.unsortedIndices(), name + ": unsorted_indices is None");
            }
            PaddedSequence padded = RnnUtils.padPackedSequence(p, batchFirst, pad, totalLength);
            assertExact(t.get("padded"), padded.padded(), name + ": padded");
            assertArrayEquals(ints(t.get("padded_lengths")), padded.lengths(), name + ": padded_lengths");
            assertArrayEquals(lengths, p.lengths(), name + ": PackedSequence.lengths()");
            // inverses: unpack_sequence gives each sequence's valid prefix
            List<Tensor> unpacked = RnnUtils.unpackSequence(p);
            List<Tensor> unpadded = RnnUtils.unpadSequence(padded.padded(), padded.lengths(), batchFirst);
            for (int b = 0; b < lengths.length; b++) {
                assertEquals(lengths[b], unpacked.get(b).size(0));
                assertExact(unpadded.get(b), unpacked.get(b), name + ": unpack_sequence[" + b + "]");
                if (!seqs.isEmpty()) {
                    assertExact(seqs.get(b), unpacked.get(b), name + ": sequence." + b);
                }
            }
        }
    }

    // =====================================================================================
    // error cases
    // =====================================================================================

    private static void assertIae(String expected, Executable body) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, body::run);
        assertTrue(e.getMessage().contains(expected), "message '" + e.getMessage() + "' should contain '" + expected + "'");
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Throwable;
    }

    @Test
    void packPaddedSequenceErrors() {
        Tensor x = Tensor.zeros(5, 3, 2); // (T=5, B=3, F=2)
        assertIae("argument 'input' is empty", () -> RnnUtils.packPaddedSequence(Tensor.zeros(0, 3, 2), new int[] {1, 1, 1}, false, false));
        assertIae("argument 'input' is empty", () -> RnnUtils.packPaddedSequence(Tensor.zeros(5, 0, 2), new int[] {}, false, false));
        assertIae("at least 2 dims", () -> RnnUtils.packPaddedSequence(Tensor.zeros(5), new int[] {5}, false, false));
        assertIae("argument 'lengths' has 2 entries, expected the batch size 3",
                () -> RnnUtils.packPaddedSequence(x, new int[] {5, 4}, false, false));
        assertIae("argument 'lengths' has 3 entries, expected the batch size 5",
                () -> RnnUtils.packPaddedSequence(x, new int[] {3, 3, 3}, true, false));
        assertIae("every length must be > 0, but lengths[2] = 0", () -> RnnUtils.packPaddedSequence(x, new int[] {5, 4, 0}, false, false));
        assertIae("every length must be > 0, but lengths[0] = -1", () -> RnnUtils.packPaddedSequence(x, new int[] {-1, 4, 2}, false, false));
        assertIae("lengths[1] = 6 exceeds the time dimension of 'input' (size 5 at dim 0",
                () -> RnnUtils.packPaddedSequence(x, new int[] {5, 6, 1}, false, false));
        assertIae("lengths[0] = 4 exceeds the time dimension of 'input' (size 3 at dim 1",
                () -> RnnUtils.packPaddedSequence(x, new int[] {4, 1, 1, 1, 1}, true, false));
        assertIae("must be sorted in decreasing order when enforceSorted is true, but lengths[2] = 4 > lengths[1] = 3",
                () -> RnnUtils.packPaddedSequence(x, new int[] {5, 3, 4}, false, true));
        assertIae("must be sorted in decreasing order", () -> RnnUtils.packPaddedSequence(x, new int[] {1, 2, 3}));
        assertIae("'lengths' must be 1-D", () -> RnnUtils.packPaddedSequence(x, Tensor.zeros(3, 1), false, false));
    }

    @Test
    void padPackedSequenceErrors() {
        PackedSequence p = RnnUtils.packPaddedSequence(Tensor.ones(4, 2, 3), new int[] {4, 2}, false, true);
        assertIae("'totalLength' must be at least the length of the longest sequence, got totalLength=3 and max sequence length 4",
                () -> RnnUtils.padPackedSequence(p, false, 0f, 3));
        assertArrayEquals(new int[] {6, 2, 3}, RnnUtils.padPackedSequence(p, false, 0f, 6).padded().shape());
        assertArrayEquals(new int[] {2, 4, 3}, RnnUtils.padPackedSequence(p, true, 0f, 4).padded().shape());
    }

    @Test
    void sequenceListErrors() {
        assertIae("argument 'sequences' is empty", () -> RnnUtils.packSequence(List.of(), false));
        assertIae("argument 'sequences' is empty", () -> RnnUtils.padSequence(List.of(), false, 0f));
        assertIae("sequences[1] has shape [2, 4], expected (L, 3)",
                () -> RnnUtils.padSequence(List.of(Tensor.zeros(3, 3), Tensor.zeros(2, 4)), false, 0f));
        assertIae("sequences[1] has shape [2, 4], expected (L, 3)",
                () -> RnnUtils.packSequence(List.of(Tensor.zeros(3, 3), Tensor.zeros(2, 4)), false));
        assertIae("sequences[0] must be (L, *) with at least 1 dim", () -> RnnUtils.padSequence(List.of(Tensor.scalar(1f)), false, 0f));
        assertIae("every sequence must have length > 0, but sequences[1] has shape [0, 3]",
                () -> RnnUtils.packSequence(List.of(Tensor.zeros(3, 3), Tensor.zeros(0, 3)), false));
        assertIae("sequences must be sorted by decreasing length when enforceSorted is true, but sequences[1] has length 4",
                () -> RnnUtils.packSequence(List.of(Tensor.zeros(3, 3), Tensor.zeros(4, 3)), true));
        List<Tensor> withNull = new ArrayList<>();
        withNull.add(null);
        assertIae("sequences[0] is null", () -> RnnUtils.padSequence(withNull, false, 0f));
        // pad_sequence accepts empty sequences, like PyTorch
        Tensor padded = RnnUtils.padSequence(List.of(Tensor.zeros(0, 2), Tensor.ones(2, 2)), true, -1f);
        assertExact(Tensor.of(new float[][][] {{{-1, -1}, {-1, -1}}, {{1, 1}, {1, 1}}}), padded, "empty sequence padded");
        assertArrayEquals(new int[] {0, 2, 2}, RnnUtils.padSequence(List.of(Tensor.zeros(0, 2), Tensor.zeros(0, 2)), false, 0f).shape());
    }

    @Test
    void unpadSequenceErrors() {
        Tensor padded = Tensor.zeros(4, 2, 3);
        assertIae("argument 'lengths' has 3 entries, expected the batch size 2", () -> RnnUtils.unpadSequence(padded, new int[] {1, 2, 3}));
        assertIae("argument 'lengths' must be in 0..4 (the time dimension, dim 0", () -> RnnUtils.unpadSequence(padded, new int[] {5, 2}));
        assertIae("got lengths[1] = -1", () -> RnnUtils.unpadSequence(padded, new int[] {1, -1}));
        assertIae("at least 2 dims", () -> RnnUtils.unpadSequence(Tensor.zeros(4), new int[] {1}));
        assertEquals(0, RnnUtils.unpadSequence(padded, new int[] {0, 4}).get(0).size(0));
    }

    @Test
    void packedSequenceValidates() {
        Tensor d = Tensor.zeros(6, 2);
        assertIae("'batchSizes' is empty", () -> new PackedSequence(d, new int[0], null, null));
        assertIae("'batchSizes' must be positive", () -> new PackedSequence(d, new int[] {6, 0}, null, null));
        assertIae("must be non-increasing, got batchSizes[1] = 3 > batchSizes[0] = 2", () -> new PackedSequence(d, new int[] {2, 3, 1}, null, null));
        assertIae("sums to 5, expected data.size(0) = 6", () -> new PackedSequence(d, new int[] {3, 2}, null, null));
        assertIae("'sortedIndices' has 2 entries, expected batchSizes[0] = 3", () -> new PackedSequence(d, new int[] {3, 2, 1}, new int[] {0, 1}, null));
        assertIae("'sortedIndices' is not a permutation", () -> new PackedSequence(d, new int[] {3, 2, 1}, new int[] {0, 0, 1}, null));
        assertIae("not the inverse of 'sortedIndices'",
                () -> new PackedSequence(d, new int[] {3, 2, 1}, new int[] {2, 0, 1}, new int[] {2, 0, 1}));
        assertIae("'unsortedIndices' given without 'sortedIndices'", () -> new PackedSequence(d, new int[] {3, 2, 1}, null, new int[] {0, 1, 2}));
        assertIae("0-d", () -> new PackedSequence(Tensor.scalar(1f), new int[] {1}, null, null));

        int[] sorted = {2, 0, 1};
        PackedSequence p = new PackedSequence(d, new int[] {3, 2, 1}, sorted, null);
        assertArrayEquals(new int[] {1, 2, 0}, p.unsortedIndices(), "inverse computed like PyTorch");
        sorted[0] = 99;
        p.sortedIndices()[1] = 99;
        assertArrayEquals(new int[] {2, 0, 1}, p.sortedIndices(), "defensive copies");
        assertEquals(3, p.batchSize());
        assertEquals(3, p.maxLength());
        assertArrayEquals(new int[] {2, 1, 3}, p.lengths());
        PackedSequence moved = p.to(Device.CPU);
        assertArrayEquals(p.batchSizes(), moved.batchSizes());
        assertArrayEquals(p.sortedIndices(), moved.sortedIndices());
        assertEquals(Device.CPU, moved.device());
        PackedSequence other = p.withData(Tensor.ones(6, 5));
        assertArrayEquals(new int[] {6, 5}, other.data().shape());
        assertIae("must have 6 rows", () -> p.withData(Tensor.ones(5, 5)));
        assertTrue(p.toString().contains("batchSizes=[3, 2, 1]"));
        moved.close();
        assertTrue(moved.data().isClosed());
    }

    // =====================================================================================
    // round trips on random shapes
    // =====================================================================================

    @Test
    void randomRoundTrips() {
        Generator g = new Generator(1234);
        java.util.Random r = new java.util.Random(99);
        for (int iter = 0; iter < 60; iter++) {
            try (Scope scope = Scope.open()) {
                int batch = 1 + r.nextInt(6);
                int[] tail = r.nextInt(4) == 0 ? new int[0] : (r.nextBoolean() ? new int[] {1 + r.nextInt(3)} : new int[] {2, 1 + r.nextInt(3)});
                boolean batchFirst = r.nextBoolean();
                boolean sortedInput = r.nextInt(3) == 0;
                int[] lengths = new int[batch];
                for (int b = 0; b < batch; b++) {
                    lengths[b] = 1 + r.nextInt(7);
                }
                if (sortedInput) {
                    lengths = java.util.Arrays.stream(lengths).boxed().sorted((a, b2) -> b2 - a).mapToInt(Integer::intValue).toArray();
                }
                List<Tensor> seqs = new ArrayList<>();
                for (int b = 0; b < batch; b++) {
                    int[] s = new int[tail.length + 1];
                    s[0] = lengths[b];
                    System.arraycopy(tail, 0, s, 1, tail.length);
                    seqs.add(Tensor.randn(g, s));
                }
                String ctx = "iter " + iter + " lengths " + java.util.Arrays.toString(lengths) + " bf " + batchFirst;
                Tensor padded = RnnUtils.padSequence(seqs, batchFirst, 7f);
                PackedSequence fromPadded = RnnUtils.packPaddedSequence(padded, lengths, batchFirst, sortedInput);
                PackedSequence fromList = RnnUtils.packSequence(seqs, sortedInput);
                assertExact(fromList.data(), fromPadded.data(), ctx + ": pack_sequence == pack_padded_sequence(pad_sequence)");
                assertArrayEquals(fromList.batchSizes(), fromPadded.batchSizes(), ctx);
                PaddedSequence again = RnnUtils.padPackedSequence(fromPadded, batchFirst, 7f, null);
                assertExact(padded, again.padded(), ctx + ": pad(pack(x)) == x");
                assertArrayEquals(lengths, again.lengths(), ctx);
                List<Tensor> unpacked = RnnUtils.unpackSequence(fromList);
                List<Tensor> unpadded = RnnUtils.unpadSequence(padded, lengths, batchFirst);
                for (int b = 0; b < batch; b++) {
                    assertExact(seqs.get(b), unpacked.get(b), ctx + ": unpack[" + b + "]");
                    assertExact(seqs.get(b), unpadded.get(b), ctx + ": unpad[" + b + "]");
                }
            }
        }
    }

    @Test
    void nonContiguousInputPacks() {
        Tensor bf = Tensor.of(new float[][][] {{{1}, {2}, {0}}, {{3}, {0}, {0}}, {{4}, {5}, {6}}}); // (B, T, 1)
        Tensor tf = bf.transpose(0, 1); // (T, B, 1) view, not contiguous
        PackedSequence p = RnnUtils.packPaddedSequence(tf, new int[] {2, 1, 3}, false, false);
        assertArrayEquals(new float[] {4, 1, 3, 5, 2, 6}, p.data().toArray());
    }

    // =====================================================================================
    // gradients
    // =====================================================================================

    /** Packing is a row selection: d sum(w * packed.data) / d input = w scattered back, zero at padding. */
    @Test
    void packPaddedSequenceGradientReachesInput() {
        for (boolean batchFirst : new boolean[] {false, true}) {
            try (Scope scope = Scope.open()) {
                Generator g = new Generator(5);
                int steps = 5;
                int batch = 4;
                int[] lengths = {3, 5, 1, 4};
                Tensor input = Tensor.randn(g, batchFirst ? batch : steps, batchFirst ? steps : batch, 2).requiresGrad(true);
                PackedSequence p = RnnUtils.packPaddedSequence(input, lengths, batchFirst, false);
                Tensor w = Tensor.randn(g, p.data().shape());
                p.data().mul(w).sum().backward();
                Tensor grad = input.grad();
                assertNotNull(grad, "input received a gradient");
                // expected: w padded back to the input layout with zeros (pad_packed_sequence without grad)
                Tensor expected;
                try (GradMode.Guard ng = GradMode.noGrad()) {
                    expected = RnnUtils.padPackedSequence(p.withData(w), batchFirst, 0f, steps).padded();
                }
                assertExact(expected, grad, "grad.input (batchFirst=" + batchFirst + ")");
                float[] gv = grad.toArray();
                for (int b = 0; b < batch; b++) {
                    for (int t = lengths[b]; t < steps; t++) {
                        int row = batchFirst ? b * steps + t : t * batch + b;
                        assertEquals(0f, gv[row * 2]);
                        assertEquals(0f, gv[row * 2 + 1]);
                    }
                }
                input.zeroGrad(); // gradients belong to no scope
            }
        }
    }

    /** Padding is the adjoint of packing: d sum(gOut * padded) / d data = pack(gOut). */
    @Test
    void padPackedSequenceGradientReachesData() {
        for (boolean batchFirst : new boolean[] {false, true}) {
            try (Scope scope = Scope.open()) {
                Generator g = new Generator(6);
                int[] lengths = {2, 4, 4, 1};
                int sum = 11;
                PackedSequence shape = RnnUtils.packPaddedSequence(Tensor.zeros(batchFirst ? 4 : 4, 4, 3), lengths, batchFirst, false);
                Tensor data = Tensor.randn(g, sum, 3).requiresGrad(true);
                PackedSequence p = shape.withData(data);
                PaddedSequence out = RnnUtils.padPackedSequence(p, batchFirst, -5f, 6);
                Tensor gOut = Tensor.randn(g, out.padded().shape());
                out.padded().mul(gOut).sum().backward();
                Tensor expected;
                try (GradMode.Guard ng = GradMode.noGrad()) {
                    expected = RnnUtils.packPaddedSequence(gOut, lengths, batchFirst, false).data();
                }
                assertExact(expected, data.grad(), "grad.data (batchFirst=" + batchFirst + ")");
                data.zeroGrad();
            }
        }
    }

    @Test
    void sequenceListGradients() {
        try (Scope scope = Scope.open()) {
            Generator g = new Generator(8);
            List<Tensor> seqs = List.of(Tensor.randn(g, 2, 3).requiresGrad(true), Tensor.randn(g, 4, 3).requiresGrad(true),
                    Tensor.randn(g, 1, 3).requiresGrad(true));
            PackedSequence p = RnnUtils.packSequence(seqs, false);
            Tensor w = Tensor.randn(g, p.data().shape());
            Tensor padded = RnnUtils.padSequence(seqs, true, 3f);
            Tensor v = Tensor.randn(g, padded.shape());
            p.data().mul(w).sum().add(padded.mul(v).sum()).backward();
            List<Tensor> wSeqs;
            List<Tensor> vSeqs;
            try (GradMode.Guard ng = GradMode.noGrad()) {
                wSeqs = RnnUtils.unpackSequence(p.withData(w));
                vSeqs = RnnUtils.unpadSequence(v, new int[] {2, 4, 1}, true);
            }
            for (int i = 0; i < 3; i++) {
                assertClose(seqs.get(i).grad(), wSeqs.get(i).add(vSeqs.get(i)), 1e-6, 1e-6, "grad.sequence." + i);
            }
            // and through the inverses
            Tensor x = Tensor.randn(g, 3, 5, 2).requiresGrad(true);
            List<Tensor> parts = RnnUtils.unpadSequence(x, new int[] {1, 5, 3}, true);
            parts.get(2).sum().backward();
            float[] gx = x.grad().toArray();
            for (int b = 0; b < 3; b++) {
                for (int t = 0; t < 5; t++) {
                    float e = b == 2 && t < 3 ? 1f : 0f;
                    assertEquals(e, gx[(b * 5 + t) * 2], "grad unpad at b=" + b + " t=" + t);
                }
            }
            x.zeroGrad();
            seqs.forEach(Tensor::zeroGrad);
        }
    }

    @Test
    void intermediatesAreFreed() {
        try (Scope outer = Scope.open()) {
            Tensor input = Tensor.ones(6, 4, 8);
            long before = org.rnn4j.Memory.bytesInUse();
            PackedSequence p = RnnUtils.packPaddedSequence(input, new int[] {6, 2, 3, 1}, false, false);
            PaddedSequence back = RnnUtils.padPackedSequence(p, false, 0f, null);
            long held = org.rnn4j.Memory.bytesInUse() - before;
            // packed data (12 x 8) + padded (6 x 4 x 8) floats, plus 64-byte alignment slack each
            assertTrue(held <= 4L * (12 * 8 + 6 * 4 * 8) + 2 * 64, "held " + held + " bytes");
            back.close();
            p.close();
        }
    }
}
