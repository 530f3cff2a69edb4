package org.rnn4j.io;

import java.io.IOException;

/** A safetensors file (or stream) that is malformed, truncated, or holds something rnn4j cannot read. */
public class SafeTensorsException extends IOException {
    private static final long serialVersionUID = 1L;

    /** An exception with {@code message}, which should name the file's problem. */
    public SafeTensorsException(String message) {
        super(message);
    }

    /** An exception with {@code message} and the {@code cause} that revealed the problem. */
    public SafeTensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
