package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.loss.Losses;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.GradClip;
import org.rnn4j.testing.MemoryProbe;

/** 10^4 training steps hold native memory flat after the first step: nothing grows per step. */
class TrainingMemoryTest {

    @TestFactory
    Stream<DynamicTest> flatOverTenThousandSteps() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Backend b : CpuBackends.available()) {
            tests.add(DynamicTest.dynamicTest(b.name(), () -> run(b)));
        }
        return tests.stream();
    }

    private void run(Backend backend) {
        try (Backends.Override o = Backends.use(backend)) {
            Generator gen = new Generator(5);
            long start = MemoryProbe.settle();
            GRU gru = GRU.builder().inputSize(3).hiddenSize(8).numLayers(2).bidirectional(true).generator(gen).build();
            Linear head = new Linear(16, 3, true, gen);
            List<Tensor> params = new ArrayList<>(gru.parameters());
            params.addAll(head.parameters());
            Adam opt = Adam.builder(params).lr(1e-3).build();
            Tensor x;
            long afterFirst = -1;
            try (Scope data = Scope.open()) {
                x = Tensor.randn(gen, 5, 2, 3);
                int[] targets = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
                for (int step = 0; step < 10_000; step++) {
                    try (Scope s = Scope.open()) {
                        opt.zeroGrad();
                        RnnOutput r = gru.forward(x);
                        Tensor logits = head.forward(r.output().reshape(10, 16));
                        Tensor loss = Losses.crossEntropy(logits, targets);
                        loss.backward();
                        GradClip.clipGradNorm(params, 1.0);
                        opt.step();
                    }
                    if (step == 0) {
                        afterFirst = Memory.bytesInUse();
                    } else {
                        // the GC may still free garbage of other tests (only ever lowering the count): growth is the leak
                        long now = Memory.bytesInUse();
                        assertTrue(now <= afterFirst, "native bytes in use grew to " + now + " after step " + step
                                + " from " + afterFirst + " after the first step");
                    }
                }
            } finally {
                opt.close();
                gru.close();
                head.close();
            }
            long end = Memory.bytesInUse();
            assertTrue(end <= start, "after closing the model and optimizer " + end + " bytes in use, " + start + " before");
        }
    }
}
