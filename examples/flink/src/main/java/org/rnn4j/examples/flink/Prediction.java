package org.rnn4j.examples.flink;

import java.util.Arrays;

/** The model's output for one event: key, seq and the output floats. A Flink POJO. */
public class Prediction {
    public String key;
    public long seq;
    public float[] y;

    public Prediction() {
    }

    public Prediction(String key, long seq, float[] y) {
        this.key = key;
        this.seq = seq;
        this.y = y;
    }

    @Override
    public String toString() {
        return key + "#" + seq + " " + Arrays.toString(y);
    }
}
