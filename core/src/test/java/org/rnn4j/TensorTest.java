package org.rnn4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TensorTest {
    private final Generator gen = new Generator(42);
    /** Every test's tensors die with this scope, so memory accounting starts clean in each test. */
    private Scope testScope;

    @BeforeEach
    void openScope() {
        testScope = Scope.open();
    }

    @AfterEach
    void closeScope() {
        testScope.close();
    }

    @Test
    void creationAndRoundTrip() {
        Tensor t = Tensor.of(new float[][] {{1, 2, 3}, {4, 5, 6}});
        assertArrayEquals(new int[] {2, 3}, t.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toArray());
        assertArrayEquals(new float[] {0, 1, 2, 3}, Tensor.arange(4).toArray());
        assertArrayEquals(new float[] {1, 1.5f, 2, 2.5f}, Tensor.arange(1, 3, 0.5f).toArray());
        assertArrayEquals(new float[] {7, 7}, Tensor.full(7, 2).toArray());
        assertEquals(6f, t.get(1, 2));
        assertEquals(3f, t.get(0, -1));
        float[][][] nested = Tensor.of(new float[][][] {{{1, 2}}, {{3, 4}}}).toArray3D();
        assertEquals(4f, nested[1][0][1]);
    }

    @Test
    void seededGeneratorIsReproducible() {
        float[] a = Tensor.randn(new Generator(7), 5).toArray();
        float[] b = Tensor.randn(new Generator(7), 5).toArray();
        assertArrayEquals(a, b);
        float[] u = Tensor.uniform(new Generator(1), -2, 3, 1000).toArray();
        for (float v : u) {
            assertTrue(v >= -2 && v < 3, "uniform value " + v);
        }
    }

    @Test
    void viewsShareStorageAndHaveRightValues() {
        Tensor t = Tensor.arange(24).reshape(2, 3, 4);
        Tensor p = t.permute(2, 0, 1);
        assertArrayEquals(new int[] {4, 2, 3}, p.shape());
        assertEquals(t.get(1, 2, 3), p.get(3, 1, 2));
        Tensor tr = t.transpose(0, 2);
        assertEquals(t.get(1, 0, 2), tr.get(2, 0, 1));
        assertFalse(tr.isContiguous());
        Tensor c = tr.contiguous();
        assertTrue(c.isContiguous());
        assertEquals(t.get(1, 0, 2), c.get(2, 0, 1));
        Tensor n = t.narrow(2, 1, 2);
        assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}, n.toArray());
        assertArrayEquals(new float[] {12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}, t.select(0, 1).toArray());
        assertArrayEquals(new int[] {2, 1, 3, 4}, t.unsqueeze(1).shape());
        assertArrayEquals(new int[] {2, 3, 4}, t.unsqueeze(1).squeeze().shape());
        Tensor e = Tensor.of(1, 2, 3).reshape(3, 1).expand(3, 2);
        assertArrayEquals(new float[] {1, 1, 2, 2, 3, 3}, e.toArray());
        assertArrayEquals(new float[] {1, 5, 9}, t.slice(2, 1, 2).slice(0, 0, 1).reshape(-1).toArray());
        // writes through a view land in the base tensor
        n.fill(-1);
        assertEquals(-1f, t.get(0, 0, 1));
    }

    @Test
    void broadcastingArithmetic() {
        Tensor a = Tensor.of(new float[][] {{1, 2, 3}, {4, 5, 6}});
        Tensor b = Tensor.of(10, 20, 30);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, a.add(b).toArray());
        assertArrayEquals(new float[] {-9, -18, -27, -6, -15, -24}, a.sub(b).toArray());
        Tensor col = Tensor.of(new float[][] {{2}, {3}});
        assertArrayEquals(new float[] {2, 4, 6, 12, 15, 18}, a.mul(col).toArray());
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 4f / 3, 5f / 3, 2}, a.div(col).toArray(), 1e-6f);
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, a.sub(1).toArray());
        assertArrayEquals(new float[] {1, 0, -1, -2, -3, -4}, a.rsub(2).toArray());
        assertArrayEquals(new float[] {1, 4, 9, 16, 25, 36}, a.pow(2).toArray(), 1e-5f);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> a.add(Tensor.of(1, 2)));
        assertTrue(ex.getMessage().contains("add") && ex.getMessage().contains("[2, 3]") && ex.getMessage().contains("[2]"),
                ex.getMessage());
    }

    @Test
    void unaryMath() {
        Tensor x = Tensor.of(-2, -0.5f, 0, 0.5f, 2);
        float[] v = x.toArray();
        float[] tanh = x.tanh().toArray();
        float[] sig = x.sigmoid().toArray();
        float[] relu = x.relu().toArray();
        for (int i = 0; i < v.length; i++) {
            assertEquals(Math.tanh(v[i]), tanh[i], 1e-6);
            assertEquals(1 / (1 + Math.exp(-v[i])), sig[i], 1e-6);
            assertEquals(Math.max(0, v[i]), relu[i], 0);
        }
        assertArrayEquals(new float[] {1, 2, 3}, Tensor.of(1, 4, 9).sqrt().toArray(), 1e-6f);
        assertArrayEquals(new float[] {0, 1}, Tensor.of(1, (float) Math.E).log().toArray(), 1e-6f);
        assertArrayEquals(new float[] {2, 0.5f}, Tensor.of(-2, 0.5f).abs().toArray());
    }

    @Test
    void matmulMatchesNaive() {
        for (int[] mnk : new int[][] {{1, 1, 1}, {3, 5, 4}, {7, 2, 9}, {1, 8, 3}}) {
            int m = mnk[0];
            int n = mnk[1];
            int k = mnk[2];
            Tensor a = Tensor.randn(gen, m, k);
            Tensor b = Tensor.randn(gen, k, n);
            float[] expect = naive(a.toArray(), b.toArray(), m, n, k);
            assertClose(a.matmul(b).toArray(), expect, new int[] {m, n}, 1e-5, 1e-5, "matmul");
            // transposed operands are used in place
            Tensor at = Tensor.randn(gen, k, m).t();
            Tensor bt = Tensor.randn(gen, n, k).t();
            assertClose(at.matmul(bt).toArray(), naive(at.contiguous().toArray(), bt.contiguous().toArray(), m, n, k),
                    new int[] {m, n}, 1e-5, 1e-5, "matmul transposed");
        }
        // batched with broadcast batch dims
        Tensor a = Tensor.randn(gen, 2, 1, 3, 4);
        Tensor b = Tensor.randn(gen, 5, 4, 2);
        Tensor c = a.matmul(b);
        assertArrayEquals(new int[] {2, 5, 3, 2}, c.shape());
        Tensor expect = a.select(0, 1).select(0, 0).matmul(b.select(0, 3));
        assertClose(c.select(0, 1).select(0, 3), expect, 1e-5, 1e-5, "batched");
        // vector cases
        Tensor v = Tensor.of(1, 2, 3);
        assertEquals(14f, v.matmul(v).item(), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).matmul(Tensor.zeros(2, 3)));
    }

    private static float[] naive(float[] a, float[] b, int m, int n, int k) {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int q = 0; q < k; q++) {
                    s += (double) a[i * k + q] * b[q * n + j];
                }
                c[i * n + j] = (float) s;
            }
        }
        return c;
    }

    @Test
    void reductionsAndSoftmax() {
        Tensor a = Tensor.of(new float[][] {{1, 5, 3}, {4, 2, 6}});
        assertEquals(21f, a.sum().item());
        assertArrayEquals(new float[] {5, 7, 9}, a.sum(0, false).toArray());
        assertArrayEquals(new int[] {2, 1}, a.sum(1, true).shape());
        assertArrayEquals(new float[] {3, 4}, a.mean(1, false).toArray());
        assertArrayEquals(new float[] {5, 6}, a.max(1, false).toArray());
        assertArrayEquals(new float[] {1, 2}, a.argmax(1, false).toArray());
        assertArrayEquals(new float[] {1, 2, 3}, a.min(0, false).toArray());
        float[] sm = a.softmax(1).toArray();
        double z = Math.exp(1) + Math.exp(5) + Math.exp(3);
        assertEquals(Math.exp(5) / z, sm[1], 1e-6);
        float[] lsm = a.logSoftmax(1).toArray();
        assertEquals(5 - Math.log(z), lsm[1], 1e-5);
        assertEquals(6f, a.max().item());
    }

    @Test
    void concatStackIndexing() {
        Tensor a = Tensor.of(new float[][] {{1, 2}, {3, 4}});
        Tensor b = Tensor.of(new float[][] {{5, 6}});
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Tensor.concat(List.of(a, b), 0).toArray());
        assertArrayEquals(new int[] {2, 2, 2}, Tensor.stack(List.of(a, a), 1).shape());
        // stack along dim 1: result[i][k] = tensors[k][i]
        assertArrayEquals(new float[] {1, 2, 1, 2, 3, 4, 3, 4}, Tensor.stack(List.of(a, a), 1).toArray());
        assertArrayEquals(new float[] {3, 4, 1, 2, 3, 4}, a.indexSelect(0, new int[] {1, 0, 1}).toArray());
        assertArrayEquals(new float[] {2, 1, 4, 4}, a.gather(1, Tensor.of(new float[][] {{1, 0}, {1, 1}})).toArray());
        assertThrows(IndexOutOfBoundsException.class, () -> a.indexSelect(0, new int[] {2}));
        assertThrows(IndexOutOfBoundsException.class, () -> a.gather(1, Tensor.of(new float[][] {{2, 0}, {0, 0}})));
    }

    @Test
    void errorsNameTheOperationAndValues() {
        Tensor t = Tensor.zeros(2, 3);
        IndexOutOfBoundsException dim = assertThrows(IndexOutOfBoundsException.class, () -> t.sum(2, false));
        assertTrue(dim.getMessage().contains("sum") && dim.getMessage().contains("dim 2"), dim.getMessage());
        IllegalArgumentException rs = assertThrows(IllegalArgumentException.class, () -> t.reshape(4, 2));
        assertTrue(rs.getMessage().contains("[4, 2]") && rs.getMessage().contains("6"), rs.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> Tensor.fromArray(new float[3], 2, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(1, 2, 2));
        assertThrows(IllegalArgumentException.class, () -> t.view(3, 3));
        assertThrows(IllegalArgumentException.class, () -> t.t().view(6));
        assertThrows(IllegalArgumentException.class, () -> t.expand(2, 4));
    }

    @Test
    void useAfterCloseIsIllegalState() {
        Tensor t = Tensor.ones(3);
        Tensor v = t.reshape(3, 1);
        t.close();
        // the view keeps the storage alive
        assertArrayEquals(new float[] {1, 1, 1}, v.toArray());
        v.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, t::toArray);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> t.add(1));
        assertThrows(IllegalStateException.class, () -> Tensor.ones(3).add(t));
        assertThrows(IllegalStateException.class, () -> Tensor.ones(1, 3).matmul(t));
        t.close();
    }

    @Test
    void scopeFreesAllButKept() {
        long before = Memory.bytesInUse();
        Tensor kept;
        try (Scope scope = Scope.open()) {
            Tensor a = Tensor.randn(gen, 10, 10);
            Tensor b = a.matmul(a).tanh();
            kept = scope.keep(b.sum());
            assertTrue(Memory.bytesInUse() > before);
        }
        assertFalse(kept.isClosed());
        assertEquals(1, kept.numel());
        kept.close();
        assertEquals(before, Memory.bytesInUse());
    }

    @Test
    void nestedScopeKeepMovesToParent() {
        long before = Memory.bytesInUse();
        Tensor inner;
        try (Scope outer = Scope.open()) {
            try (Scope s = Scope.open()) {
                inner = s.keep(Tensor.ones(4));
            }
            assertFalse(inner.isClosed());
        }
        assertTrue(inner.isClosed());
        assertEquals(before, Memory.bytesInUse());
    }

    @Test
    void hundredThousandTensorsInScopesLeaveNoMemory() {
        long before = org.rnn4j.testing.MemoryProbe.settle();
        Tensor a = Tensor.randn(gen, 4, 4);
        for (int i = 0; i < 1000; i++) {
            try (Scope s = Scope.open()) {
                for (int j = 0; j < 100; j++) {
                    a.mul(2f).add(a).tanh();
                }
            }
        }
        a.close();
        assertEquals(before, Memory.bytesInUse());
    }
}
