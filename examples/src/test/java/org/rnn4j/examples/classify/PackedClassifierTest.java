package org.rnn4j.examples.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

class PackedClassifierTest {
    @Test
    void trainsAFewStepsAndIgnoresPadding() {
        PackedClassifier.Result r = new PackedClassifier(new PrintStream(new ByteArrayOutputStream())).train(20, 16, 8, 0.01, 2);
        assertEquals(0f, r.maxPaddingDifference(), "padding length and values must not change the logits");
        assertTrue(r.testAccuracy() >= 0 && r.testAccuracy() <= 1);
    }
}
