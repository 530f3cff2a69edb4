package org.rnn4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

class ModulesTest {
    private final Generator gen = new Generator(17);
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    @Test
    void linearIsXWtPlusB() {
        try (Linear lin = new Linear(4, 3, true, gen)) {
            Tensor x = Tensor.randn(gen, 2, 5, 4);
            Tensor expected = x.matmul(lin.weight().t()).add(lin.bias());
            assertClose(lin.forward(x), expected, 1e-6, 1e-6, "linear");
            assertEquals(List.of("weight", "bias"), new ArrayList<>(lin.namedParameters().keySet()));
            assertThrows(IllegalArgumentException.class, () -> lin.forward(Tensor.zeros(2, 5)));
        }
    }

    @Test
    void embeddingPaddingRowIsZeroAndGetsNoGradient() {
        try (Embedding emb = new Embedding(5, 3, 1, gen)) {
            assertArrayEquals(new float[] {0, 0, 0}, emb.weight().select(0, 1).toArray());
            Tensor out = emb.forward(new int[] {0, 1, 4, 1}, 2, 2);
            assertArrayEquals(new int[] {2, 2, 3}, out.shape());
            assertArrayEquals(emb.weight().select(0, 4).toArray(), out.select(0, 1).select(0, 0).toArray());
            out.mul(Tensor.randn(gen, 2, 2, 3)).sum().backward();
            assertArrayEquals(new float[] {0, 0, 0}, emb.weight().grad().select(0, 1).toArray());
            assertTrue(emb.weight().grad().select(0, 0).abs().sum().item() > 0);
            assertArrayEquals(new float[] {0, 0, 0}, emb.weight().grad().select(0, 2).toArray());
            assertThrows(IndexOutOfBoundsException.class, () -> emb.forward(new int[] {5}, 1));
            assertThrows(IllegalArgumentException.class, () -> new Embedding(5, 3, 5, gen));
        }
    }

    @Test
    void embeddingDefaultHasNoPaddingRow() {
        // torch.nn.Embedding(4, 2).padding_idx is None: every row is N(0, 1) and gets a gradient
        try (Embedding emb = new Embedding(4, 2)) {
            assertEquals("Embedding(4, 2)", emb.toString());
            assertTrue(emb.weight().select(0, 3).abs().sum().item() > 0, "last row must not be zeroed");
            emb.forward(new int[] {0, 3}, 2).sum().backward();
            assertArrayEquals(new float[] {1, 1}, emb.weight().grad().select(0, 3).toArray());
        }
    }

    @Test
    void embeddingNegativePaddingIdxReturnsLoadedRowButNoGradient() {
        // e = nn.Embedding(5, 3, padding_idx=-4) -> padding_idx 1; with e.weight[1] = [1, 2, 3]:
        // e([[0, 1], [4, 1]])[:, 1] == [1, 2, 3] (the row as it is), and after .sum().backward()
        // e.weight.grad == [[1,1,1], [0,0,0], [0,0,0], [0,0,0], [1,1,1]]
        try (Embedding emb = new Embedding(5, 3, -4, gen)) {
            assertEquals("Embedding(5, 3, padding_idx=1)", emb.toString());
            try (GradMode.Guard g = GradMode.noGrad()) {
                emb.weight().select(0, 1).copyFrom(Tensor.of(1, 2, 3));
            }
            Tensor out = emb.forward(new int[] {0, 1, 4, 1}, 2, 2);
            assertArrayEquals(new float[] {1, 2, 3}, out.select(0, 0).select(0, 1).toArray());
            assertArrayEquals(new float[] {1, 2, 3}, out.select(0, 1).select(0, 1).toArray());
            out.sum().backward();
            assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, emb.weight().grad().toArray());
        }
    }

    @Test
    void sequentialNamesChildrenLikePyTorch() {
        try (Sequential seq = new Sequential(new Linear(3, 4, true, gen), new Dropout(0.5f), new Linear(4, 2, true, gen))) {
            assertEquals(List.of("0.weight", "0.bias", "2.weight", "2.bias"), new ArrayList<>(seq.namedParameters().keySet()));
            seq.eval();
            Tensor x = Tensor.randn(gen, 7, 3);
            assertArrayEquals(seq.forward(x).toArray(), seq.forward(x).toArray());
        }
    }

    @Test
    void dropoutKeepsExpectationAndZeroesAboutP() {
        Tensor x = Tensor.ones(100_000);
        Tensor y = Dropout.dropout(x, 0.3f, true, gen);
        float[] v = y.toArray();
        int zeros = 0;
        for (float f : v) {
            zeros += f == 0f ? 1 : 0;
            assertTrue(f == 0f || Math.abs(f - 1 / 0.7f) < 1e-6, "value " + f);
        }
        assertEquals(0.3, zeros / 100_000.0, 0.01);
        assertEquals(1.0, y.mean().item(), 0.02);
        assertThrows(IllegalArgumentException.class, () -> new Dropout(-0.1f));
        assertArrayEquals(x.toArray(), Dropout.dropout(x, 0.3f, false, gen).toArray());
    }
}
