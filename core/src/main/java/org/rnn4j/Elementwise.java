package org.rnn4j;

import static org.rnn4j.Shapes.broadcastShapes;
import static org.rnn4j.Shapes.numel;
import static org.rnn4j.Tensor.record;
import static org.rnn4j.Tensor.zeros;
import static org.rnn4j.Views.sumTo;

import java.util.function.Function;
import org.rnn4j.backend.BinaryOp;
import org.rnn4j.backend.UnaryOp;

/** Elementwise operations (unary, with a scalar, binary with broadcasting, where, clamp), each with its backward. */
final class Elementwise {
    private Elementwise() {
    }

    private static Tensor unaryOp(Tensor self, UnaryOp op, String name, Function<Tensor, Tensor> derivative) {
        self.ensureOpen(name);
        Tensor out = zeros(self.device(), self.shapeRef());
        if (self.numel() > 0) {
            Kernels.unary(op, out, self);
        }
        return record(out, name, g -> new Tensor[] {g.mul(derivative.apply(out))}, self);
    }

    private static Tensor unaryNoGrad(Tensor self, UnaryOp op, String name) {
        self.ensureOpen(name);
        Tensor out = zeros(self.device(), self.shapeRef());
        if (self.numel() > 0) {
            Kernels.unary(op, out, self);
        }
        return out;
    }

    static Tensor neg(Tensor self) {
        self.ensureOpen("neg");
        Tensor out = unaryNoGrad(self, UnaryOp.NEG, "neg");
        return record(out, "Neg", g -> new Tensor[] {g.neg()}, self);
    }

    static Tensor exp(Tensor self) {
        return unaryOp(self, UnaryOp.EXP, "exp", y -> y);
    }

    static Tensor log(Tensor self) {
        Tensor out = unaryNoGrad(self, UnaryOp.LOG, "log");
        return record(out, "Log", g -> new Tensor[] {g.div(self)}, self);
    }

    static Tensor tanh(Tensor self) {
        return unaryOp(self, UnaryOp.TANH, "tanh", y -> y.mul(y).rsub(1f));
    }

    static Tensor sigmoid(Tensor self) {
        return unaryOp(self, UnaryOp.SIGMOID, "sigmoid", y -> y.mul(y.rsub(1f)));
    }

    static Tensor relu(Tensor self) {
        return unaryOp(self, UnaryOp.RELU, "relu", y -> unaryNoGrad(y, UnaryOp.STEP, "relu"));
    }

    static Tensor sqrt(Tensor self) {
        return unaryOp(self, UnaryOp.SQRT, "sqrt", y -> unaryNoGrad(y.mul(2f), UnaryOp.RECIPROCAL, "sqrt"));
    }

    static Tensor abs(Tensor self) {
        Tensor out = unaryNoGrad(self, UnaryOp.ABS, "abs");
        return record(out, "Abs", g -> new Tensor[] {g.mul(unaryNoGrad(self, UnaryOp.SIGN, "abs"))}, self);
    }

    static Tensor square(Tensor self) {
        Tensor out = unaryNoGrad(self, UnaryOp.SQUARE, "square");
        return record(out, "Square", g -> new Tensor[] {g.mul(self).mul(2f)}, self);
    }

    static Tensor sign(Tensor self) {
        return unaryNoGrad(self, UnaryOp.SIGN, "sign");
    }

    static Tensor pow(Tensor self, float p) {
        Tensor out = scalarOp(self, BinaryOp.POW, p, "pow");
        return record(out, "Pow", g -> new Tensor[] {g.mul(scalarOp(self, BinaryOp.POW, p - 1, "pow")).mul(p)}, self);
    }

    private static Tensor scalarOp(Tensor self, BinaryOp op, float s, String name) {
        self.ensureOpen(name);
        Tensor out = zeros(self.device(), self.shapeRef());
        if (self.numel() > 0) {
            Kernels.binaryScalar(op, out, self, s);
        }
        return out;
    }

    static Tensor add(Tensor self, float s) {
        Tensor out = scalarOp(self, BinaryOp.ADD, s, "add");
        return record(out, "AddScalar", g -> new Tensor[] {g}, self);
    }

    static Tensor sub(Tensor self, float s) {
        return add(self, -s);
    }

    static Tensor rsub(Tensor self, float s) {
        Tensor out = scalarOp(self, BinaryOp.RSUB, s, "rsub");
        return record(out, "RSub", g -> new Tensor[] {g.neg()}, self);
    }

    static Tensor mul(Tensor self, float s) {
        Tensor out = scalarOp(self, BinaryOp.MUL, s, "mul");
        return record(out, "MulScalar", g -> new Tensor[] {g.mul(s)}, self);
    }

    static Tensor div(Tensor self, float s) {
        return mul(self, 1f / s);
    }

    static Tensor gt(Tensor self, float s) {
        return scalarOp(self, BinaryOp.GT, s, "gt");
    }

    static Tensor lt(Tensor self, float s) {
        return scalarOp(self, BinaryOp.LT, s, "lt");
    }

