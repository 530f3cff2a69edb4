package org.rnn4j.examples.charlm;

import java.util.LinkedHashMap;
import java.util.Map;
import org.rnn4j.io.Checkpoint;

/** The model's shape, which a checkpoint must record to rebuild the model before loading weights. */
public record Hyper(String model, int vocab, int embedding, int hidden, int layers, float dropout) {

    public Hyper {
        if (!model.equals("rnn") && !model.equals("lstm") && !model.equals("gru")) {
            throw new IllegalArgumentException("--model must be rnn, lstm or gru, got '" + model + "'");
        }
        if (vocab < 2 || embedding < 0 || hidden < 1 || layers < 1 || dropout < 0 || dropout >= 1) {
            throw new IllegalArgumentException("invalid model shape: " + this);
        }
    }

    Map<String, String> toInfo() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("vocab_size", Integer.toString(vocab));
        m.put("embedding", Integer.toString(embedding));
        m.put("hidden", Integer.toString(hidden));
        m.put("layers", Integer.toString(layers));
        m.put("dropout", Float.toString(dropout));
        return m;
    }

    static Hyper fromInfo(Map<String, Object> info) {
        return new Hyper(Checkpoint.string(info, "model"), Integer.parseInt(Checkpoint.string(info, "vocab_size")),
                Integer.parseInt(Checkpoint.string(info, "embedding")), Integer.parseInt(Checkpoint.string(info, "hidden")),
                Integer.parseInt(Checkpoint.string(info, "layers")), Float.parseFloat(Checkpoint.string(info, "dropout")));
    }
}
