package org.rnn4j.autograd;

/** Whether operations record the graph, per thread (torch.no_grad / torch.enable_grad). */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    /**
     * Whether operations on this thread are recorded for autograd now ({@code torch.is_grad_enabled()}); true by default.
     */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the handle is closed: {@code try (var g = GradMode.noGrad()) {...}}. */
    public static Guard noGrad() {
        return set(false);
    }

    /**
     * Enables recording until the handle is closed, also inside a {@link #noGrad()} block ({@code torch.enable_grad()}).
     */
    public static Guard enableGrad() {
        return set(true);
    }

    private static Guard set(boolean on) {
        boolean[] cell = ENABLED.get();
        boolean previous = cell[0];
        cell[0] = on;
        return new Guard(previous);
    }

    /**
     * Handle returned by {@link #noGrad()} and {@link #enableGrad()}: closing it restores the mode that was
     * in force before. Close guards in reverse order of opening, on the thread that opened them
     * (try-with-resources does both).
     */
    public static final class Guard implements AutoCloseable {
        private final boolean previous;

        private Guard(boolean previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            ENABLED.get()[0] = previous;
        }
    }
}
