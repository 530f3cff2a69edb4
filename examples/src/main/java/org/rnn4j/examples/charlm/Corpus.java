package org.rnn4j.examples.charlm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Finds the training text: a UTF-8 file the user names, or The Time Machine by H. G. Wells (1895,
 * public domain), which this jar carries as the resource {@value #TIME_MACHINE_RESOURCE}, so the
 * default works offline and nothing is downloaded at run time.
 */
public final class Corpus {
    /** The book's text only (no edition header, footer or licence); see examples/README.md. */
    public static final String TIME_MACHINE_RESOURCE = "/org/rnn4j/examples/charlm/timemachine.txt";

    private Corpus() {
    }

    /** The embedded book. */
    public static String timeMachine() {
        try (InputStream in = Corpus.class.getResourceAsStream(TIME_MACHINE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + TIME_MACHINE_RESOURCE + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a UTF-8 file; a Project Gutenberg header and footer, if present, are stripped.
     *
     * @throws IllegalArgumentException with a one-line message when the file is missing, unreadable
     *         or not UTF-8 (a user error, not a bug)
     */
    public static String readFile(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new IllegalArgumentException("cannot read " + file + ": it is a directory, not a text file");
            }
            return stripGutenberg(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("cannot read " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("cannot read " + file + ": permission denied");
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("cannot read " + file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    /** The text between Gutenberg's "*** START OF ..." and "*** END OF ..." lines; the whole text if absent. */
    static String stripGutenberg(String text) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        t = t.replace("\r\n", "\n");
        int start = t.indexOf("*** START OF");
        if (start >= 0) {
            int eol = t.indexOf('\n', start);
            t = eol < 0 ? "" : t.substring(eol + 1);
        }
        int end = t.indexOf("*** END OF");
        if (end >= 0) {
            t = t.substring(0, end);
        }
        return t.strip() + "\n";
    }
}
