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
    public static final String PROPERTY = "rnn4j.backend";
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
        List<String> names = new ArrayList<>();
        for (Backend b : all()) {
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

    private static final java.util.Map<Device.Type, Backend> DEFAULTS = new java.util.concurrent.ConcurrentHashMap<>();

    private static Backend defaultFor(Device device) {
        return DEFAULTS.computeIfAbsent(device.type(), t -> choose(device));
    }

    private static Backend choose(Device device) {
        String forced = System.getProperty(PROPERTY);
        if (forced == null || forced.isBlank()) {
            forced = System.getenv(ENV);
        }
        if (forced != null && !forced.isBlank()) {
            Backend b = byName(forced.trim().toLowerCase(Locale.ROOT));
            if (b.device().type() == device.type()) {
                return b;
            }
        }
        for (Backend b : all()) {
            if (b.device().type() == device.type() && b.isAvailable()) {
                return b;
            }
        }
        StringBuilder why = new StringBuilder();
        for (Backend b : all()) {
            if (b.device().type() == device.type()) {
                why.append(' ').append(b.name()).append(": ").append(b.unavailableReason()).append(';');
            }
        }
        if (why.length() == 0) {
            throw new IllegalStateException("no backend for device " + device + " is on the class path"
                    + (device.type() == Device.Type.CUDA ? " (add org.rnn4j:rnn4j-cuda and the bytedeco CUDA presets;"
                    + " see cuda/README.md)" : ""));
        }
        throw new IllegalStateException("no available backend for device " + device + "." + why);
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
