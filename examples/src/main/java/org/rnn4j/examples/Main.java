package org.rnn4j.examples;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Entry point of the examples jar: {@code java -jar rnn4j-examples.jar <program> [options]}.
 *
 * <p>Standard output and error are UTF-8 whatever the locale: the programs' own messages are
 * ASCII, and text sampled from a corpus is printed in the corpus's encoding (UTF-8) instead of
 * turning every non-ASCII character into {@code ?} as the JDK does under a POSIX locale. Bad
 * input (an unknown program or option, a bad value, a missing file) is one line on standard
 * error and exit status 2.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        PrintStream out = utf8(FileDescriptor.out);
        PrintStream err = utf8(FileDescriptor.err);
        System.setOut(out);
        System.setErr(err);
        System.exit(run(args, out, err));
    }

    private static PrintStream utf8(FileDescriptor fd) {
        return new PrintStream(new FileOutputStream(fd), true, StandardCharsets.UTF_8);
    }

    /** Runs one program and returns its exit status. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        String program = args[0];
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            if (rest.length > 0 && (program.equals("tensors") || program.equals("quickstart"))) {
                throw new IllegalArgumentException("takes no options, got '" + rest[0] + "'");
            }
            switch (program) {
                case "tensors" -> TensorTour.main(rest);
                case "quickstart" -> Quickstart.main(rest);
                case "charlm" -> {
                    return new org.rnn4j.examples.charlm.CharLm(out, err).run(rest);
                }
                case "sine" -> {
                    return new org.rnn4j.examples.sine.SineToCosine(out).run(rest);
                }
                case "classify" -> {
                    return new org.rnn4j.examples.classify.PackedClassifier(out).run(rest);
                }
                case "stream" -> {
                    return new org.rnn4j.examples.stream.StreamServer(out).run(rest);
                }
                default -> {
                    err.println("unknown program '" + program + "'");
                    usage(err);
                    return 2;
                }
            }
            return 0;
        } catch (IllegalArgumentException e) {
            err.println(program + ": " + e.getMessage());
            return 2;
        } catch (IOException | UncheckedIOException e) {
            err.println(program + ": " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println(program + ": interrupted");
            return 1;
        } catch (java.util.concurrent.ExecutionException e) {
            err.println(program + ": " + e.getCause());
            return 1;
        }
    }

    private static void usage(PrintStream to) {
        to.print("""
                usage: java -jar examples/target/rnn4j-examples.jar <program> [options]
                programs:
                  tensors     a tour of the tensor core on the default (native) backend
                  quickstart  the README's snippet: one training step of a packed BiLSTM classifier
                  charlm      character-level language model: train | sample | eval (d2l chapter 8)
                  sine        an RNN reads sin(t) and predicts cos(t), carrying its state; plots the result
                  classify    bidirectional LSTM over packed variable-length sequences
                  stream      a frozen LSTM serving many sessions from many threads through the micro-batcher
                """);
    }
}
