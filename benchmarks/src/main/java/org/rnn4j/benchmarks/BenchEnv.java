package org.rnn4j.benchmarks;

import org.rnn4j.backend.Backends;
import org.rnn4j.nativecpu.Isa;
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
 * <p>The ISA path is asked for with {@code -Drnn4j.isa=avx512|avx2|baseline}, which the native
 * backend applies when it loads; OpenBLAS's kernel comes from {@link NativeBackend#blasCore()}.
 * The comparison script also runs the JMH JVMs with {@code OPENBLAS_VERBOSE=2}, under which
 * OpenBLAS prints {@code Core: <name>} when it loads.
 */
public final class BenchEnv {
    private static volatile String line;

    private BenchEnv() {
    }

    /** The name of an ISA code of {@link NativeKernels} (0 baseline, 1 avx2, 2 avx512). */
    public static String isaName(int code) {
        return Isa.fromCode(code).id();
    }

    /**
     * Loads the native backend (fails loudly if it cannot: the tables compare the native
     * kernels) and prints the environment line once per JVM. Returns that line.
     */
    public static String ensure() {
        String l = line;
        if (l == null) {
            synchronized (BenchEnv.class) {
                if (line == null) {
                    Backends.byName("native"); // throws with the reason when the backend is unavailable
                    line = describe();
                    System.out.println(line);
                    System.out.flush();
                }
                l = line;
            }
        }
        return l;
    }

    private static String describe() {
        String requested = System.getProperty(NativeBackend.ISA_PROPERTY);
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
                + " openblas_core=" + NativeBackend.blasCore().replace(' ', '_')
                + " openblas_pool_spin=2^" + NativeBackend.blasPoolSpin()
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

    /** Prints the environment line (same flags as a benchmark JVM: -Drnn4j.threads, -Drnn4j.isa). */
    public static void main(String[] args) {
        ensure();
    }
}
