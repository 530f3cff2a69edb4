package org.rnn4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.nn.GRUCell;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.Linear;

/** Tensors on two devices: every mix is refused with a message naming both, before any kernel. */
class MixedDeviceTest {

    private static void assertMixRefused(Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("cpu"), e.getMessage());
    }

    @Test
    void mixingDevicesIsAClearErrorNotAKernelCall() {
        try (Backends.Override o = Backends.use(new FakeDeviceBackend()); Scope s = Scope.open()) {
            Tensor cpu = Tensor.ones(2, 3);
            Tensor dev = cpu.to(FakeDeviceBackend.DEVICE);
            assertEquals(FakeDeviceBackend.DEVICE, dev.device());
            assertArrayEquals(cpu.toArray(), dev.toArray());
            assertArrayEquals(cpu.toArray(), dev.to(org.rnn4j.Device.CPU).toArray());

            assertMixRefused(() -> cpu.add(dev));
            assertMixRefused(() -> cpu.mul(dev));
            assertMixRefused(() -> cpu.matmul(dev.t()));
            assertMixRefused(() -> Tensor.concat(List.of(cpu, dev), 0));
            assertMixRefused(() -> cpu.copyFrom(dev));
            assertMixRefused(() -> cpu.addInPlace(dev, 1f));
            assertMixRefused(() -> Tensor.where(cpu, dev, cpu));
            try (Linear lin = new Linear(3, 2)) {
                assertMixRefused(() -> lin.forward(dev));
            }
            try (LSTM lstm = LSTM.builder().inputSize(3).hiddenSize(4).build()) {
                Tensor x = Tensor.ones(5, 2, 3);
                assertMixRefused(() -> lstm.forward(x.to(FakeDeviceBackend.DEVICE)));
                assertMixRefused(() -> lstm.forward(x, Tensor.zeros(1, 2, 4).to(FakeDeviceBackend.DEVICE), null));
            }
            try (GRUCell cell = new GRUCell(3, 4)) {
                assertMixRefused(() -> cell.forward(Tensor.ones(2, 3).to(FakeDeviceBackend.DEVICE)));
                assertMixRefused(() -> cell.forward(Tensor.ones(2, 3), Tensor.zeros(2, 4).to(FakeDeviceBackend.DEVICE)));
            }
        }
    }
}
