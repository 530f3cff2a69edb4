package org.rnn4j.examples.util;

import java.io.PrintStream;

/**
 * A one-line progress display redrawn with {@code \r} on a terminal. When output goes to a file or
 * a pipe, the redraws are skipped (they would fill logs), and only {@link #line} output remains.
 */
public final class Progress {
    private final PrintStream out;
    private final boolean redraw;
    private int lastWidth;

    public Progress(PrintStream out) {
        this(out, System.console() != null);
    }

    public Progress(PrintStream out, boolean redraw) {
        this.out = out;
        this.redraw = redraw;
    }

    /** Redraws the status line: a 20-character bar for {@code done/total} and a message. */
    public void update(long done, long total, String message) {
        if (!redraw) {
            return;
        }
        int filled = total == 0 ? 20 : (int) (20 * done / total);
        String text = "[" + "#".repeat(filled) + " ".repeat(20 - filled) + "] " + message;
        out.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
        out.flush();
        lastWidth = text.length();
    }

    /** Prints a permanent line, clearing the status line first. */
    public void line(String message) {
        if (redraw && lastWidth > 0) {
            out.print("\r" + " ".repeat(lastWidth) + "\r");
            lastWidth = 0;
        }
        out.println(message);
        out.flush();
    }
}
