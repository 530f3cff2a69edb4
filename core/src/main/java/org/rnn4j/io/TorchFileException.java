package org.rnn4j.io;

import java.io.IOException;

/** A PyTorch {@code torch.save} file that is malformed, truncated, hostile, or holds something rnn4j cannot read. */
public class TorchFileException extends IOException {
    private static final long serialVersionUID = 1L;

    public TorchFileException(String message) {
        super(message);
    }

    public TorchFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
