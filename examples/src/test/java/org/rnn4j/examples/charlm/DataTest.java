package org.rnn4j.examples.charlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DataTest {
    @Test
    void d2lVocabularyHas28Tokens() {
        String text = "The quick brown fox, jumps over\nthe lazy dog! 42 times.\n";
        String prepared = Vocab.d2lPreprocess(text);
        assertEquals("the quick brown fox jumps overthe lazy dog times", prepared);
        Vocab v = Vocab.of(prepared);
        assertEquals(28, v.size(), "<unk>, space and 26 letters");
        assertEquals(Vocab.UNK, v.token(0));
        assertEquals(" ", v.token(1), "the most frequent character comes first");
        assertEquals(prepared, v.decode(v.encode(prepared)));
    }

    @Test
    void sequentialBatchesContinueEachOther() {
        int[] corpus = new int[200];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = i;
        }
        List<Batches.Batch> batches = Batches.sequential(corpus, 3, 5, new Random(1));
        int b = 3;
        for (int i = 0; i + 1 < batches.size(); i++) {
            for (int s = 0; s < b; s++) {
                int lastX = batches.get(i).x()[4 * b + s];
                assertEquals(lastX + 1, batches.get(i + 1).x()[s], "stream " + s + " continues");
                assertEquals(lastX + 1, batches.get(i).y()[4 * b + s], "target is the next token");
            }
        }
    }

    @Test
    void randomBatchesCoverDistinctSubsequences() {
        int[] corpus = new int[100];
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = i;
        }
        List<Batches.Batch> batches = Batches.random(corpus, 2, 5, new Random(1));
        java.util.Set<Integer> starts = new java.util.HashSet<>();
        for (Batches.Batch batch : batches) {
            for (int s = 0; s < 2; s++) {
                starts.add(batch.x()[s]);
                assertArrayEquals(new int[] {batch.x()[s] + 1}, new int[] {batch.y()[s]});
            }
        }
        assertEquals(batches.size() * 2, starts.size());
    }
}
