package org.rnn4j.examples;

import java.util.Arrays;
import org.rnn4j.Device;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.backend.Backends;

/** Exercises the tensor core on the default backend and prints what it did (ASCII only, so any locale shows it). */
public final class TensorTour {
    private TensorTour() {
    }

    public static void main(String[] args) {
        System.out.println("backend: " + Backends.selectionReport(Device.CPU) + " (force one with -Drnn4j.backend=reference|native)");
        Generator gen = new Generator(0);
        long before = Memory.bytesInUse();
        try (Scope scope = Scope.open()) {
            Tensor a = Tensor.randn(gen, 256, 512);
            Tensor b = Tensor.randn(gen, 512, 128);
            long t0 = System.nanoTime();
            Tensor c = a.matmul(b);
            long t1 = System.nanoTime();
            System.out.printf("matmul (256x512) x (512x128) -> %s in %.2f ms%n", Arrays.toString(c.shape()), (t1 - t0) / 1e6);
            Tensor act = c.tanh().mul(0.5f).add(Tensor.arange(128));
            System.out.printf("tanh * 0.5 + arange(128) broadcast: mean %.4f, max %.4f%n", act.mean().item(), act.max().item());
            Tensor probs = c.softmax(1);
            System.out.printf("softmax rows sum to %.6f (first row)%n", probs.select(0, 0).sum().item());
            Tensor view = c.transpose(0, 1).narrow(0, 0, 4);
            System.out.printf("transpose+narrow view %s, contiguous=%b; copy contiguous=%b%n",
                    Arrays.toString(view.shape()), view.isContiguous(), view.contiguous().isContiguous());
            System.out.printf("argmax of row 0: %d%n", (int) c.select(0, 0).argmax(0, false).item());
            System.out.printf("off-heap memory in use inside the scope: %,d bytes%n", Memory.bytesInUse() - before);
        }
        System.out.printf("after the scope closed: %,d bytes%n", Memory.bytesInUse() - before);
    }
}
