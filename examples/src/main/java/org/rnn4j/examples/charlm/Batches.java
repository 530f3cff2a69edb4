package org.rnn4j.examples.charlm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * d2l's two minibatch samplers over a token sequence, giving (T, B) time-major batches.
 * Both start from a random offset in [0, T] each epoch so that every epoch sees other splits.
 * <ul>
 *   <li>sequential: the corpus is cut into B parallel streams; batch i holds steps
 *       [i*T, (i+1)*T) of every stream, so row b of batch i+1 continues row b of batch i and the
 *       hidden state can be carried across batches (truncated BPTT);</li>
 *   <li>random: subsequences of length T in shuffled order; each batch starts from zero state.</li>
 * </ul>
 */
public final class Batches {
    /** One batch: inputs and next-character targets, both (T, B) time-major. */
    public record Batch(int[] x, int[] y) {
    }

    private Batches() {
    }

    public static List<Batch> sequential(int[] corpus, int batch, int steps, Random rnd) {
        int offset = rnd.nextInt(steps + 1);
        int numTokens = (corpus.length - offset - 1) / batch * batch;
        int streamLength = numTokens / batch;
        int numBatches = streamLength / steps;
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < numBatches; i++) {
            int[] x = new int[steps * batch];
            int[] y = new int[steps * batch];
            for (int b = 0; b < batch; b++) {
                int base = offset + b * streamLength + i * steps;
                for (int t = 0; t < steps; t++) {
                    x[t * batch + b] = corpus[base + t];
                    y[t * batch + b] = corpus[base + t + 1];
                }
            }
            out.add(new Batch(x, y));
        }
        return out;
    }

    public static List<Batch> random(int[] corpus, int batch, int steps, Random rnd) {
        int offset = rnd.nextInt(steps);
        int numSubseqs = (corpus.length - offset - 1) / steps;
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < numSubseqs; i++) {
            starts.add(offset + i * steps);
        }
        Collections.shuffle(starts, rnd);
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i + batch <= numSubseqs; i += batch) {
            int[] x = new int[steps * batch];
            int[] y = new int[steps * batch];
            for (int b = 0; b < batch; b++) {
                int base = starts.get(i + b);
                for (int t = 0; t < steps; t++) {
                    x[t * batch + b] = corpus[base + t];
                    y[t * batch + b] = corpus[base + t + 1];
                }
            }
            out.add(new Batch(x, y));
        }
        return out;
    }
}
