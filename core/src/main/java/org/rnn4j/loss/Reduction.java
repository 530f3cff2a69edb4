package org.rnn4j.loss;

/** How a loss reduces its per-element values (PyTorch's {@code reduction=}). */
public enum Reduction {
    /** Per-element losses, no reduction ({@code 'none'}). */
    NONE,
    /** Average over elements; cross entropy and NLL divide by the number of non-ignored rows ({@code 'mean'}, the default). */
    MEAN,
    /** Sum over elements ({@code 'sum'}). */
    SUM;

    /** Parses PyTorch's spelling: {@code "none"}, {@code "mean"}, {@code "sum"}. */
    public static Reduction parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "none" -> NONE;
            case "mean" -> MEAN;
            case "sum" -> SUM;
            default -> throw new IllegalArgumentException("reduction: '" + s + "' is not a valid value; expected 'none', 'mean' or 'sum'");
        };
    }
}
