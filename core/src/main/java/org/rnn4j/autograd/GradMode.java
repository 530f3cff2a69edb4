package org.rnn4j.autograd;

/** Whether operations record the graph, per thread (torch.no_grad / torch.enable_grad). */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {
    }

    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Disables recording until the handle is closed: {@code try (var g = GradMode.noGrad()) {...}}. */
    public static Guard noGrad() {
        return set(false);
    }

    public static Guard enableGrad() {
        return set(true);
    }

    private static Guard set(boolean on) {
        boolean[] cell = ENABLED.get();
        boolean previous = cell[0];
        cell[0] = on;
        return new Guard(previous);
    }

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
