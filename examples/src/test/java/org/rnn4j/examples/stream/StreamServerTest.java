package org.rnn4j.examples.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.Test;

/** The stream example runs, batches, and reports bitwise-equal outputs and a good resume. */
class StreamServerTest {
    @Test
    void smallRun() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int rc = new StreamServer(new PrintStream(buf, true)).run(new String[] {"--clients", "3", "--sessions", "4", "--steps", "10"});
        String out = buf.toString();
        assertEquals(0, rc, out);
        assertTrue(out.contains("bitwise: true"), out);
        assertTrue(out.contains("next output equal: true"), out);
    }
}
