package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.rnn4j.testing.TensorAssert.assertClose;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.io.SafeTensors;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.RnnOutput;
import org.rnn4j.testing.FixtureFile;

/** A PyTorch nn.LSTM state_dict in safetensors loads by name and reproduces PyTorch's outputs. */
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
}
