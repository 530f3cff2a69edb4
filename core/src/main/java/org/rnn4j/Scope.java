package org.rnn4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Frees, when closed, every tensor created on this thread while it was the innermost open scope,
 * except the ones handed to {@link #keep}: those move to the enclosing scope (or to no scope,
 * where the caller owns them).
 *
 * <pre>{@code
 * Tensor result;
 * try (Scope scope = Scope.open()) {
 *     Tensor t = a.matmul(b).tanh();   // intermediates die with the scope
 *     result = scope.keep(t.sum());
 * }
 * }</pre>
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<Scope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<Tensor> owned = new ArrayList<>();
    private final Set<Tensor> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Thread thread = Thread.currentThread();
    private boolean closed;
    private boolean unscoped;

    private Scope() {
    }

    /** Opens a scope on this thread; it is the innermost until closed or until a nested one opens. */
    public static Scope open() {
        Scope s = new Scope();
        STACK.get().push(s);
        return s;
    }

    /** Called by Tensor for every tensor it creates. */
    static void register(Tensor t) {
        Scope s = STACK.get().peek();
        if (s != null && !s.unscoped) {
            s.owned.add(t);
        }
    }

    /**
     * Runs {@code body} so that the tensors it creates belong to no scope: the caller owns them
     * (used for state that outlives a step, such as gradients and optimizer buffers).
     */
    public static void runUnscoped(Runnable body) {
        Scope marker = new Scope();
        marker.unscoped = true;
        ArrayDeque<Scope> stack = STACK.get();
        stack.push(marker);
        try {
            body.run();
        } finally {
            stack.remove(marker);
        }
    }

    /** Keeps {@code t} alive past this scope; returns it for chaining. */
    public <T extends Tensor> T keep(T t) {
        if (closed) {
            throw new IllegalStateException("scope already closed");
        }
        kept.add(t);
        return t;
    }

    /** Number of tensors this scope will free, for diagnostics. */
    public int size() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        if (Thread.currentThread() != thread) {
            throw new IllegalStateException("a scope must be closed by the thread that opened it");
        }
        ArrayDeque<Scope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("scopes must be closed innermost first");
        }
        stack.pop();
        closed = true;
        Scope parent = stack.peek();
        if (parent != null && parent.unscoped) {
            parent = null;
        }
        for (Tensor t : owned) {
            if (kept.contains(t)) {
                if (parent != null) {
                    parent.owned.add(t);
                }
            } else {
                t.close();
            }
        }
        owned.clear();
        kept.clear();
    }
}
