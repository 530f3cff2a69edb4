package org.rnn4j;

import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.BinaryOp;

/** In-place operations: not recorded, and refused on tensors that need grad while recording. */
final class InPlace {
    private InPlace() {
    }

    private static void checkInPlace(Tensor self, String op) {
        self.ensureOpen(op);
        if (self.requiresGrad() && GradMode.isEnabled()) {
            throw new IllegalStateException(op + ": in-place operation on a tensor that requires grad; use GradMode.noGrad()");
        }
    }

    static Tensor copyFrom(Tensor self, Tensor src) {
        checkInPlace(self, "copy_");
        src.ensureOpen("copy_");
        self.requireSameDevice("copy_", "src", src);
        Tensor s = src.broadcastTo("copy_", "src", self.shapeRef());
        if (self.numel() > 0) {
            Kernels.copy(self, s);
        }
        return self;
    }

    static Tensor fill(Tensor self, float value) {
        checkInPlace(self, "fill_");
        if (self.numel() > 0) {
            Kernels.fill(self, value);
        }
        return self;
    }

    static Tensor zero(Tensor self) {
        return fill(self, 0f);
    }

    static Tensor addInPlace(Tensor self, Tensor other, float alpha) {
        checkInPlace(self, "add_");
        self.requireSameDevice("add_", "other", other);
        requireContiguous("add_", "self", self);
        Tensor o = other.broadcastTo("add_", "other", self.shapeRef());
        if (self.numel() > 0) {
            Kernels.addScaled(self, self, o, alpha);
        }
        return self;
    }

    static Tensor mulInPlace(Tensor self, float value) {
        checkInPlace(self, "mul_");
        requireContiguous("mul_", "self", self);
        if (self.numel() > 0) {
            Kernels.binaryScalar(BinaryOp.MUL, self, self, value);
        }
        return self;
    }

    private static void requireContiguous(String op, String arg, Tensor t) {
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(op + ": argument '" + arg + "' must be contiguous");
        }
    }
}
