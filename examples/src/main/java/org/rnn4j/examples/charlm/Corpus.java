package org.rnn4j.examples.charlm;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Finds the training text: a file the user names, or The Time Machine by H. G. Wells (Project
 * Gutenberg eBook #35), downloaded once into a cache folder and checked against a SHA-256 so a
 * changed or truncated download is never trained on silently.
 */
public final class Corpus {
    public static final URI TIME_MACHINE_URL = URI.create("https://www.gutenberg.org/cache/epub/35/pg35.txt");
    /** SHA-256 of pg35.txt as served by Project Gutenberg (200,870 bytes). */
    public static final String TIME_MACHINE_SHA256 = "0359cedc583179f3e417605eb36efc1dc97b042a76ea67fac1e8c11109b0e2c9";
    static final String CACHE_NAME = "timemachine-pg35.txt";

    /** Thrown when the book is neither cached nor downloadable; its message is one line for the user. */
    public static final class UnavailableException extends IOException {
        private static final long serialVersionUID = 1L;

        UnavailableException(String message) {
            super(message);
        }
    }

    private final Path cacheDir;
    private final URI url;
    private final String sha256;

    public Corpus(Path cacheDir, URI url, String sha256) {
        this.cacheDir = cacheDir;
        this.url = url;
        this.sha256 = sha256;
    }

    /** Where the download is kept: ~/.cache/rnn4j. */
    public static Path defaultCacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "rnn4j");
    }

    /** Reads a UTF-8 file; Gutenberg header and footer, if present, are stripped. */
    public static String readFile(Path file) throws IOException {
        return stripGutenberg(Files.readString(file, StandardCharsets.UTF_8));
    }

    /** The cached book, downloading it first if needed; header and footer stripped. */
    public String timeMachineText() throws IOException {
        Path cached = cacheDir.resolve(CACHE_NAME);
        if (!Files.exists(cached)) {
            download(cached);
        }
        byte[] bytes = Files.readAllBytes(cached);
        if (!sha256(bytes).equals(sha256)) {
            throw new IOException(cached + " does not match the expected SHA-256 " + sha256 + "; delete it to download again");
        }
        return stripGutenberg(new String(bytes, StandardCharsets.UTF_8));
    }

    private void download(Path target) throws IOException {
        byte[] bytes;
        try {
            URLConnection c = url.toURL().openConnection();
            c.setConnectTimeout(10_000);
            c.setReadTimeout(30_000);
            try (InputStream in = c.getInputStream()) {
                bytes = in.readAllBytes();
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new UnavailableException("offline: could not download The Time Machine from " + url + " ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
                    + "); pass --corpus FILE to train on a UTF-8 text file of your own");
        }
        String got = sha256(bytes);
        if (!got.equals(sha256)) {
            throw new IOException("download from " + url + " has SHA-256 " + got + ", expected " + sha256
                    + " (the file changed upstream?); pass --corpus FILE to use your own copy");
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempFile(target.getParent(), CACHE_NAME, ".part");
        Files.write(tmp, bytes);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
