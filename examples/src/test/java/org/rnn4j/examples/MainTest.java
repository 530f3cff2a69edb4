package org.rnn4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
    private record Run(int status, String out, String err) {
    }

    private static Run main(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void badInputIsOneLineOnStderrAndStatus2() {
        Run sine = main("sine", "--epochs", "x");
        assertEquals(2, sine.status());
        assertEquals("sine: --epochs expects an integer, got 'x'\n", sine.err());
        Run classify = main("classify", "--step", "3");
        assertEquals(2, classify.status());
        assertEquals("classify: unknown option(s): --step\n", classify.err());
        Run tensors = main("tensors", "--fast");
        assertEquals(2, tensors.status());
        assertEquals(1, tensors.err().lines().count(), tensors.err());
        Run charlm = main("charlm", "train", "--corpus", "/nonexistent/corpus.txt");
        assertEquals(2, charlm.status());
        assertEquals("charlm: cannot read /nonexistent/corpus.txt: no such file\n", charlm.err());
        assertEquals("", charlm.out());
        Run unknown = main("nope");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().startsWith("unknown program 'nope'"), unknown.err());
    }

    @Test
    void helpGoesToStdout() {
        Run help = main("--help");
        assertEquals(0, help.status());
        assertTrue(help.out().startsWith("usage: "), help.out());
    }
}
