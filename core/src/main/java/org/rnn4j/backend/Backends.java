package org.rnn4j.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import org.rnn4j.Device;

/**
 * Finds backends with {@link ServiceLoader} and picks one per device: the available backend with
 * the highest priority, unless {@code -Drnn4j.backend=NAME} (or the environment variable
 * {@code RNN4J_BACKEND=NAME}) forces one. {@link #use(Backend)} overrides the choice for the
 * current thread, which is how tests run the same code on two backends.
 */
public final class Backends {
    /** System property naming the backend to force ({@code -Drnn4j.backend=NAME}, see {@link Backend#name()}). */
    public static final String PROPERTY = "rnn4j.backend";
    /** Environment variable naming the backend to force, read when {@link #PROPERTY} is absent. */
    public static final String ENV = "RNN4J_BACKEND";

    private static volatile List<Backend> all;
    private static final ThreadLocal<Backend> OVERRIDE = new ThreadLocal<>();

    private Backends() {
    }

    /** Every backend found, available or not, best first. */
    public static synchronized List<Backend> all() {
        if (all == null) {
            List<Backend> found = new ArrayList<>();
            found.add(ReferenceBackend.INSTANCE);
            for (Backend b : ServiceLoader.load(Backend.class, Backends.class.getClassLoader())) {
                if (!(b instanceof ReferenceBackend)) {
                    found.add(b);
                }
            }
            found.sort(Comparator.comparingInt(Backend::priority).reversed());
            all = List.copyOf(found);
        }
        return all;
    }

    /** The backend with this name, or an exception listing the names there are. */
    public static Backend byName(String name) {
        return byName(name, all());
    }

    private static Backend byName(String name, List<Backend> candidates) {
        List<String> names = new ArrayList<>();
        for (Backend b : candidates) {
            if (b.name().equalsIgnoreCase(name)) {
                if (!b.isAvailable()) {
                    throw new IllegalStateException("backend '" + b.name() + "' is not available: " + b.unavailableReason());
                }
                return b;
            }
            names.add(b.name());
        }
        throw new IllegalArgumentException("backend: no backend named '" + name + "'; found " + names);
    }

    /** The backend that computes on {@code device} for the current thread. */
    public static Backend forDevice(Device device) {
        Backend o = OVERRIDE.get();
        if (o != null && o.device().type() == device.type()) {
            return o;
        }
        Backend b = defaultFor(device);
        if (!b.device().equals(device)) {
            // one backend per device type: it serves one device index (e.g. -Drnn4j.cuda.device=1)
            throw new IllegalStateException("backend '" + b.name() + "' computes on " + b.device() + ", not on " + device
                    + (device.type() == Device.Type.CUDA ? " (choose the GPU with -Drnn4j.cuda.device=" + device.index()
                    + ")" : ""));
        }
        return b;
    }

    private static final java.util.Map<Device.Type, Selection> DEFAULTS = new java.util.concurrent.ConcurrentHashMap<>();
    private static final System.Logger LOG = System.getLogger("org.rnn4j.backend");

    /** The default backend of a device and the one line that says why it is that one. */
    record Selection(Backend backend, String report, System.Logger.Level level) {
    }

    private static Backend defaultFor(Device device) {
        return selection(device).backend();
    }

    private static Selection selection(Device device) {
        return DEFAULTS.computeIfAbsent(device.type(), t -> choose(device));
    }

    private static Selection choose(Device device) {
        Selection s = select(device, all(), forcedName());
        LOG.log(s.level(), "rnn4j backend for {0}: {1}", device, s.report());
        return s;
    }

    /**
     * The default backend of {@code device} in one line, as logged (once, through
     * {@link System#getLogger System.Logger} "org.rnn4j.backend") when it was chosen: its
     * {@link Backend#description()} followed, in parentheses, by why a better one is not used:
     * forced with {@code -Drnn4j.backend}, a better backend that failed to load and its reason
     * (for example the native library's {@code UnsatisfiedLinkError}), or no native backend on
     * the class path. Chooses the backend if that has not happened yet.
     */
    public static String selectionReport(Device device) {
        return selection(device).report();
    }

    private static String forcedName() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null && !forced.isBlank()) {
            return "-D" + PROPERTY + "=" + forced.trim();
        }
        forced = System.getenv(ENV);
        return forced == null || forced.isBlank() ? null : ENV + "=" + forced.trim();
    }

    /**
     * @param candidates best first, as {@link #all()}
     * @param forced {@code -Drnn4j.backend=NAME} or {@code RNN4J_BACKEND=NAME}, or null
     */
    static Selection select(Device device, List<Backend> candidates, String forced) {
        if (forced != null) {
            String name = forced.substring(forced.indexOf('=') + 1).toLowerCase(Locale.ROOT);
            Backend b = byName(name, candidates);
            if (b.device().type() == device.type()) {
                return new Selection(b, b.description() + " (forced by " + forced + ")", System.Logger.Level.INFO);
            }
        }
        List<String> skipped = new ArrayList<>();
        boolean onlyReference = candidates.stream()
                .noneMatch(b -> b.device().type() == device.type() && !(b instanceof ReferenceBackend));
        for (Backend b : candidates) {
            if (b.device().type() != device.type()) {
                continue;
            }
            if (b.isAvailable()) {
                if (!skipped.isEmpty()) {
                    return new Selection(b, b.description() + " (" + String.join("; ", skipped) + ")",
                            System.Logger.Level.WARNING);
                }
                if (onlyReference && device.type() == Device.Type.CPU) {
                    return new Selection(b, b.description()
                            + " (no native backend on the class path: add org.rnn4j:rnn4j-native for the native kernels)",
                            System.Logger.Level.INFO);
                }
                return new Selection(b, b.description(), System.Logger.Level.DEBUG);
            }
            skipped.add(b.name() + " unavailable: " + b.unavailableReason());
        }
        if (skipped.isEmpty()) {
            throw new IllegalStateException("no backend for device " + device + " is on the class path"
                    + (device.type() == Device.Type.CUDA ? " (add org.rnn4j:rnn4j-cuda and the bytedeco CUDA presets;"
                    + " see cuda/README.md)" : ""));
        }
        throw new IllegalStateException("no available backend for device " + device + ". " + String.join("; ", skipped));
    }

    /** The default CPU backend's name, for messages and benchmarks. */
    public static Backend cpu() {
        return forDevice(Device.CPU);
    }

    /**
     * Makes {@code backend} the one used by this thread for its device until the returned handle
     * is closed (handles nest).
     */
    public static Override use(Backend backend) {
        if (!backend.isAvailable()) {
            throw new IllegalStateException("backend '" + backend.name() + "' is not available: " + backend.unavailableReason());
        }
        Backend previous = OVERRIDE.get();
        OVERRIDE.set(backend);
        return new Override(previous);
    }

    /** Restores the previous backend choice when closed. */
    public static final class Override implements AutoCloseable {
        private final Backend previous;

        private Override(Backend previous) {
            this.previous = previous;
        }

        @java.lang.Override
        public void close() {
            OVERRIDE.set(previous);
        }
    }
}
