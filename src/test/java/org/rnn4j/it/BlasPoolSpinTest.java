package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.OperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.nativecpu.NativeBackend;

/**
 * The native backend restarts OpenBLAS's thread pool at load so that its threads sleep a few
 * microseconds after a threaded call instead of spinning for about 0.1 s beside rnn4j's step
 * worker (blas_count.h): the setting is in force, a threaded GEMM after the restart is still
 * right, and after one the process goes quiet.
 */
class BlasPoolSpinTest {

    private static final String ENV = "OPENBLAS_THREAD_TIMEOUT";

    @BeforeEach
    void nativeLoaded() {
        CpuBackends.assumeNative();
    }

    private static boolean userSetsIt() {
        return CpuBackends.envSet(ENV);
    }

    @Test
    void spinIsOursUnlessTheEnvironmentSetsIt() {
        int expected = userSetsIt() ? Integer.parseInt(System.getenv(ENV).trim()) : 14;
        assertEquals(expected, NativeBackend.blasPoolSpin(), "OpenBLAS pool spin (log2 ticks)");
    }

    /** (M, K) x (K, N) against a double-precision loop, big enough for OpenBLAS to use its pool. */
    @Test
    void threadedGemmAfterTheRestartIsRight() {
        int m = 384, k = 320, n = 288;
        try (Scope s = Scope.open()) {
            Generator g = new Generator(7);
            Tensor a = Tensor.randn(g, m, k);
            Tensor b = Tensor.randn(g, k, n);
            float[] c = a.matmul(b).toArray();
            float[] av = a.toArray();
            float[] bv = b.toArray();
            for (int i = 0; i < m; i += 7) {
                for (int j = 0; j < n; j += 5) {
                    double want = 0;
                    for (int q = 0; q < k; q++) {
                        want += (double) av[i * k + q] * bv[q * n + j];
                    }
                    assertEquals(want, c[i * n + j], 1e-4 * Math.sqrt(k) + 1e-5 * Math.abs(want), "C[" + i + "][" + j + "]");
                }
            }
        }
    }

    /**
     * After a threaded GEMM the process burns next to no CPU while it waits: with OpenBLAS's
     * default (2^28 ticks) its pool thread spins on for about 0.1 s (75-100 ms of CPU in this
     * window at 2.6-3.5 GHz); with 2^14 ticks it sleeps after a few microseconds.
     */
    @Test
    void poolSleepsSoonAfterACall() throws InterruptedException {
        assumeTrue(!userSetsIt(), () -> ENV + " is set: the pool spins as the environment says");
        assumeTrue(NativeBackend.blasThreads() > 1, "OpenBLAS runs one thread: no pool");
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (Scope s = Scope.open()) {
            Generator g = new Generator(8);
            Tensor a = Tensor.randn(g, 512, 512);
            long best = Long.MAX_VALUE;
            for (int round = 0; round < 5; round++) {   // the least of several windows: JIT and GC threads also run
                a.matmul(a).toArray();
                long cpu0 = os.getProcessCpuTime();
                Thread.sleep(150);
                best = Math.min(best, os.getProcessCpuTime() - cpu0);
            }
            assertTrue(best < 40_000_000L, "process CPU time in 150 ms of waiting after a threaded GEMM: "
                    + best / 1_000_000.0 + " ms (a spinning OpenBLAS pool burns 75-100 ms)");
        }
    }
}
