package org.rnn4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.rnn4j.nativecpu.NativeKernels;

/**
 * The register-only multiply-add peak of each ISA path (rnn4j/peak.h: independent accumulators,
 * no memory traffic), on one thread and on two: the roof that the recurrent tables' GFLOP/s are
 * read against ({@code compare_rnn.py --peak}).
 *
 * <p>Throughput mode, one operation = one loop iteration ({@link OperationsPerInvocation}), so the
 * primary score is iterations per nanosecond summed over the benchmark's threads; the secondary
 * metric {@code gflops} is the same rate in FLOPs ({@link NativeKernels#fma_peak_flops} per
 * iteration) per nanosecond, i.e. GFLOP/s, also summed over threads.
 * {@code benchmarks/fma_peak.py target/jmh-peak.json} prints them as a table.
 *
 * <p>{@code isa}: 2 avx512, 1 avx2, 0 baseline. A path above what the CPU has
 * ({@link NativeKernels#isa_detect}) fails its trial in {@code @Setup} with a message (JMH goes on
 * with the next one), since the kernel would silently run the lower path.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar FmaPeak -rf json -rff benchmarks/target/jmh-peak.json
 * /usr/bin/python3 benchmarks/fma_peak.py benchmarks/target/jmh-peak.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class FmaPeakBenchmark {
    /** Loop iterations per call: about 5 ms on one Zen 4 core for every path. */
    static final int ITERS = 1 << 20;

    @Param({"2", "1", "0"})
    public int isa;

    long flopsPerIter;

    @Setup(Level.Trial)
    public void setup() {
        BenchEnv.ensure();
        int best = NativeKernels.isa_detect();
        if (isa > best) {
            throw new IllegalStateException("FmaPeakBenchmark: path " + BenchEnv.isaName(isa)
                    + " is not supported by this CPU (best: " + BenchEnv.isaName(best) + "); skipped");
        }
        flopsPerIter = NativeKernels.fma_peak_flops(isa);
    }

    /** FLOPs done by one thread, reported by JMH as a rate (FLOPs per ns = GFLOP/s), summed over threads. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public long gflops;

        @Setup(Level.Iteration)
        public void reset() {
            gflops = 0;
        }
    }

    private float run(Flops f) {
        float r = NativeKernels.fma_peak(isa, ITERS);
        f.gflops += flopsPerIter * ITERS;
        return r;
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(ITERS)
    public void oneThread(Flops f, Blackhole bh) {
        bh.consume(run(f));
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(ITERS)
    public void twoThreads(Flops f, Blackhole bh) {
        bh.consume(run(f));
    }
}
