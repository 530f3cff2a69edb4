package org.rnn4j.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

/**
 * Base of every layer: named parameters in registration order with PyTorch's names, child
 * modules, train/eval mode and state dicts. Parameters belong to the module (no scope frees
 * them); {@link #close()} frees them.
 *
 * <p><b>Threads.</b> Inference may share one module between threads: {@code forward} in eval
 * mode or under {@link GradMode#noGrad()} only reads the parameters, and any number of threads
 * may call it at once. Training may not: {@code backward()} into the parameters,
 * {@link #zeroGrad()} and an optimizer step each hold the parameters' gradients for their
 * duration, and a second thread doing one of them on the same parameters meanwhile gets an
 * {@link IllegalStateException} that says so (one compare-and-set per parameter and call).
 * Train from one thread at a time, or give each thread its own copy of the module. Changing
 * the parameters (loading a state dict, an optimizer step) while other threads run inference
 * is a data race the library does not detect.
 *
 * <p><b>Limits.</b> Constructors and builders check every size before allocating: a weight or
 * state above {@link org.rnn4j.Shape#MAX_NUMEL} elements, or a dimension above 2^31-1, is an
 * {@link IllegalArgumentException} naming the arguments; a constructor that fails part-way
 * (e.g. out of memory) frees what it made.
 */
public abstract class Module implements AutoCloseable {
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /**
     * Registers {@code value} (created by the caller) as parameter {@code name}: it becomes a
     * leaf that requires grad. Create parameters inside {@link Scope#runUnscoped} or outside any
     * scope, since the module owns them.
     */
    protected Tensor registerParameter(String name, Tensor value) {
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("registerParameter: name '" + name + "' already used");
        }
        value.requiresGrad(true);
        params.put(name, value);
        return value;
    }

    protected <M extends Module> M registerModule(String name, M module) {
        if (params.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("registerModule: name '" + name + "' already used");
        }
        children.put(name, module);
        return module;
    }

    /** Creates tensors that the module owns, whatever scope is open. */
    protected static Tensor owned(java.util.function.Supplier<Tensor> make) {
        Tensor[] out = new Tensor[1];
        Scope.runUnscoped(() -> {
            try (GradMode.Guard g = GradMode.noGrad()) {
                out[0] = make.get();
            }
        });
        return out[0];
    }

    /** A parameter of this module (not children) by name, or null. */
    protected Tensor parameter(String name) {
        return params.get(name);
    }

    /** Every parameter, recursively, with dotted PyTorch names, in registration order. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Tensor> out) {
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Module> e : children.entrySet()) {
            e.getValue().collect(prefix + e.getKey() + ".", out);
        }
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public Map<String, Module> namedChildren() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** Sets training mode here and in every child; returns this. */
    public Module train(boolean on) {
        training = on;
        for (Module m : children.values()) {
            m.train(on);
        }
        return this;
    }

    public Module train() {
        return train(true);
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /** Frees every parameter's gradient. */
    public void zeroGrad() {
        List<Tensor> ps = parameters();
        List<Tensor> claimed = new ArrayList<>(ps.size());
        try {
            for (Tensor p : ps) {   // all first: a conflict is reported before any gradient is cleared
                if (p.claimGrad(getClass().getSimpleName() + ".zeroGrad")) {
                    claimed.add(p);
                }
            }
            for (Tensor p : ps) {
                p.zeroGrad();
            }
        } finally {
            for (Tensor p : claimed) {
                p.releaseGrad();
            }
        }
    }

    /** The parameters by name (the live tensors, not copies: save them, don't close them). */
    public Map<String, Tensor> stateDict() {
        return namedParameters();
    }

    /** {@link #loadStateDict(Map, boolean)} with strict = true. */
    public void loadStateDict(Map<String, Tensor> state) {
        loadStateDict(state, true);
    }

    /**
     * Copies values into the parameters by name. Strict: a missing or unexpected name is an
     * error listing them all. A wrongly shaped entry is always an error naming it.
     */
    public void loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> mine = namedParameters();
        TreeSet<String> missing = new TreeSet<>(mine.keySet());
        missing.removeAll(state.keySet());
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(mine.keySet());
        if (strict && (!missing.isEmpty() || !unexpected.isEmpty())) {
            throw new IllegalArgumentException("loadStateDict: missing keys " + missing + ", unexpected keys " + unexpected);
        }
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src != null && !Arrays.equals(src.shape(), e.getValue().shape())) {
                throw new IllegalArgumentException("loadStateDict: '" + e.getKey() + "' has shape " + Arrays.toString(src.shape())
                        + ", expected " + Arrays.toString(e.getValue().shape()));
            }
        }
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (Map.Entry<String, Tensor> e : mine.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (src != null) {
                    e.getValue().copyFrom(src.to(e.getValue().device()));
                }
            }
        }
    }

    /** Frees every parameter (and its gradient) of this module and its children. */
    @Override
    public void close() {
        for (Tensor p : params.values()) {
            p.zeroGrad();
            p.close();
        }
        for (Module m : children.values()) {
            m.close();
        }
    }
}
