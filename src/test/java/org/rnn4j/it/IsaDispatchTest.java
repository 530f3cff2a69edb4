package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Tensor;
import org.rnn4j.nativecpu.Isa;
import org.rnn4j.nativecpu.NativeBackend;
import org.rnn4j.nativecpu.NativeKernels;

/**
 * The native library's ISA dispatch, checked against the CPU's flags read independently from
 * /proc/cpuinfo: the default path is the best the CPU supports, {@code rnn4j.isa} lowers it, and
 * switching paths changes what runs (the FMA loop's FLOPs per iteration are the path's).
 * Surefire runs the kernel-parity classes once per path (it/pom.xml), so this class also
 * checks that each of those runs is on the path it claims.
 */
class IsaDispatchTest {

    @BeforeEach
    void nativeLoaded() {
        CpuBackends.assumeNative();
    }

    /** The CPU's flags as the kernel reports them (first "flags" line of /proc/cpuinfo). */
    private static Set<String> cpuFlags() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("flags")) {
                return new HashSet<>(Arrays.asList(line.substring(line.indexOf(':') + 1).trim().split("\\s+")));
            }
        }
        return Set.of();
    }

    /** The best path by the flags: AVX-512 needs F, BW, DQ and VL; AVX2 needs AVX2 and FMA. */
    private static Isa bestByFlags(Set<String> f) {
        if (f.containsAll(Set.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"))) {
            return Isa.AVX512;
        }
        if (f.containsAll(Set.of("avx2", "fma"))) {
            return Isa.AVX2;
        }
        return Isa.BASELINE;
    }

    private static Isa min(Isa a, Isa b) {
        return a.code() <= b.code() ? a : b;
    }

    @Test
    void detectedPathIsTheBestTheCpuFlagsAllow() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/cpuinfo")), "no /proc/cpuinfo on this system");
        Set<String> flags = cpuFlags();
        assumeTrue(!flags.isEmpty(), "/proc/cpuinfo has no flags line (not x86?)");
        assertEquals(bestByFlags(flags), NativeBackend.detectedIsa(), "flags: " + flags);
    }

    @Test
    void activePathIsTheDetectedOneUnlessLowered() {
        String want = System.getProperty(NativeBackend.ISA_PROPERTY);
        if (want == null || want.isBlank()) {
            want = System.getenv(NativeBackend.ISA_ENV);
        }
        Isa expected = want == null || want.isBlank()
                ? NativeBackend.detectedIsa()
                : min(Isa.parse("rnn4j.isa", want), NativeBackend.detectedIsa());
        assertEquals(expected, NativeBackend.isa(), "rnn4j.isa=" + want);
        assertTrue(NativeBackend.describe().contains("native kernels " + expected), NativeBackend.describe());
    }

    @Test
    void everySupportedPathCanBeSetAndRunsItsOwnKernels() {
        Isa before = NativeBackend.isa();
        try {
            long[] flopsPerIter = new long[3];
            for (Isa i : Isa.values()) {
                Isa got = NativeBackend.setIsa(i);
                assertEquals(min(i, NativeBackend.detectedIsa()), got);
                assertEquals(got, NativeBackend.isa());
                flopsPerIter[i.code()] = NativeKernels.fma_peak_flops(i.code());
                // a kernel runs on the path and agrees with the others: sum of squares
                try (Tensor t = Tensor.fromArray(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 11);
                     Tensor sq = t.mul(t);
                     Tensor s = sq.sum()) {
                    assertEquals(506f, s.item(), 0f, "path " + got);
                }
            }
            // the register widths differ per path: 4, 8, 16 lanes (baseline 12 accumulators,
            // AVX2 12, AVX-512 16)
            assertEquals(2L * 12 * 4, flopsPerIter[0]);
            if (NativeBackend.detectedIsa().code() >= Isa.AVX2.code()) {
                assertEquals(2L * 12 * 8, flopsPerIter[1]);
            }
            if (NativeBackend.detectedIsa() == Isa.AVX512) {
                assertEquals(2L * 16 * 16, flopsPerIter[2]);
            }
        } finally {
            NativeBackend.setIsa(before);
        }
    }

    @Test
    void pathNamesParseAndBadOnesNameTheArgument() {
        assertEquals(Isa.AVX512, Isa.parse("rnn4j.isa", "AVX-512"));
        assertEquals(Isa.AVX2, Isa.parse("rnn4j.isa", " avx2 "));
        assertEquals(Isa.BASELINE, Isa.parse("rnn4j.isa", "sse2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Isa.parse("rnn4j.isa", "neon"));
        assertTrue(e.getMessage().contains("rnn4j.isa") && e.getMessage().contains("avx512, avx2, baseline")
                && e.getMessage().contains("'neon'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NativeBackend.setIsa(null));
        for (Isa i : Isa.values()) {
            assertEquals(i, Isa.fromCode(i.code()));
        }
    }
}
