package org.rnn4j.examples.charlm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rnn4j.io.Checkpoint;

/** The charlm command end to end on a few hundred characters made here (no download). */
class CharLmTest {
    static final String TEXT = """
            The Time Traveller (for so it will be convenient to speak of him) was expounding a recondite
            matter to us. His grey eyes shone and twinkled, and his usually pale face was flushed and animated.
            The fire burned brightly, and the soft radiance of the incandescent lights in the lilies of silver
            caught the bubbles that flashed and passed in our glasses.
            """;

    @TempDir
    Path tmp;

    private record Run(int status, String output) {
    }

    private Run charlm(String... args) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = new CharLm(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(args);
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }

    private String corpus() throws IOException {
        Path f = tmp.resolve("tiny.txt");
        Files.writeString(f, TEXT);
        return f.toString();
    }

    private String[] train(String out, int epochs, String... extra) throws IOException {
        List<String> a = new ArrayList<>(List.of("train", "--corpus", corpus(), "--model", "lstm", "--hidden", "16",
                "--embedding", "8", "--batch", "2", "--steps", "8", "--epochs", Integer.toString(epochs), "--lr", "0.01",
                "--optimizer", "adam", "--val-fraction", "0.2", "--seed", "3", "--out", out));
        a.addAll(Arrays.asList(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void trainsSamplesReproduciblyAndEvaluates() throws IOException {
        String dir = tmp.resolve("ck").toString();
        Run trained = charlm(train(dir, 2));
        assertEquals(0, trained.status(), trained.output());
        assertTrue(trained.output().contains("val perplexity"), trained.output());
        assertTrue(trained.output().contains("sample: The Time Traveller"), trained.output());

        String[] sample = {"sample", "--out", dir, "--prefix", "The ", "--length", "40", "--temperature", "0.8", "--seed", "7"};
        Run a = charlm(sample);
        Run b = charlm(sample);
        assertEquals(0, a.status(), a.output());
        assertEquals(a.output(), b.output(), "same seed, same text");
        assertTrue(a.output().startsWith("The "), a.output());
        assertEquals(44, a.output().replaceFirst("\n$", "").length(), "prefix + 40 characters: " + a.output());

        Run eval = charlm("eval", "--out", dir);
        assertEquals(0, eval.status(), eval.output());
        assertTrue(eval.output().startsWith("perplexity ") && eval.output().contains("validation part"), eval.output());
    }

    @Test
    void resumedTrainingEndsWithTheSameWeights() throws IOException {
        String straight = tmp.resolve("straight").toString();
        String resumed = tmp.resolve("resumed").toString();
        assertEquals(0, charlm(train(straight, 3, "--dropout", "0.2", "--layers", "2")).status());
        assertEquals(0, charlm(train(resumed, 1, "--dropout", "0.2", "--layers", "2")).status());
        Run more = charlm("train", "--out", resumed, "--resume", "--epochs", "3");
        assertEquals(0, more.status(), more.output());
        assertTrue(more.output().contains("resumed from " + resumed + " after epoch 1"), more.output());
        // the perplexity chart next to the checkpoint covers the epochs before the resume too
        java.awt.image.BufferedImage chart = javax.imageio.ImageIO.read(Path.of(resumed, Trainer.PLOT_FILE).toFile());
        assertEquals(900, chart.getWidth());
        assertEquals(List.of("1", "2", "3"), Checkpoint.strings(Checkpoint.readInfo(Path.of(resumed)), "perplexity_history")
                .stream().map(l -> l.split(" ")[0]).toList());
        assertArrayEquals(Files.readAllBytes(Path.of(straight, Checkpoint.MODEL_FILE)),
                Files.readAllBytes(Path.of(resumed, Checkpoint.MODEL_FILE)), "weights after 3 epochs");
        assertArrayEquals(Files.readAllBytes(Path.of(straight, Checkpoint.OPTIMIZER_FILE)),
                Files.readAllBytes(Path.of(resumed, Checkpoint.OPTIMIZER_FILE)), "Adam moments after 3 epochs");
    }

    @Test
    void d2lRecipeOnTinyTextWithRandomPartitioning() throws IOException {
        Run run = charlm("train", "--corpus", corpus(), "--d2l", "--model", "rnn", "--hidden", "16", "--batch", "4",
                "--steps", "5", "--epochs", "2", "--partition", "random", "--print-every", "1");
        assertEquals(0, run.status(), run.output());
        assertTrue(run.output().contains("vocabulary 2"), run.output());
        assertTrue(run.output().contains("one-hot input"), run.output());
        assertTrue(run.output().contains("sample: time traveller"), run.output());
    }

    @Test
    void withoutCorpusItTrainsOnTheEmbeddedBook() throws IOException {
        Run run = charlm("train", "--d2l", "--max-tokens", "3000", "--model", "rnn", "--hidden", "8", "--batch", "4",
                "--steps", "10", "--epochs", "1");
        assertEquals(0, run.status(), run.output());
        assertTrue(run.output().contains("corpus The Time Machine (built in): 3,000 training + 0 validation tokens"),
                run.output());
        assertTrue(run.output().contains("vocabulary 28"), run.output());
    }

    @Test
    void theEmbeddedBookIsTheTextOnly() {
        String book = Corpus.timeMachine();
        assertTrue(book.startsWith("The Time Machine\n\nAn Invention\n\nby H. G. Wells\n"), book.substring(0, 60));
        assertTrue(book.endsWith("still lived on in the heart of man.\n"));
        assertEquals(-1, book.toLowerCase(java.util.Locale.ROOT).indexOf("gutenberg"), "no edition header, footer or licence");
        assertEquals(181_467, book.getBytes(StandardCharsets.UTF_8).length);
        assertEquals(28, Vocab.of(Vocab.d2lPreprocess(book)).size());
    }

    @Test
    void gutenbergHeaderAndFooterOfAUserFileAreStripped() throws IOException {
        Path f = tmp.resolve("book.txt");
        Files.writeString(f, "\uFEFFheader\r\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\r\nbody text\r\n"
                + "*** END OF THE PROJECT GUTENBERG EBOOK X ***\r\nfooter");
        assertEquals("body text\n", Corpus.readFile(f));
    }

    @Test
    void missingOrUnreadableCorpusIsOneLineAndStatus2() throws IOException {
        Run missing = charlm("train", "--corpus", tmp.resolve("nope.txt").toString(), "--epochs", "1");
        assertEquals(2, missing.status(), missing.output());
        assertEquals(1, missing.output().lines().count(), missing.output());
        assertTrue(missing.output().startsWith("charlm: cannot read ") && missing.output().contains("no such file"),
                missing.output());

        Run directory = charlm("train", "--corpus", tmp.toString(), "--epochs", "1");
        assertEquals(2, directory.status(), directory.output());
        assertTrue(directory.output().contains("is a directory"), directory.output());

        Path latin1 = tmp.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xE9, '\n'});
        Run notUtf8 = charlm("train", "--corpus", latin1.toString(), "--epochs", "1");
        assertEquals(2, notUtf8.status(), notUtf8.output());
        assertTrue(notUtf8.output().contains("not UTF-8"), notUtf8.output());

        Run noCheckpoint = charlm("sample", "--out", tmp.resolve("none").toString());
        assertEquals(2, noCheckpoint.status(), noCheckpoint.output());
        assertEquals(1, noCheckpoint.output().lines().count(), noCheckpoint.output());
        assertTrue(noCheckpoint.output().contains("no checkpoint in"), noCheckpoint.output());

        Run badNumber = charlm("train", "--corpus", corpus(), "--epochs", "many");
        assertEquals(2, badNumber.status(), badNumber.output());
        assertEquals("charlm: --epochs expects an integer, got 'many'\n", badNumber.output());
    }

    @Test
    void unknownOptionIsNamed() throws IOException {
        Run run = charlm("train", "--corpus", corpus(), "--epoch", "3");
        assertEquals(2, run.status());
        assertTrue(run.output().contains("--epoch"), run.output());
    }
}
