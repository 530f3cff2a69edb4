package org.rnn4j.nativecpu;

import java.util.Locale;

/**
 * An instruction-set path of the native CPU kernels (native/src/main/cpp/rnn4j/isa.h). Every
 * hot kernel is built once per path from one source; the library picks the best path the CPU
 * supports when it loads, {@code -Drnn4j.isa=NAME} (or the environment variable
 * {@code RNN4J_ISA}) lowers it, and {@link NativeBackend#isa()} says which one runs.
 * GEMMs handed to OpenBLAS follow OpenBLAS's own choice ({@code OPENBLAS_CORETYPE} overrides it),
 * which {@link NativeBackend#blasCore()} reports.
 */
public enum Isa {
    /** x86-64 baseline: SSE2, 16 xmm registers, no FMA. Runs on every x86-64 CPU. */
    BASELINE(0, "baseline"),
    /** AVX2 + FMA, 16 ymm registers (Haswell and later, Zen 1-3 and later). */
    AVX2(1, "avx2"),
    /** AVX-512 F/BW/DQ/VL, 32 zmm registers (Skylake-X and later, Zen 4 and later). */
    AVX512(2, "avx512");

    private final int code;
    private final String id;

    Isa(int code, String id) {
        this.code = code;
        this.id = id;
    }

    /** The code the native library uses (rnn4j::Isa), never {@link #ordinal()}. */
    public int code() {
        return code;
    }

    /** The name {@code rnn4j.isa} takes: {@code baseline}, {@code avx2} or {@code avx512}. */
    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return id;
    }

    /** The path with this native code. */
    public static Isa fromCode(int code) {
        for (Isa i : values()) {
            if (i.code == code) {
                return i;
            }
        }
        throw new IllegalArgumentException("isa code: expected 0, 1 or 2, got " + code);
    }

    /**
     * Parses a path name as {@code rnn4j.isa} takes it (case-insensitive; {@code avx-512},
     * {@code avx512f} and {@code sse2} are accepted as spellings of the same paths).
     *
     * @throws IllegalArgumentException naming {@code what}, the accepted names and the value
     */
    public static Isa parse(String what, String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        switch (v) {
            case "avx512":
            case "avx512f":
                return AVX512;
            case "avx2":
                return AVX2;
            case "baseline":
            case "sse2":
            case "default":
                return BASELINE;
            default:
                throw new IllegalArgumentException(what + ": expected one of avx512, avx2, baseline, got '" + value + "'");
        }
    }
}
