package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.OptimizerStep;
import org.rnn4j.backend.ReduceOp;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.View;
import org.rnn4j.backend.UnaryOp;
import org.rnn4j.nativecpu.NativeBackend;

/**
 * Misuse that used to reach native code unchecked (reading or writing outside the buffers, or
 * leaking native memory): each case is now a Java exception naming the argument, thrown before
 * any native call.
 */
class NativeMisuseTest {
    private final NativeBackend be = new NativeBackend();

    @BeforeEach
    void needsNative() {
        assumeTrue(be.isAvailable(), be.unavailableReason());
    }

    private static Tensor on(NativeBackend be, float... v) {
        try (Backends.Override o = Backends.use(be)) {
            return Tensor.of(v);
        }
    }

    // ---- element counts that wrap a long -----------------------------------------------------

    @Test
    void shapeWhoseElementCountWrapsIsRefused() {
        int big = 1 << 21;  // big^3 = 2^63 wraps to Long.MIN_VALUE, big^3 * 2 to 0
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(big, big, big));
        try (Tensor empty = Tensor.zeros(0)) {
            assertThrows(IllegalArgumentException.class, () -> empty.reshape(big, big, big, 2));
        }
        try (Tensor one = Tensor.scalar(1f)) {
            assertThrows(IllegalArgumentException.class, () -> one.expand(big, big, big));
            assertThrows(IllegalArgumentException.class, () -> one.expand(-2));
        }
        // an empty tensor with huge other dims stays legal
        try (Tensor e = Tensor.zeros(0, big, big, big)) {
            assertEquals(0, e.numel());
        }
    }

    // ---- allocation --------------------------------------------------------------------------

    private static long rssBytes() throws Exception {
        String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
        return Long.parseLong(f[1]) * 4096L;
    }

    @Test
    void oversizedStorageIsRefusedBeforeNativeMemoryIsTaken() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/self/statm")));
        long before = rssBytes();
        // 600M floats: above HostStorage's cap; this used to posix_memalign + zero 2.4 GB, then
        // throw from HostStorage with the memory lost
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.allocate(600_000_000L));
        assertTrue(e.getMessage().contains("numel"), e.getMessage());
        long grown = rssBytes() - before;
        assertTrue(grown < 512L << 20, "resident memory grew by " + grown + " bytes");
        assertThrows(IllegalArgumentException.class, () -> be.allocate(-1));
    }

    @Test
    void reusedBigBlocksComeBackZeroed() {
        // blocks of 1 MiB and more go to a cache when freed (host_memory.h) and are handed out
        // again: a new tensor must still read as zeros, also when it reuses a larger block
        try (Backends.Override o = Backends.use(be)) {
            for (int round = 0; round < 4; round++) {
                int rows = round % 2 == 0 ? 512 : 300; // 2 MiB, then 1.2 MiB in a 2 MiB block
                Tensor dirty = Tensor.full(7f + round, rows, 1024);
                assertEquals(7f + round, dirty.get(rows - 1, 1023));
                dirty.close();
                try (Tensor z = Tensor.zeros(rows, 1024)) {
                    float[] v = z.toArray();
                    for (int i = 0; i < v.length; i++) {
                        if (v[i] != 0f) {
                            throw new AssertionError("round " + round + ": element " + i + " of a fresh tensor is " + v[i]);
                        }
                    }
                }
            }
        }
    }

    // ---- Tensor.get ----------------------------------------------------------------------------

    @Test
    void getOnClosedTensorThrowsAndGetDoesNotPinStorage() {
        try (Backends.Override o = Backends.use(be)) {
            Tensor t = Tensor.of(1f, 2f, 3f);
            Tensor other = t.detach();
            t.close();
            assertThrows(IllegalStateException.class, () -> t.get(1));
            assertEquals(2f, other.get(1));
            Storage s = other.storage();
            other.close();
            // get's one-element view used to stay open, holding the storage past its last close
            assertTrue(s.isFreed());
        }
    }

    // ---- NativeBackend called directly ---------------------------------------------------------

    @Test
    void elementwiseShapesMustMatchOut() {
        try (Tensor out = on(be, 0, 0, 0, 0); Tensor a = on(be, 1, 2, 3, 4); Tensor small = on(be, 1)) {
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).binary(BinaryOp.ADD, out, a, small));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).unary(UnaryOp.EXP, out, small));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).copy(out, small));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).addScaled(out, a, small, 1f));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).where(out, a, a, small));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).binaryScalar(BinaryOp.MUL, out, small, 2f));
            Direct.on(be).binary(BinaryOp.ADD, out, a, a);
            assertArrayEquals(new float[] {2, 4, 6, 8}, out.toArray());
        }
    }

    @Test
    void contiguousKernelsRefuseViewsAndWrongSizes() {
        try (Tensor one = on(be, 5); Tensor wide = one.expand(1000); Tensor x = on(be, 1, 2, 3, 4);
             Tensor out = on(be, 0)) {
            // sum_all reads numel floats from the address: 1000 from a 1-float storage
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).sumAll(wide));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).sumSquares(x, wide));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).scale(new Tensor[] {wide}, 2f));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).reduce(ReduceOp.SUM, out, x, 1, 400, 1));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).reduce(ReduceOp.SUM, out, x, -1, 4, -1));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).softmax(x, x, 1, 8, 1, false));
            Direct.on(be).reduce(ReduceOp.SUM, out, x, 1, 4, 1);
            assertEquals(10f, out.item());
        }
    }

    @Test
    void indexArgumentsAreRangeChecked() {
        try (Tensor x = on(be, 1, 2, 3, 4); Tensor out2 = on(be, 0, 0)) {
            assertThrows(IndexOutOfBoundsException.class, () -> Direct.on(be).indexSelect(out2, x, 1, 4, 1, new int[] {0, 1 << 20}));
            assertThrows(IndexOutOfBoundsException.class, () -> Direct.on(be).indexAdd(x, out2, 1, 4, 1, new int[] {-1, 0}));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).gather(out2, x, 1, 4, 1, 2, new int[] {0}));
            assertThrows(IndexOutOfBoundsException.class, () -> Direct.on(be).scatterAdd(x, out2, 1, 4, 1, 2, new int[] {0, 4}));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).indexSelect(out2, x, 1, 4, 1, new int[] {0, 1, 2}));
            Direct.on(be).indexSelect(out2, x, 1, 4, 1, new int[] {3, 1});
            assertArrayEquals(new float[] {4, 2}, out2.toArray());
        }
    }

    @Test
    void gemmOperandsMustLieInsideTheirStorage() {
        try (Tensor a = on(be, 1, 2, 3, 4); Tensor c = on(be, 0, 0, 0, 0)) {
            Storage sa = a.storage();
            Storage sc = c.storage();
            // 2x2 times 2x2 but 100 batches: strides walk far past 4 floats
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).gemm(false, false, 2, 2, 2, 1f, sa, 0, 2, 4, sa, 0, 2, 4,
                    0f, sc, 0, 2, 4, 100));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).gemm(false, false, 2, 2, 2, 1f, sa, 3, 2, 0, sa, 0, 2, 0,
                    0f, sc, 0, 2, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).gemm(false, false, 2, 2, 2, 1f, sa, 0, 1, 0, sa, 0, 2, 0,
                    0f, sc, 0, 2, 0, 1));
            Direct.on(be).gemm(false, false, 2, 2, 2, 1f, sa, 0, 2, 0, sa, 0, 2, 0, 0f, sc, 0, 2, 0, 1);
            assertArrayEquals(new float[] {7, 10, 15, 22}, c.toArray());
        }
    }

    @Test
    void crossEntropyTargetsAndShapesAreChecked() {
        try (Backends.Override o = Backends.use(be);
             Tensor logits = Tensor.zeros(2, 3); Tensor loss = Tensor.zeros(2); Tensor d = Tensor.zeros(2, 3);
             Tensor dSmall = Tensor.zeros(1, 3)) {
            assertThrows(IndexOutOfBoundsException.class, () -> Direct.on(be).crossEntropy(loss, d, logits, new int[] {0, 1 << 24}, -100, 1f));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).crossEntropy(loss, d, logits, new int[] {0}, -100, 1f));
            assertThrows(IllegalArgumentException.class, () -> Direct.on(be).crossEntropy(loss, dSmall, logits, new int[] {0, 1}, -100, 1f));
            Direct.on(be).crossEntropy(loss, d, logits, new int[] {0, -100}, -100, 1f);
            assertEquals((float) Math.log(3), loss.toArray()[0], 1e-6f);
        }
    }

    @Test
    void optimizerArraysMustAlign() {
        try (Tensor p = on(be, 1, 2, 3); Tensor g = on(be, 1)) {
            OptimizerStep sgd = new OptimizerStep(OptimizerStep.Kind.SGD, 0.1f, 0f, 0f, false, 0f, 0.9f, 0.999f, 1e-8f, 1, true);
            assertThrows(IllegalArgumentException.class,
                    () -> Direct.on(be).optimizerStep(sgd, new Tensor[] {p}, new Tensor[] {g}, null, null));
            assertThrows(IllegalArgumentException.class,
                    () -> Direct.on(be).optimizerStep(sgd, new Tensor[] {p, p}, new Tensor[] {p}, null, null));
        }
    }

    @Test
    void viewsOutsideTheirStorageAndClosedTensorsAreRefused() {
        try (Tensor t = on(be, 1, 2, 3, 4); Tensor out = on(be, 0, 0, 0, 0)) {
            // a view checks itself when made: no backend ever sees one that leaves its storage
            Storage st = t.storage();
            assertThrows(IllegalArgumentException.class, () -> View.of(st, 2, new int[] {4}, new int[] {1}));
            assertThrows(IllegalArgumentException.class, () -> View.of(st, 0, new int[] {4}, new int[] {1 << 20}));
            assertThrows(IllegalArgumentException.class, () -> View.of(st, -1, new int[] {1}, new int[] {1}));
            assertThrows(IllegalArgumentException.class, () -> View.of(st, 0, new int[] {2, 2}, new int[] {1}));
            assertThrows(IllegalArgumentException.class,
                    () -> View.of(st, 0, new int[] {65536, 65536, 65536, 65536}, new int[] {0, 0, 0, 0}));
            Tensor closed = on(be, 1, 2, 3, 4);
            closed.close();
            assertThrows(IllegalStateException.class, () -> Direct.on(be).unary(UnaryOp.NEG, out, closed));
        }
    }

    // ---- recurrent layer called directly -----------------------------------------------------

    /** A valid one-direction RNN_TANH layer: T = 2, N = 2, I = 3, H = 4. */
    private static TensorArgs rnnArgs(boolean training) {
        TensorArgs a = new TensorArgs();
        a.kind = CellKind.RNN_TANH;
        a.batchSizes = new int[] {2, 2};
        a.inputSize = 3;
        a.hiddenSize = 4;
        a.x = Tensor.full(0.1f, 4, 3);
        a.h0 = Tensor.zeros(2, 4);
        a.wIh = Tensor.full(0.2f, 4, 3);
        a.wHh = Tensor.full(0.3f, 4, 4);
        a.bIh = Tensor.zeros(4);
        a.bHh = Tensor.zeros(4);
        a.y = Tensor.zeros(4, 4);
        a.hN = Tensor.zeros(2, 4);
        a.workspace = training ? Tensor.zeros(4, CellKind.RNN_TANH.workspaceRow(4, 0)) : null;
        return a;
    }

    @Test
    void rnnLayerArgumentsAreChecked() {
        try (Backends.Override o = Backends.use(be); org.rnn4j.Scope s = org.rnn4j.Scope.open()) {
            TensorArgs grow = rnnArgs(false);
            grow.batchSizes = new int[] {2, 3};   // increasing: step 1 would run 3 rows of a 2-row state
            assertThrows(IllegalArgumentException.class, () -> be.rnnForward(TensorArgs.views(grow)));

            TensorArgs longer = rnnArgs(false);
            longer.batchSizes = new int[] {2, 2, 2, 2};  // 8 rows of x, which has 4
            assertThrows(IllegalArgumentException.class, () -> be.rnnForward(TensorArgs.views(longer)));

            TensorArgs empty = rnnArgs(false);
            empty.batchSizes = new int[0];  // batchSizes[0] read past the array
            assertThrows(IllegalArgumentException.class, () -> be.rnnForward(TensorArgs.views(empty)));

            TensorArgs smallH0 = rnnArgs(false);
            smallH0.h0 = Tensor.zeros(1, 4);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> be.rnnForward(TensorArgs.views(smallH0)));
            assertTrue(e.getMessage().contains("'h0'"), e.getMessage());

            TensorArgs transposed = rnnArgs(false);
            transposed.wIh = Tensor.full(0.2f, 3, 4).t();  // column stride 4
            assertThrows(IllegalArgumentException.class, () -> be.rnnForward(TensorArgs.views(transposed)));

            TensorArgs noY = rnnArgs(false);
            noY.y = null;
            assertThrows(IllegalArgumentException.class, () -> be.rnnForward(TensorArgs.views(noY)));

            TensorArgs ok = rnnArgs(true);
            be.rnnForward(TensorArgs.views(ok));
            ok.dy = Tensor.zeros(4, 4);
            TensorArgs noWs = ok;
            Tensor ws = noWs.workspace;
            noWs.workspace = null;  // backward reads the saved activations: null was a null dereference
            assertThrows(IllegalArgumentException.class, () -> be.rnnBackward(TensorArgs.views(noWs)));
            noWs.workspace = ws;
            noWs.dy = null;
            assertThrows(IllegalArgumentException.class, () -> be.rnnBackward(TensorArgs.views(noWs)));
            noWs.dy = Tensor.zeros(4, 4);
            noWs.dWIh = Tensor.zeros(4, 3);
            be.rnnBackward(TensorArgs.views(noWs));
            assertArrayEquals(new float[12], noWs.dWIh.toArray());
        }
    }
}
