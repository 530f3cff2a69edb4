package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.loss.Losses;
import org.rnn4j.loss.Reduction;
import org.rnn4j.testing.FixtureFile;

/**
 * Cross entropy and NLL on degenerate inputs, against Debian's PyTorch 1.13
 * (fixtures/edge/loss, tools/gen_fixtures.py --only loss_edge), on every CPU backend: empty
 * batches ((0, C), (0, C, d), (N, C, 0)), zero classes, every target ignored. Mean over nothing
 * is NaN with a zero gradient, sum is 0, none is empty (or zeros for ignored rows). Where
 * PyTorch raises (a target out of range for zero classes: IndexError; the K-dimensional form
 * with zero classes and positions to score: RuntimeError) rnn4j throws
 * IndexOutOfBoundsException / IllegalArgumentException naming the argument, freeing what it made.
 */
class DegenerateLossFixtureTest {

    @TestFactory
    Stream<DynamicTest> degenerateShapesMatchPyTorch() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        List<String> files = RnnFixtureTest.fixtures("edge/loss");
        for (Backend b : CpuBackends.available()) {
            for (String rel : files) {
                tests.add(DynamicTest.dynamicTest(b.name() + ": " + rel, () -> check(b, rel)));
            }
        }
        return tests.stream();
    }

    private static void check(Backend backend, String rel) {
        try (Backends.Override o = Backends.use(backend); FixtureFile f = FixtureFile.resource(rel)) {
            boolean ce = f.meta("loss").equals("cross_entropy");
            Reduction red = Reduction.parse(f.meta("reduction"));
            int ignore = Integer.parseInt(f.meta("ignore_index"));
            int[] target = f.get("targets").toIntArray();
            String error = f.metaOrDefault("error", null);
            long before = Memory.bytesInUse();
            try (Scope s = Scope.open()) {
                Tensor logits = f.get("logits").to(backend.device()).copy().requiresGrad(true);
                if (error != null) {
                    Class<? extends RuntimeException> expected = error.equals("IndexError")
                            ? IndexOutOfBoundsException.class : IllegalArgumentException.class;
                    RuntimeException e = assertThrows(expected, () -> loss(ce, logits, target, red, ignore),
                            "PyTorch raised " + error + ": " + f.meta("error_message"));
                    assertTrue(e.getMessage().contains("target") || e.getMessage().contains("input"), e.getMessage());
                } else {
                    Tensor loss = loss(ce, logits, target, red, ignore);
                    int[] shape = parseShape(f.meta("loss_shape"));
                    assertArrayEquals(shape, loss.shape(), "loss shape");
                    float[] want = f.get("loss").toArray();
                    float[] got = loss.toArray();
                    assertEquals(want.length, got.length);
                    for (int i = 0; i < want.length; i++) {
                        if (Float.isNaN(want[i])) {
                            assertTrue(Float.isNaN(got[i]), "loss[" + i + "] = " + got[i] + ", PyTorch NaN");
                        } else {
                            assertEquals(want[i], got[i], 1e-5, "loss[" + i + "]");
                        }
                    }
                    if (red == Reduction.NONE) {
                        Tensor g = f.get("grad_loss").to(backend.device()).reshape(shape);
                        loss.backward(g);
                    } else {
                        loss.backward();
                    }
                    Tensor grad = logits.grad();
                    Tensor wantGrad = f.get("grad.logits");
                    assertArrayEquals(wantGrad.shape(), grad.shape(), "grad shape");
                    float[] gw = wantGrad.toArray();
                    float[] gg = grad.toArray();
                    for (int i = 0; i < gw.length; i++) {
                        assertEquals(gw[i], gg[i], 1e-5, "grad.logits[" + i + "]");
                    }
                    logits.zeroGrad();
                }
            }
            // at most: the GC's Cleaner may free an earlier test's garbage meanwhile, never add
            long after = Memory.bytesInUse();
            assertTrue(after <= before, (after - before) + " bytes still in use after the scope closed");
        }
    }

    private static Tensor loss(boolean ce, Tensor logits, int[] target, Reduction red, int ignore) {
        return ce ? Losses.crossEntropy(logits, target, red, ignore) : Losses.nllLoss(logits, target, red, ignore);
    }

    private static int[] parseShape(String s) {
        String body = s.replaceAll("[\\[\\]() ]", "");
        return body.isEmpty() ? new int[0] : Arrays.stream(body.split(",")).mapToInt(Integer::parseInt).toArray();
    }
}
