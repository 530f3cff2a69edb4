package org.rnn4j.io;

import java.io.IOException;

/** A PyTorch {@code torch.save} file that is malformed, truncated, hostile, or holds something rnn4j cannot read. */
public class TorchFileException extends IOException {
    private static final long serialVersionUID = 1L;

    /** An exception with {@code message}, which should name the file's problem. */
    public TorchFileException(String message) {
        super(message);
    }

    /** An exception with {@code message} and the {@code cause} that revealed the problem. */
    public TorchFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
