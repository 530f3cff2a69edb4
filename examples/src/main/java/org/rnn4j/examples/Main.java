package org.rnn4j.examples;

import java.util.Arrays;

/** Entry point of the examples jar: {@code java -jar rnn4j-examples.jar <program> [options]}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage();
            return;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        switch (args[0]) {
            case "tensors" -> TensorTour.main(rest);
            case "quickstart" -> Quickstart.main(rest);
            case "charlm" -> System.exit(new org.rnn4j.examples.charlm.CharLm(System.out).run(rest));
            case "sine" -> System.exit(new org.rnn4j.examples.sine.SineToCosine(System.out).run(rest));
            case "classify" -> System.exit(new org.rnn4j.examples.classify.PackedClassifier(System.out).run(rest));
            case "stream" -> System.exit(new org.rnn4j.examples.stream.StreamServer(System.out).run(rest));
            default -> {
                System.err.println("unknown program '" + args[0] + "'");
                usage();
                System.exit(2);
            }
        }
    }

    private static void usage() {
        System.out.println("""
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
