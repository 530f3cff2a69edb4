package org.rnn4j.benchmarks;

import java.lang.reflect.Method;
import java.util.Locale;
import org.rnn4j.backend.Backends;
import org.rnn4j.nativecpu.NativeBackend;
import org.rnn4j.nativecpu.NativeKernels;

/**
 * What a benchmark JVM runs on, for the headers of the comparison tables: the native backend is
 * loaded (so {@link NativeKernels} is bound), and once per JVM one line
 *
 * <pre>
 * # rnn4j-env: isa=avx512 detected=avx512 requested=- backend=native rnn4j.threads=2 blas_threads=2 openblas_core=n/a OPENBLAS_CORETYPE=unset jdk=17.0.15 cpu=AMD EPYC
 * </pre>
 *
 * goes to standard output; JMH copies the forked JVMs' output into its log, where
 * {@code run-rnn-comparison.sh} reads it. Every benchmark calls {@link #ensure()} in its
 * {@code @Setup}; {@code java -cp benchmarks.jar org.rnn4j.benchmarks.BenchEnv} prints the same
 * line outside JMH.
 *
 * <p>The ISA path is asked for with {@code -Drnn4j.isa=avx512|avx2|baseline}. The native backend
 * is to honour that property itself; until it does, {@link #ensure()} applies it through
 * {@link NativeKernels#isa_set} after loading, which is a no-op once the library has done it.
 *
 * <p>OpenBLAS's kernel: bytedeco's 1.5.13 presets bind no {@code openblas_get_corename}, so it is
 * looked up by reflection (for presets that have it) and otherwise reported as {@code n/a}; the
 * comparison script then runs the JMH JVMs with {@code OPENBLAS_VERBOSE=2}, under which OpenBLAS
 * prints {@code Core: <name>} when it loads.
 */
public final class BenchEnv {
    public static final String ISA_PROPERTY = "rnn4j.isa";
    private static final String[] ISA_NAMES = {"baseline", "avx2", "avx512"};
    private static volatile String line;

    private BenchEnv() {
    }

    /** The name of an ISA code of {@link NativeKernels} (0 baseline, 1 avx2, 2 avx512). */
    public static String isaName(int code) {
        return code >= 0 && code < ISA_NAMES.length ? ISA_NAMES[code] : "isa" + code;
    }

    /** The ISA code of a name as {@code -Drnn4j.isa} takes it, or -1. */
    public static int isaCode(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (int i = 0; i < ISA_NAMES.length; i++) {
            if (ISA_NAMES[i].equals(n)) {
                return i;
            }
        }
        return switch (n) {
            case "avx-512", "avx512f" -> 2;
            case "base", "sse2", "x86-64" -> 0;
            default -> -1;
        };
    }

    /**
     * Loads the native backend (fails loudly if it cannot: the tables compare the native
     * kernels), applies {@code -Drnn4j.isa} if the library has not, and prints the environment
     * line once per JVM. Returns that line.
     */
    public static String ensure() {
        String l = line;
        if (l == null) {
            synchronized (BenchEnv.class) {
                if (line == null) {
                    Backends.byName("native"); // throws with the reason when the backend is unavailable
                    applyIsaProperty();
                    line = describe();
                    System.out.println(line);
                    System.out.flush();
                }
                l = line;
            }
        }
        return l;
    }

    private static void applyIsaProperty() {
        String want = System.getProperty(ISA_PROPERTY);
        if (want == null || want.isBlank()) {
            return;
        }
        int code = isaCode(want);
        if (code < 0) {
            throw new IllegalArgumentException("-D" + ISA_PROPERTY + " must be avx512, avx2 or baseline, got '" + want + "'");
        }
        int expected = Math.min(code, NativeKernels.isa_detect());
        if (NativeKernels.isa_active() != expected) {
            NativeKernels.isa_set(code);
        }
    }

    private static String describe() {
        String requested = System.getProperty(ISA_PROPERTY);
        String threads = System.getProperty(NativeBackend.THREADS_PROPERTY);
        if (threads == null || threads.isBlank()) {
            String env = System.getenv(NativeBackend.THREADS_ENV);
            threads = env == null || env.isBlank() ? "unset" : "env:" + env.trim();
        }
        String coretype = System.getenv("OPENBLAS_CORETYPE");
        return "# rnn4j-env: isa=" + isaName(NativeKernels.isa_active())
                + " detected=" + isaName(NativeKernels.isa_detect())
                + " requested=" + (requested == null || requested.isBlank() ? "-" : requested.trim())
                + " backend=" + Backends.cpu().name()
                + " rnn4j.threads=" + threads
                + " blas_threads=" + NativeBackend.blasThreads()
                + " openblas_core=" + openblasCore()
                + " OPENBLAS_CORETYPE=" + (coretype == null || coretype.isBlank() ? "unset" : coretype.trim())
                + " jdk=" + System.getProperty("java.version")
                + " cpu=" + cpuModel(); // last: the model name has spaces
    }

    /** The "model name" of /proc/cpuinfo, else os.arch. */
    static String cpuModel() {
        try (java.util.stream.Stream<String> lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(System.getProperty("os.arch"));
        } catch (java.io.IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }

    /** OpenBLAS's kernel name if the bytedeco presets bind {@code openblas_get_corename}, else "n/a". */
    static String openblasCore() {
        try {
            // not initialised by the lookup: only a bound method is worth the class's loading
            Class<?> c = Class.forName("org.bytedeco.openblas.global.openblas_nolapack", false,
                    BenchEnv.class.getClassLoader());
            Object r = c.getMethod("openblas_get_corename").invoke(null);
            String s = r instanceof org.bytedeco.javacpp.BytePointer p ? p.getString() : String.valueOf(r);
            return s.trim().replace(' ', '_');
        } catch (ReflectiveOperationException | LinkageError e) {
            return "n/a"; // not bound in these presets
        }
    }

    /** Prints the environment line (same flags as a benchmark JVM: -Drnn4j.threads, -Drnn4j.isa). */
    public static void main(String[] args) {
        ensure();
    }
}
