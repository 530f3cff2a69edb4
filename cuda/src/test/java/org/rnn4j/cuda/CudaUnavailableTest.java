package org.rnn4j.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.rnn4j.Device;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.ReferenceBackend;
import org.rnn4j.backend.Storage;
import org.rnn4j.backend.View;
import org.junit.jupiter.api.Test;

/** What a user sees without a GPU, and wrong-device inputs (checked before any CUDA call, so these run everywhere). */
class CudaUnavailableTest {
    static CudaBackend cuda() {
        for (Backend b : Backends.all()) {
            if (b instanceof CudaBackend c) {
                return c;
            }
        }
        throw new AssertionError("CudaBackend not found by ServiceLoader; found " + Backends.all());
    }

    @Test
    void foundByServiceLoaderForCudaOnly() {
        CudaBackend c = cuda();
        assertTrue(c.device().type() == Device.Type.CUDA);
        assertFalse(Backends.cpu() instanceof CudaBackend, "never chosen for CPU tensors");
        assertTrue(Tensor.ones(3).backend().device().equals(Device.CPU));
    }

    @Test
    void withoutADeviceTheReasonIsCachedAndNamedInTheError() {
        CudaBackend c = cuda();
        assumeFalse(c.isAvailable(), "a CUDA device is present: nothing to check here");
        String reason = c.unavailableReason();
        assertFalse(reason.isBlank());
        assertTrue(reason == c.unavailableReason() || reason.equals(c.unavailableReason()), "probed once");
        System.out.println("cuda unavailable here: " + reason);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tensor.ones(2, 3).to(Device.cuda(0)));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains(reason), e.getMessage());
        IllegalStateException z = assertThrows(IllegalStateException.class, () -> Tensor.zeros(Device.cuda(0), 4));
        assertTrue(z.getMessage().contains(reason), z.getMessage());
        assertTrue(reason.contains("libcuda.so.1") && reason.contains("cuda/README.md"), reason);
        IllegalStateException d = assertThrows(IllegalStateException.class, () -> c.allocate(4));
        assertTrue(d.getMessage().contains("not available") && d.getMessage().contains(reason), d.getMessage());
        assertTrue(c.description().contains("unavailable"), c.description());
    }

    @Test
    void cpuViewsAreRefusedNamingTheArgumentAndDevice() {
        CudaBackend c = cuda();
        Storage s = ReferenceBackend.INSTANCE.allocate(6);
        View v = View.contiguous(s, 0, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.binary(BinaryOp.ADD, v, v, v));
        assertTrue(e.getMessage().contains("'out'") && e.getMessage().contains("cpu") && e.getMessage().contains("cuda:0"),
                e.getMessage());
        IllegalArgumentException f = assertThrows(IllegalArgumentException.class, () -> c.fill(v, 1f));
        assertTrue(f.getMessage().contains("fill: argument 'out' is on cpu"), f.getMessage());
        IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                () -> c.gemm(false, false, 2, 2, 3, 1f, v, 3, 0, View.contiguous(s, 0, 3, 2), 2, 0, 0f,
                        View.contiguous(ReferenceBackend.INSTANCE.allocate(4), 0, 2, 2), 2, 0, 1));
        assertTrue(g.getMessage().contains("gemm: argument 'a' is on cpu"), g.getMessage());
    }
}
