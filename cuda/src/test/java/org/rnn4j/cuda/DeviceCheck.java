package org.rnn4j.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.CellKind;
import org.rnn4j.backend.RnnBuffer;
import org.rnn4j.backend.RnnLayerArgs;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.View;

/**
 * What cuda/device-check.sh runs on a GPU machine (no Maven there): the org.rnn4j.cuda tests
 * through the JUnit launcher, then a short CPU-vs-GPU benchmark. Exit status 0 only when the
 * backend is available and no test failed or was skipped.
 */
public final class DeviceCheck {
    private DeviceCheck() {
    }

    public static void main(String[] args) {
        CudaBackend cuda = CudaUnavailableTest.cuda();
        System.out.println("cpu backend:  " + Backends.cpu().description());
        System.out.println("cuda backend: " + cuda.description());
        LauncherDiscoveryRequest req = LauncherDiscoveryRequestBuilder.request().selectors(selectPackage("org.rnn4j.cuda"))
                .build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(req, summary);
        PrintWriter out = new PrintWriter(System.out, true);
        summary.getSummary().printTo(out);
        summary.getSummary().printFailuresTo(out, 30);
        long failed = summary.getSummary().getTotalFailureCount();
        long skipped = summary.getSummary().getTestsSkippedCount() + summary.getSummary().getTestsAbortedCount();
        if (cuda.isAvailable() && failed == 0 && args.length > 0 && args[0].equals("--bench")) {
            bench(Backends.cpu(), cuda);
        }
        boolean ok = cuda.isAvailable() && failed == 0;
        System.out.println("DEVICE CHECK: " + (ok ? "PASS" : "FAIL") + " (failed " + failed + ", skipped or aborted "
                + skipped + ", cuda available " + cuda.isAvailable() + ")");
        System.exit(ok ? 0 : 1);
    }

    static View dense(Backend be, int rows, int cols) {
        Storage s = be.allocate((long) rows * cols);
        float[] v = new float[rows * cols];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = (r.nextFloat() * 2 - 1) * 0.1f;
        }
        View view = View.contiguous(s, 0, rows, cols);
        be.write(view, v, 0);
        return view;
    }

    static RnnLayerArgs lstm(Backend be, int steps, int batch, int in, int hid) {
        RnnLayerArgs a = new RnnLayerArgs();
        a.kind = CellKind.LSTM;
        a.batchSizes = new int[steps];
        java.util.Arrays.fill(a.batchSizes, batch);
        a.inputSize = in;
        a.hiddenSize = hid;
        for (RnnBuffer b : RnnBuffer.values()) {
            if (b.used(a, true)) {
                long cols = b.cols(a);
                a.set(b, cols < 0 ? View.contiguous(be.allocate(b.rows(a)), 0, (int) b.rows(a))
                        : dense(be, (int) b.rows(a), (int) cols));
            }
        }
        return a;
    }

    /** Milliseconds per call, best of {@code reps} after one warm-up; the last read makes the GPU finish. */
    static double time(Runnable r, Backend be, View sync, int reps) {
        r.run();
        double best = Double.MAX_VALUE;
        float[] one = new float[(int) sync.numel()];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            r.run();
            be.read(sync, one, 0);
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    static void bench(Backend cpu, Backend gpu) {
        System.out.println("benchmark (best of 3, ms per call; reads the result back each time)");
        for (int[] s : new int[][] {{512, 512, 512}, {2048, 2048, 2048}}) {
            for (Backend be : new Backend[] {cpu, gpu}) {
                View a = dense(be, s[0], s[2]);
                View b = dense(be, s[2], s[1]);
                View c = dense(be, s[0], s[1]);
                double ms = time(() -> be.gemm(false, false, s[0], s[1], s[2], 1f, a, s[2], 0, b, s[1], 0, 0f, c, s[1], 0, 1),
                        be, View.contiguous(c.storage(), 0, 1), 3);
                System.out.printf("  gemm %dx%dx%d  %-9s %9.3f ms  %8.1f GFLOP/s%n", s[0], s[1], s[2], be.name(), ms,
                        2.0 * s[0] * s[1] * s[2] / ms / 1e6);
            }
        }
        int[][] shapes = {{50, 32, 128, 128}, {100, 64, 512, 512}};
        for (int[] s : shapes) {
            for (Backend be : new Backend[] {cpu, gpu}) {
                RnnLayerArgs a = lstm(be, s[0], s[1], s[2], s[3]);
                View sync = View.contiguous(a.get(RnnBuffer.H_N).storage(), 0, 1);
                double f = time(() -> be.rnnForward(a), be, sync, 3);
                double b = time(() -> be.rnnBackward(a), be, sync, 3);
                System.out.printf("  lstm T=%d N=%d I=%d H=%d  %-9s forward %9.3f ms  backward %9.3f ms%n", s[0], s[1], s[2],
                        s[3], be.name(), f, b);
            }
        }
    }
}
