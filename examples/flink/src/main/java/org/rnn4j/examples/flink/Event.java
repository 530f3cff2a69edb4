package org.rnn4j.examples.flink;

/** One input step of one stream: key, its position in the key's sequence, and the features. A Flink POJO. */
public class Event {
    public String key;
    public long seq;
    public float[] x;

    public Event() {
    }

    public Event(String key, long seq, float[] x) {
        this.key = key;
        this.seq = seq;
        this.x = x;
    }

    @Override
    public String toString() {
        return key + "#" + seq;
    }
}
