package org.rnn4j.benchmarks;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.rnn4j.Generator;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.HostStorage;
import org.rnn4j.backend.View;

/**
 * C (M, N) = A (M, K) * B (K, N), float32 row-major: the rnn4j native backend (Backend.gemm,
 * one JNI call into our gemm, which goes to cblas_sgemm or the small-M kernel) against bytedeco's
 * OpenBLAS cblas_sgemm called directly on the same buffers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GemmBenchmark {
    /** "M,N,K": square 256 and 1024, skinny M = 32/64 (N 2048, K 512), the M = 1 recurrent step. */
    @Param({"256,256,256", "1024,1024,1024", "32,2048,512", "64,2048,512", "1,1024,256"})
    public String mnk;

    private int m;
    private int n;
    private int k;
    private Backend backend;
    private Tensor a;
    private Tensor b;
    private Tensor c;
    private FloatPointer pa;
    private FloatPointer pb;
    private FloatPointer pc;

    private View va;
    private View vb;
    private View vc;

    @Setup
    public void setup() {
        BenchEnv.ensure();
        String[] p = mnk.split(",");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        backend = Backends.byName("native");
        Generator g = new Generator(42);
        a = Tensor.randn(g, m, k);
        b = Tensor.randn(g, k, n);
        c = Tensor.zeros(m, n);
        // views made once: the tensors stay open for the benchmark's life (no pinning per call)
        va = View.contiguous(a.storage(), 0, m, k);
        vb = View.contiguous(b.storage(), 0, k, n);
        vc = View.contiguous(c.storage(), 0, m, n);
        // the same memory, seen as JavaCPP pointers for the direct OpenBLAS call
        pa = new FloatPointer(((HostStorage) a.storage()).buffer());
        pb = new FloatPointer(((HostStorage) b.storage()).buffer());
        pc = new FloatPointer(((HostStorage) c.storage()).buffer());
    }

    @TearDown
    public void tearDown() {
        a.close();
        b.close();
        c.close();
    }

    @Benchmark
    public void rnn4j() {
        backend.gemm(false, false, m, n, k, 1f, va, k, 0, vb, n, 0, 0f, vc, n, 0, 1);
    }

    @Benchmark
    public void openblasDirect() {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, m, n, k, 1f, pa, k, pb, n, 0f, pc, n);
    }
}
