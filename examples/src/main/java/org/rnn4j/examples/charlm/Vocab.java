package org.rnn4j.examples.charlm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Character vocabulary: index 0 is {@code <unk>}, then the characters by decreasing frequency,
 * ties in order of first appearance (d2l's {@code Vocab}, so that its 28-token vocabulary comes
 * out with the same indices). Characters are Unicode code points, so any UTF-8 text works.
 */
public final class Vocab {
    public static final String UNK = "<unk>";

    private final List<String> tokens;
    private final Map<String, Integer> index = new HashMap<>();

    public Vocab(List<String> tokens) {
        if (tokens.isEmpty() || !tokens.get(0).equals(UNK)) {
            throw new IllegalArgumentException("a vocabulary starts with " + UNK);
        }
        this.tokens = List.copyOf(tokens);
        for (int i = 0; i < tokens.size(); i++) {
            index.put(tokens.get(i), i);
        }
    }

    public static Vocab of(String text) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        text.codePoints().forEach(cp -> counts.merge(Character.toString(cp), 1, Integer::sum));
        List<Map.Entry<String, Integer>> entries = new ArrayList<>(counts.entrySet());
        entries.sort((a, b) -> b.getValue() - a.getValue());   // stable: ties keep first appearance
        List<String> tokens = new ArrayList<>();
        tokens.add(UNK);
        entries.forEach(e -> tokens.add(e.getKey()));
        return new Vocab(tokens);
    }

    /**
     * d2l's preprocessing: each line keeps letters only (other runs become one space), is
     * trimmed and lower-cased; lines are joined with nothing between them, as d2l does.
     */
    public static String d2lPreprocess(String text) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            sb.append(line.replaceAll("[^A-Za-z]+", " ").strip().toLowerCase(Locale.ROOT));
        }
        return sb.toString();
    }

    public int size() {
        return tokens.size();
    }

    public List<String> tokens() {
        return tokens;
    }

    public String token(int id) {
        return tokens.get(id);
    }

    /** Ids of the characters of {@code text}; unknown ones map to 0. */
    public int[] encode(String text) {
        return text.codePoints().map(cp -> index.getOrDefault(Character.toString(cp), 0)).toArray();
    }

    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(id == 0 ? "?" : tokens.get(id));
        }
        return sb.toString();
    }
}
