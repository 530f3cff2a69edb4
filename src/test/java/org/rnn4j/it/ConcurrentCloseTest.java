package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Module;

/**
 * Closing a tensor from another thread while a kernel computes on it never frees memory under
 * the kernel: each call pins its storages, so the forward (or backward) either fails with
 * IllegalStateException (the tensor was closed before the call took it) or returns exactly the
 * result computed from the intact memory. Inputs, states and module weights are closed at random
 * moments during forward and backward; a JVM crash would fail the whole fork. Afterwards every
 * byte is returned.
 */
class ConcurrentCloseTest {
    private static final int ROUNDS = Integer.getInteger("rnn4j.closeRounds", 30);

    @TestFactory
    Stream<DynamicTest> closingDuringACallIsAnExceptionOrACorrectResult() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            for (String victim : new String[] {"input", "state", "weights", "module"}) {
                for (boolean train : new boolean[] {false, true}) {
                    tests.add(DynamicTest.dynamicTest(b.name() + ": close " + victim + (train ? " during backward" : " during forward"),
                            () -> run(b, victim, train)));
                }
            }
        }
        return tests.stream();
    }

    private static LSTM model(long seed) {
        return LSTM.builder().inputSize(16).hiddenSize(48).numLayers(2).generator(new Generator(seed)).build();
    }

    private static float[] expected(Backend backend, boolean train) {
        try (Backends.Override o = Backends.use(backend); Scope s = Scope.open(); LSTM m = model(3)) {
            Tensor x = Tensor.randn(new Generator(11), 40, 4, 16);
            Tensor h0 = Tensor.randn(new Generator(12), 2, 4, 48);
            Tensor c0 = Tensor.randn(new Generator(13), 2, 4, 48);
            if (!train) {
                try (GradMode.Guard g = GradMode.noGrad()) {
                    return m.forward(x, h0, c0).output().toArray();
                }
            }
            m.forward(x, h0, c0).output().sum().backward();
            return m.parameters().get(0).grad().toArray();
        }
    }

    private void run(Backend backend, String victim, boolean train) throws Exception {
        float[] want = expected(backend, train);
        long before = settled();
        Random rnd = new Random(victim.hashCode() * 31L + (train ? 1 : 0));
        int ok = 0;
        int refused = 0;
        for (int round = 0; round < ROUNDS; round++) {
            try (Backends.Override o = Backends.use(backend)) {
                LSTM m = model(3);
                Tensor x = Tensor.randn(new Generator(11), 40, 4, 16);
                Tensor h0 = Tensor.randn(new Generator(12), 2, 4, 48);
                Tensor c0 = Tensor.randn(new Generator(13), 2, 4, 48);
                List<AutoCloseable> targets = switch (victim) {
                    case "input" -> List.of(x);
                    case "state" -> List.of(h0, c0);
                    case "weights" -> new ArrayList<>(m.parameters());
                    default -> List.of(m);
                };
                CountDownLatch go = new CountDownLatch(1);
                long delayNanos = rnd.nextInt(3_000_000);
                Thread closer = new Thread(() -> {
                    try {
                        go.await();
                        LockSupport.parkNanos(delayNanos);
                        for (AutoCloseable c : targets) {
                            c.close();
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                closer.start();
                float[] got = null;
                try (Scope s = Scope.open()) {
                    go.countDown();
                    if (train) {
                        m.forward(x, h0, c0).output().sum().backward();
                        Tensor p0 = m.parameters().get(0);
                        Tensor grad = p0.grad();
                        if (grad == null) {  // the module was closed after the backward, its gradients with it
                            throw new IllegalStateException("parameter closed after the backward");
                        }
                        got = grad.toArray();
                    } else {
                        try (GradMode.Guard g = GradMode.noGrad()) {
                            got = m.forward(x, h0, c0).output().toArray();
                        }
                    }
                } catch (IllegalStateException e) {
                    assertTrue(e.getMessage() != null && e.getMessage().contains("closed") || e.getMessage().contains("freed"),
                            "the refusal says what was closed: " + e.getMessage());
                    refused++;
                }
                closer.join();
                if (got != null) {
                    for (int i = 0; i < want.length; i++) {
                        if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                            fail(victim + " round " + round + ": a result computed while its memory was closed differs at "
                                    + i + ": " + got[i] + " vs " + want[i]);
                        }
                    }
                    ok++;
                }
                m.close();
                x.close();
                h0.close();
                c0.close();
            }
        }
        assertEquals(ROUNDS, ok + refused);
        assertEquals(before, settled(), "every storage freed once its last holder let go");
    }

    /**
     * Memory in use once garbage that earlier tests left to the Cleaner is gone (it would
     * otherwise be freed at a random moment in between and shift the count).
     */
    private static long settled() throws InterruptedException {
        long last = -1;
        for (int i = 0; i < 50; i++) {
            System.gc();
            Thread.sleep(10);
            long now = Memory.bytesInUse();
            if (now == last) {
                return now;
            }
            last = now;
        }
        return last;
    }
}
