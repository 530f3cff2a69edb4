package org.rnn4j.it;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.Device;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;

/** The CPU backends a parity test runs on: the reference oracle and every available native one. */
final class CpuBackends {
    private CpuBackends() {
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
