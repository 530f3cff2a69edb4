package org.rnn4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNBase;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;

class AutogradTest {
    private final Generator gen = new Generator(11);
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private Tensor rnd(int... shape) {
        return Tensor.randn(gen, shape);
    }

    @Test
    void elementwiseAndBroadcasting() {
        GradCheck.check("add/mul/div broadcast", in -> in.get(0).mul(in.get(1)).add(in.get(0).div(in.get(1).square().add(1)))
                .sum(), List.of(rnd(3, 4), rnd(4)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("tanh/sigmoid/exp", in -> in.get(0).tanh().mul(in.get(0).sigmoid()).add(in.get(0).mul(0.3f).exp()).sum(),
                List.of(rnd(2, 5)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("log/sqrt/pow", in -> in.get(0).square().add(0.5f).log().add(in.get(0).square().add(1).sqrt())
                .add(in.get(0).pow(3)).sum(), List.of(rnd(6)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("sub/neg/rsub/clamp", in -> in.get(0).sub(in.get(1)).neg().rsub(2f).clamp(-1f, 1.5f).mul(in.get(1)).sum(),
                List.of(rnd(3, 1), rnd(1, 3)), 1e-3, 1e-2, 1e-3);
    }

    @Test
    void reductionsSoftmaxMatmul() {
        GradCheck.check("sum/mean dims", in -> in.get(0).sum(1, false).mul(in.get(0).mean(0, true).sum()).sum(),
                List.of(rnd(3, 4)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("max", in -> in.get(0).max(1, false).sum(), List.of(rnd(3, 5)), 1e-3, 1e-2, 1e-3);
        GradCheck.check("softmax", in -> in.get(0).softmax(1).mul(in.get(1)).sum(), List.of(rnd(2, 5), rnd(2, 5)),
                1e-2, 1e-2, 1e-3);
        GradCheck.check("log_softmax", in -> in.get(0).logSoftmax(0).mul(in.get(1)).sum(), List.of(rnd(4, 3), rnd(4, 3)),
                1e-2, 1e-2, 1e-3);
        GradCheck.check("matmul batched broadcast", in -> in.get(0).matmul(in.get(1)).tanh().sum(),
                List.of(rnd(2, 3, 4), rnd(4, 2)), 1e-2, 1e-2, 1e-3);
    }

    @Test
    void viewsAndIndexing() {
        GradCheck.check("transpose/permute/narrow/select", in -> in.get(0).permute(2, 0, 1).narrow(0, 1, 2).select(2, 1)
                .transpose(0, 1).mul(in.get(0).reshape(4, 6).sum(0, false).narrow(0, 0, 1)).sum(),
                List.of(rnd(2, 3, 4)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("concat/stack/expand", in -> org.rnn4j.Tensor.concat(List.of(in.get(0), in.get(1).expand(2, 3)), 0)
                .mul(org.rnn4j.Tensor.stack(List.of(in.get(0), in.get(0), in.get(0).neg(), in.get(0)), 0).reshape(4, 2, 3)
                        .sum(1, false)).sum(), List.of(rnd(2, 3), rnd(1, 3)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("indexSelect/gather", in -> in.get(0).indexSelect(0, new int[] {2, 0, 2}).mul(
                in.get(0).gather(1, Tensor.of(new float[][] {{1, 0}, {2, 2}, {0, 1}}))
                        .sum(1, true)).sum(), List.of(rnd(3, 3)), 1e-2, 1e-2, 1e-3);
        GradCheck.check("where/maximum", in -> Tensor.where(in.get(0).gt(0f), in.get(0).mul(2f), in.get(1))
                .add(in.get(0).maximum(in.get(1))).sum(), List.of(rnd(5), rnd(5)), 1e-3, 1e-2, 1e-3);
    }

    /** Finite differences through every recurrent layer kind, packed and bidirectional, on small sizes. */
    @Test
    void recurrentLayersMatchFiniteDifferences() {
        for (String kind : new String[] {"rnn", "lstm", "lstm_proj", "gru"}) {
            RNNBase m = switch (kind) {
                case "rnn" -> RNN.builder().inputSize(2).hiddenSize(3).numLayers(2).bidirectional(true).build();
                case "lstm" -> LSTM.builder().inputSize(2).hiddenSize(3).bidirectional(true).build();
                case "lstm_proj" -> LSTM.builder().inputSize(2).hiddenSize(3).projSize(2).numLayers(2).build();
                default -> GRU.builder().inputSize(2).hiddenSize(3).bidirectional(true).build();
            };
            try (m) {
                Tensor w = rnd(4, 3, 2 * m.outputSize() * m.directions() / (m.bidirectional() ? 2 : 1));
                List<Tensor> params = m.parameters();
                Tensor x = rnd(4, 3, 2);
                int[] lengths = {4, 1, 3};
                List<Tensor> inputs = new java.util.ArrayList<>();
                inputs.add(x);
                inputs.add(params.get(0));
                inputs.add(params.get(1));
                GradCheck.check(kind + " packed", in -> {
                    PackedSequence p = RnnUtils.packPaddedSequence(in.get(0), lengths, false, false);
                    Tensor out = m instanceof LSTM l ? l.forward(p).output().data()
                            : m instanceof GRU g ? g.forward(p).output().data() : ((RNN) m).forward(p).output().data();
                    Tensor padded = RnnUtils.padPackedSequence(p.withData(out), false, 0f, null).padded();
                    return padded.mul(w.narrow(2, 0, padded.size(2))).sum();
                }, inputs, 1e-2, 2e-2, 2e-3);
            }
        }
    }

    @Test
    void accumulationDetachNoGradAndSecondBackward() {
        Tensor x = rnd(3).requiresGrad(true);
        x.mul(2f).sum().backward();
        x.mul(3f).sum().backward();
        assertArrayEquals(new float[] {5, 5, 5}, x.grad().toArray());
        x.zeroGrad();
        assertNull(x.grad());

        Tensor d = x.mul(2f).detach();
        assertFalse(d.requiresGrad());
        try (GradMode.Guard g = GradMode.noGrad()) {
            assertFalse(x.mul(2f).requiresGrad());
        }
        Tensor y = x.tanh().sum();
        y.backward();
        IllegalStateException again = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(again.getMessage().contains("second time"), again.getMessage());

        Tensor z = x.mul(x).sum();
        z.backward(Tensor.scalar(1f), true);
        z.backward(Tensor.scalar(1f), true);
        assertEquals(4 * x.get(0) + (1 - Math.pow(Math.tanh(x.get(0)), 2)), x.grad().get(0), 1e-5);
        assertThrows(IllegalArgumentException.class, () -> x.mul(2f).backward());
        assertThrows(IllegalStateException.class, () -> x.fill(1f));
    }
}
