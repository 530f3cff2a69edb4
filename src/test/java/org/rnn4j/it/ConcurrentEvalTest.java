package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.rnn.RnnUtils;

/**
 * Modules in eval mode called from 4 threads at once give exactly the serial results, on every
 * CPU backend: padded and packed batches, bidirectional (two native threads per call) and
 * single-row steps (the native step worker).
 */
class ConcurrentEvalTest {

    @TestFactory
    Stream<DynamicTest> fourThreadsEqualSerial() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            tests.add(DynamicTest.dynamicTest(b.name() + ": bidirectional LSTM, packed and padded",
                    () -> run(b, LSTM.builder().inputSize(8).hiddenSize(40).numLayers(2).bidirectional(true)
                            .generator(new Generator(1)).build(), 3)));
            tests.add(DynamicTest.dynamicTest(b.name() + ": GRU, one row (step worker)",
                    () -> run(b, GRU.builder().inputSize(64).hiddenSize(128).generator(new Generator(2)).build(), 1)));
        }
        return tests.stream();
    }

    private static float[] forward(RNNBase m, Tensor x, int[] lengths) {
        try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            if (lengths == null) {
                return m.forward(x).output().toArray();
            }
            var p = RnnUtils.packPaddedSequence(x, lengths, false, false);
            return m.forward(p).state().h().toArray();
        }
    }

    private void run(Backend backend, RNNBase module, int batch) throws Exception {
        try (Backends.Override o = Backends.use(backend); Scope scope = Scope.open()) {
            module.eval();
            Generator gen = new Generator(7);
            List<Tensor> inputs = new ArrayList<>();
            List<int[]> lengths = new ArrayList<>();
            List<float[]> serial = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Tensor x = Tensor.randn(gen, 5, batch, module.inputSize());
                int[] len = batch > 1 && i % 2 == 1 ? new int[] {2, 5, 1} : null;
                inputs.add(x);
                lengths.add(len);
                serial.add(forward(module, x, len));
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> futures = new ArrayList<>();
                for (int rep = 0; rep < 8; rep++) {
                    for (int i = 0; i < inputs.size(); i++) {
                        Tensor x = inputs.get(i);
                        int[] len = lengths.get(i);
                        futures.add(pool.submit(() -> {
                            try (Backends.Override inner = Backends.use(backend)) {
                                return forward(module, x, len);
                            }
                        }));
                    }
                }
                for (int k = 0; k < futures.size(); k++) {
                    assertArrayEquals(serial.get(k % inputs.size()), futures.get(k).get(), "call " + k);
                }
            } finally {
                pool.shutdown();
                module.close();
            }
        }
    }
}
