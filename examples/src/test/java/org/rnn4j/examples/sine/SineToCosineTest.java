package org.rnn4j.examples.sine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SineToCosineTest {
    @Test
    void learnsAndPlots(@TempDir Path tmp) throws IOException {
        Path png = tmp.resolve("sine.png");
        SineToCosine.Result r = new SineToCosine(new PrintStream(new ByteArrayOutputStream()))
                .train(3, 16, 20, 4, 200, 0.01, 1, png);
        assertTrue(r.lastEpochMse() < r.firstEpochMse(), r.toString());
        assertEquals(900, ImageIO.read(png.toFile()).getWidth());
    }
}
