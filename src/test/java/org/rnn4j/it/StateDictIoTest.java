package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.io.StateDict;
import org.rnn4j.io.TorchFiles;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.PackedRnnOutput;
import org.rnn4j.nn.rnn.PackedSequence;
import org.rnn4j.nn.rnn.RnnUtils;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.io.SafeTensors;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.testing.FixtureFile;

/**
 * PyTorch state dicts, in safetensors and as torch.save zip files written by Debian's PyTorch,
 * load by name into rnn4j modules and reproduce PyTorch's outputs (on every CPU backend).
 */
class StateDictIoTest {

    private static Map<String, Tensor> loadResource(String name, Path dir) throws Exception {
        Path p = dir.resolve("weights.safetensors");
        try (InputStream in = StateDictIoTest.class.getResourceAsStream("/fixtures/" + name)) {
            Files.copy(in, p);
        }
        return SafeTensors.load(p);
    }

    @Test
    void pytorchLstmStateDictLoadsByNameAndMatchesOutputs(@TempDir Path dir) throws Exception {
        try (Scope scope = Scope.open(); FixtureFile io = FixtureFile.resource("io/lstm_state_dict_io.safetensors")) {
            Map<String, Tensor> state = loadResource("io/lstm_state_dict.safetensors", dir);
            LSTM lstm = LSTM.builder().inputSize(5).hiddenSize(7).numLayers(2).bidirectional(true).build();
            try {
                assertEquals(lstm.stateDict().keySet(), state.keySet());
                lstm.loadStateDict(state);
                RnnOutput r = lstm.forward(io.get("input"));
                assertClose(r.output(), io.get("output"), 1e-5, 1e-5, "output");
                assertClose(r.hN(), io.get("h_n"), 1e-5, 1e-5, "h_n");
                assertClose(r.cN(), io.get("c_n"), 1e-5, 1e-5, "c_n");

                // and back: what rnn4j writes loads into a fresh module with identical results
                Path out = dir.resolve("rnn4j.safetensors");
                SafeTensors.save(out, lstm.stateDict(), Map.of("format", "pt"));
                LSTM copy = LSTM.builder().inputSize(5).hiddenSize(7).numLayers(2).bidirectional(true)
                        .generator(new Generator(99)).build();
                try {
                    copy.loadStateDict(SafeTensors.load(out));
                    assertArrayEquals(r.output().toArray(), copy.forward(io.get("input")).output().toArray());
                } finally {
                    copy.close();
                }
            } finally {
                lstm.close();
                state.values().forEach(Tensor::close);
            }
        }
    }

    private static Path copyResource(String name, Path dir) throws Exception {
        Path p = dir.resolve(name.replace('/', '_'));
        try (InputStream in = StateDictIoTest.class.getResourceAsStream("/fixtures/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** torch.save(nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=True).state_dict()) loaded from the .pt. */
    @Test
    void torchSaveLstmWithProjectionReproducesPyTorch(@TempDir Path dir) throws Exception {
        Path pt = copyResource("torch/lstm_proj.pt", dir);
        for (Backend b : CpuBackends.available()) {
            try (Backends.Override o = Backends.use(b); Scope scope = Scope.open();
                    FixtureFile io = FixtureFile.resource("torch/lstm_proj_io.safetensors");
                    LSTM lstm = LSTM.builder().inputSize(4).hiddenSize(6).numLayers(2).projSize(3).bidirectional(true)
                            .generator(new Generator(5)).build()) {
                lstm.loadStateDict(pt); // sniffs the zip, strict
                RnnOutput r = lstm.forward(io.get("input"), io.get("h0"), io.get("c0"));
                assertClose(r.output(), io.get("output"), 1e-5, 1e-5, b.name() + " output");
                assertClose(r.hN(), io.get("h_n"), 1e-5, 1e-5, b.name() + " h_n");
                assertClose(r.cN(), io.get("c_n"), 1e-5, 1e-5, b.name() + " c_n");
                // the same weights through the plain map API
                Map<String, Tensor> map = TorchFiles.load(pt);
                assertEquals(lstm.stateDict().keySet(), map.keySet());
                for (String k : map.keySet()) {
                    assertArrayEquals(map.get(k).toArray(), lstm.stateDict().get(k).toArray(), k);
                }
            }
        }
    }

    /** One torch.save file with a GRU's weights, its padded input and int64 lengths; packed forward as PyTorch. */
    @Test
    void torchSaveGruWithInt64LengthsRunsPackedLikePyTorch(@TempDir Path dir) throws Exception {
        Path pt = copyResource("torch/gru_packed.pt", dir);
        for (Backend b : CpuBackends.available()) {
            try (Backends.Override o = Backends.use(b); Scope scope = Scope.open();
                    FixtureFile io = FixtureFile.resource("torch/gru_packed_io.safetensors");
                    StateDict sd = StateDict.read(pt);
                    GRU gru = GRU.builder().inputSize(5).hiddenSize(4).numLayers(2).batchFirst(true)
                            .generator(new Generator(6)).build()) {
                assertEquals(org.rnn4j.io.DType.I64, sd.dtype("lengths"));
                gru.loadStateDict(sd, false); // 'input' and 'lengths' are not parameters
                int[] lengths = sd.ints("lengths");
                assertArrayEquals(new int[] {4, 6, 2}, lengths);
                PackedSequence packed = RnnUtils.packPaddedSequence(sd.tensor("input"), lengths, true, false);
                PackedRnnOutput r = gru.forward(packed);
                Tensor out = RnnUtils.padPackedSequence(r.output(), true, 0f, null).padded();
                assertClose(out, io.get("output"), 1e-5, 1e-5, b.name() + " output");
                assertClose(r.hN(), io.get("h_n"), 1e-5, 1e-5, b.name() + " h_n");
            }
        }
    }
}
