package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
            long start = Memory.bytesInUse();
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
                        assertEquals(afterFirst, Memory.bytesInUse(), "native bytes in use after step " + step);
                    }
                }
            } finally {
                opt.close();
                gru.close();
                head.close();
            }
            assertEquals(start, Memory.bytesInUse(), "everything freed after closing the model and optimizer");
        }
    }
}
