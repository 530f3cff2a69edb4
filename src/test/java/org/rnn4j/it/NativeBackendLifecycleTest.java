package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.UnaryOp;
import org.rnn4j.nativecpu.NativeBackend;

/** Backend selection in a fresh JVM, use-after-close, and memory returned after many native ops. */
class NativeBackendLifecycleTest {

    /** Entry point of the child JVM: prints the default CPU backend's name. */
    public static final class Probe {
        public static void main(String[] args) {
            try (Tensor t = Tensor.of(1f, 2f, 3f).exp()) {
                System.out.println("backend=" + Backends.cpu().name() + " sum=" + t.sum().item());
            }
        }
    }

    private static String runProbe(String... jvmArgs) throws Exception {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        if (Runtime.version().feature() >= 22) {
            cmd.add("--enable-native-access=ALL-UNNAMED");
        }
        cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir",
                System.getProperty("java.io.tmpdir") + "/rnn4j-javacpp-cache"));
        cmd.addAll(List.of(jvmArgs));
        cmd.add("-cp");
        cmd.add(cp);
        cmd.add(Probe.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove(Backends.ENV);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM timed out: " + out);
        assertEquals(0, p.exitValue(), "child JVM failed: " + out);
        return out;
    }

    @Test
    void freshJvmPicksNative() throws Exception {
        String out = runProbe();
        assertTrue(out.contains("backend=native"), out);
        assertTrue(out.contains("sum=30.19"), out);
    }

    @Test
    void propertyForcesReference() throws Exception {
        String out = runProbe("-D" + Backends.PROPERTY + "=reference");
        assertTrue(out.contains("backend=reference"), out);
    }

    @Test
    void closedTensorIsRejectedBeforeNativeCode() {
        Backend nat = Backends.byName("native");
        try (var o = Backends.use(nat)) {
            Tensor a = Tensor.randn(new Generator(1), 4, 4);
            Tensor b = Tensor.randn(new Generator(2), 4, 4);
            a.close();
            assertThrows(IllegalStateException.class, () -> a.add(b));
            assertThrows(IllegalStateException.class, () -> b.matmul(a));
            assertThrows(IllegalStateException.class, a::exp);
            // a direct backend call with a closed tensor fails cleanly too (Tensor.storage() refuses it)
            Tensor out = Tensor.zeros(4, 4);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Direct.on(nat).unary(UnaryOp.EXP, out, a));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            // and NativeBackend's own check on raw storages: gemm takes Storage, not Tensor
            Tensor dead = Tensor.zeros(4, 4);
            var deadStorage = dead.storage();
            dead.close();
            e = assertThrows(IllegalStateException.class, () -> Direct.on(nat).gemm(false, false, 4, 4, 4, 1f, deadStorage, 0, 4, 0,
                    b.storage(), 0, 4, 0, 0f, out.storage(), 0, 4, 0, 1));
            assertTrue(e.getMessage().contains("freed"), e.getMessage());
            b.close();
            out.close();
        }
    }

    @Test
    void threadsSetting() {
        assertTrue(NativeBackend.blasThreads() >= 1);
    }

    @Test
    void noLeakAfterManyScopedOps() {
        Backend nat = Backends.byName("native");
        try (var o = Backends.use(nat)) {
            Generator g = new Generator(3);
            Tensor w = Tensor.randn(g, 8, 8);
            long start = Memory.bytesInUse();
            for (int i = 0; i < 20_000; i++) {
                try (Scope s = Scope.open()) {
                    Tensor x = Tensor.randn(g, 2, 8);           // 1 tensor
                    Tensor y = x.matmul(w).tanh();              // 2
                    Tensor z = y.add(x).mul(0.5f);              // 2
                    Direct.on(nat).binaryScalar(BinaryOp.MAX, z, z, 0f);   // in place
                    z.softmax(1).sum();                         // 2
                }
            }
            assertEquals(start, Memory.bytesInUse(), "bytes in use after 10^5 scoped tensors");
            w.close();
        }
    }
}