    static Tensor eq(Tensor self, float s) {
        return scalarOp(self, BinaryOp.EQ, s, "eq");
    }

    static Tensor clamp(Tensor self, float lo, float hi) {
        Tensor lower = scalarOp(self, BinaryOp.MAX, lo, "clamp");
        Tensor out = scalarOp(lower, BinaryOp.MIN, hi, "clamp");
        lower.close();
        return record(out, "Clamp", g -> {
            Tensor mask = scalarOp(self, BinaryOp.GE, lo, "clamp").mul(scalarOp(self, BinaryOp.LE, hi, "clamp"));
            return new Tensor[] {g.mul(mask)};
        }, self);
    }

    private static Tensor binaryOp(Tensor self, BinaryOp op, Tensor other, String name) {
        self.ensureOpen(name);
        other.ensureOpen(name);
        self.requireSameDevice(name, "other", other);
        int[] s = broadcastShapes(name, self.shapeRef(), other.shapeRef());
        Tensor out = zeros(self.device(), s);
        if (numel(s) > 0) {
            Kernels.binary(op, out, self.broadcastTo(name, "self", s), other.broadcastTo(name, "other", s));
        }
        return out;
    }

    static Tensor add(Tensor self, Tensor other) {
        Tensor out = binaryOp(self, BinaryOp.ADD, other, "add");
        int[] sa = self.shapeRef().clone();
        int[] sb = other.shapeRef().clone();
        return record(out, "Add", g -> new Tensor[] {sumTo(g, sa), sumTo(g, sb)}, self, other);
    }

    static Tensor sub(Tensor self, Tensor other) {
        Tensor out = binaryOp(self, BinaryOp.SUB, other, "sub");
        int[] sa = self.shapeRef().clone();
        int[] sb = other.shapeRef().clone();
        return record(out, "Sub", g -> new Tensor[] {sumTo(g, sa), sumTo(g.neg(), sb)}, self, other);
    }

    static Tensor mul(Tensor self, Tensor other) {
        Tensor out = binaryOp(self, BinaryOp.MUL, other, "mul");
        return record(out, "Mul", g -> new Tensor[] {
            self.requiresGrad() ? sumTo(g.mul(other), self.shapeRef()) : null,
            other.requiresGrad() ? sumTo(g.mul(self), other.shapeRef()) : null}, self, other);
    }

    static Tensor div(Tensor self, Tensor other) {
        Tensor out = binaryOp(self, BinaryOp.DIV, other, "div");
        return record(out, "Div", g -> new Tensor[] {
            self.requiresGrad() ? sumTo(g.div(other), self.shapeRef()) : null,
            other.requiresGrad() ? sumTo(g.mul(out).div(other).neg(), other.shapeRef()) : null}, self, other);
    }

    static Tensor maximum(Tensor self, Tensor other) {
        Tensor out = binaryOp(self, BinaryOp.MAX, other, "maximum");
        return record(out, "Maximum", g -> {
            Tensor mask = binaryOp(self, BinaryOp.GE, other, "maximum");
            return new Tensor[] {sumTo(g.mul(mask), self.shapeRef()), sumTo(g.mul(mask.rsub(1f)), other.shapeRef())};
        }, self, other);
    }

    static Tensor minimum(Tensor self, Tensor other) {
        Tensor out = binaryOp(self, BinaryOp.MIN, other, "minimum");
        return record(out, "Minimum", g -> {
            Tensor mask = binaryOp(self, BinaryOp.LE, other, "minimum");
            return new Tensor[] {sumTo(g.mul(mask), self.shapeRef()), sumTo(g.mul(mask.rsub(1f)), other.shapeRef())};
        }, self, other);
    }

    static Tensor gt(Tensor self, Tensor other) {
        return binaryOp(self, BinaryOp.GT, other, "gt");
    }

    static Tensor lt(Tensor self, Tensor other) {
        return binaryOp(self, BinaryOp.LT, other, "lt");
    }

    static Tensor eq(Tensor self, Tensor other) {
        return binaryOp(self, BinaryOp.EQ, other, "eq");
    }

    static Tensor where(Tensor cond, Tensor a, Tensor b) {
        cond.ensureOpen("where");
        a.ensureOpen("where");
        b.ensureOpen("where");
        a.requireSameDevice("where", "b", b);
        a.requireSameDevice("where", "cond", cond);
        int[] s = broadcastShapes("where", broadcastShapes("where", cond.shapeRef(), a.shapeRef()), b.shapeRef());
        Tensor out = zeros(a.device(), s);
        if (numel(s) > 0) {
            Kernels.where(out, cond.broadcastTo("where", "cond", s), a.broadcastTo("where", "a", s),
                    b.broadcastTo("where", "b", s));
        }
        return record(out, "Where", g -> {
            Tensor zero = zeros(g.device(), g.shapeRef());
            return new Tensor[] {null, sumTo(where(cond, g, zero), a.shapeRef()), sumTo(where(cond, zero, g), b.shapeRef())};
        }, cond, a, b);
    }
}
