package org.rnn4j.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.Device;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.nativecpu.NativeBackend;

/** The CPU backends a parity test runs on: the reference oracle and every available native one. */
final class CpuBackends {
    private CpuBackends() {
    }

    /** Skips the calling test, with the reason, where the native backend cannot load. */
    static void assumeNative() {
        NativeBackend nb = new NativeBackend();
        assumeTrue(nb.isAvailable(), () -> "native backend unavailable: " + nb.unavailableReason());
    }

    /** Whether the environment sets {@code name} to something other than blanks. */
    static boolean envSet(String name) {
        String v = System.getenv(name);
        return v != null && !v.isBlank();
    }

    static List<Backend> available() {
        List<Backend> out = new ArrayList<>();
        for (Backend b : Backends.all()) {
            if (b.device().equals(Device.CPU) && b.isAvailable()) {
                out.add(b);
            }
        }
        return out;
    }
}
