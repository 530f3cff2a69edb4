package org.rnn4j.backend;

import java.util.function.ToIntFunction;

/**
 * The kernel ABI as Java sees it: every code and slot number a native backend's library must
 * agree on, spelled in the format of the shared header {@code abi.h}'s {@code abi_descriptor()}:
 * {@code "abi:1;cell:RNN_TANH=0,...;unary:...;binary:...;reduce:...;optim:...;rnn_slot:...;rnn_dim:...;rnn_status:...;"}.
 * A native backend compares its library's string with {@link #descriptor()} when it loads
 * ({@link #check}), so a library built from other sources fails loudly instead of running a
 * kernel with another meaning.
 */
public final class Abi {
    /** Bumped on any change of the argument blocks that the lists below do not show. */
    public static final int VERSION = 1;

    private static final String DESCRIPTOR = build();

    private Abi() {
    }

    /** This build's descriptor. */
    public static String descriptor() {
        return DESCRIPTOR;
    }

    /**
     * Throws unless {@code nativeDescriptor} equals {@link #descriptor()}; the message names the
     * library, the first entry that differs, and what each side says.
     *
     * @throws IllegalStateException on any difference (null counts as one)
     */
    public static void check(String library, String nativeDescriptor) {
        if (DESCRIPTOR.equals(nativeDescriptor)) {
            return;
        }
        String[] j = DESCRIPTOR.split(";");
        String[] n = nativeDescriptor == null ? new String[0] : nativeDescriptor.split(";");
        String diff = "";
        for (int i = 0; i < Math.max(j.length, n.length); i++) {
            String a = i < j.length ? j[i] : "(nothing)";
            String b = i < n.length ? n[i] : "(nothing)";
            if (!a.equals(b)) {
                diff = "first difference: Java has '" + a + "', the library has '" + b + "'";
                break;
            }
        }
        throw new IllegalStateException("native library " + library + " was built for another kernel ABI than these"
                + " classes (rebuild native/ from the same sources): " + diff);
    }

    private static String build() {
        StringBuilder sb = new StringBuilder("abi:").append(VERSION).append(';');
        section(sb, "cell", CellKind.values(), CellKind::code);
        section(sb, "unary", UnaryOp.values(), UnaryOp::code);
        section(sb, "binary", BinaryOp.values(), BinaryOp::code);
        section(sb, "reduce", ReduceOp.values(), ReduceOp::code);
        section(sb, "optim", OptimizerStep.Kind.values(), OptimizerStep.Kind::code);
        section(sb, "rnn_slot", RnnBuffer.values(), RnnBuffer::code);
        section(sb, "rnn_dim", RnnDim.values(), RnnDim::code);
        sb.append("rnn_status:OK=0,OUT_OF_MEMORY=1,INTERRUPTED=2;");
        return sb.toString();
    }

    private static <E extends Enum<E>> void section(StringBuilder sb, String name, E[] values, ToIntFunction<E> code) {
        sb.append(name).append(':');
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ",").append(values[i].name()).append('=').append(code.applyAsInt(values[i]));
        }
        sb.append(';');
    }
}
