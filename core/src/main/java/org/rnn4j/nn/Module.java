package org.rnn4j.nn;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.io.StateDict;

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
public abstract class Module implements AutoCloseable, org.rnn4j.io.ModelState {
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

    /**
     * Registers {@code module} as child {@code name}: its parameters appear under {@code name.} in
     * {@link #namedParameters()}, and train/eval mode reaches it. Returns {@code module}.
     *
     * @throws IllegalArgumentException if {@code name} is already a parameter or child of this module
     */
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

    /** Every parameter, recursively, in registration order ({@code module.parameters()}); a new list. */
    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** The direct children by name, in registration order (an unmodifiable view). */
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

    /** Training mode here and in every child ({@code module.train()}); returns this. */
    public Module train() {
        return train(true);
    }

    /** Evaluation mode here and in every child ({@code module.eval()}): dropout off; returns this. */
    public Module eval() {
        return train(false);
    }

    /** Whether this module is in training mode (the default; {@code module.training}). */
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
     * Copies values into the parameters by name, all or nothing: every entry is validated first
     * (strict: no missing or unexpected names; always: no null, closed or wrongly shaped entry,
     * no closed parameter), and only then are values copied, so on any error the module is
     * exactly as before. The error lists every problem found, as PyTorch's does. Entries may be
     * on another device, and may share memory with this module's own parameters.
     */
    public void loadStateDict(Map<String, Tensor> state, boolean strict) {
        java.util.Objects.requireNonNull(state, "state");
        Map<String, Tensor> mine = namedParameters();
        fail(problems(state, strict, mine));
        try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            // stage every source first (device transfers, copies of entries aliasing a parameter),
            // so that nothing that can fail runs once the first parameter has changed
            java.util.Set<Object> storages = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (Tensor p : mine.values()) {
                storages.add(p.storage());
            }
            Map<Tensor, Tensor> plan = new java.util.IdentityHashMap<>();
            for (Map.Entry<String, Tensor> e : mine.entrySet()) {
                Tensor src = state.get(e.getKey());
                if (src == null) {
                    continue;
                }
                Tensor dst = e.getValue();
                Tensor staged = src.device().equals(dst.device()) ? src : src.to(dst.device());
                if (staged == src && storages.contains(src.storage())) {
                    staged = src.clone();
                }
                plan.put(dst, staged);
            }
            for (Map.Entry<Tensor, Tensor> e : plan.entrySet()) {
                e.getKey().copyFrom(e.getValue());
            }
        }
    }

    /**
     * Checks {@code state} as {@link #loadStateDict(Map, boolean)} would, without changing
     * anything: an IllegalArgumentException listing every problem.
     */
    public void checkStateDict(Map<String, Tensor> state, boolean strict) {
        java.util.Objects.requireNonNull(state, "state");
        fail(problems(state, strict, namedParameters()));
    }

    private static void fail(List<String> problems) {
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("loadStateDict: " + String.join("; ", problems) + " (nothing was loaded)");
        }
    }

    private static List<String> problems(Map<String, Tensor> state, boolean strict, Map<String, Tensor> mine) {
        List<String> problems = new ArrayList<>();
        TreeSet<String> missing = new TreeSet<>(mine.keySet());
        missing.removeAll(state.keySet());
        TreeSet<String> unexpected = new TreeSet<>();
        for (String k : state.keySet()) {
            if (k == null) {
                problems.add("a null name");
            } else if (!mine.containsKey(k)) {
                unexpected.add(k);
            }
        }
        if (strict && !missing.isEmpty()) {
            problems.add("missing keys " + missing);
        }
        if (strict && !unexpected.isEmpty()) {
            problems.add("unexpected keys " + unexpected);
        }
        for (Map.Entry<String, Tensor> e : mine.entrySet()) {
            String k = e.getKey();
            if (!state.containsKey(k)) {
                continue;
            }
            Tensor src = state.get(k);
            Tensor dst = e.getValue();
            if (dst.isClosed()) {
                problems.add("parameter '" + k + "' of this module was closed");
            } else if (src == null) {
                problems.add("'" + k + "' is null");
            } else if (src.isClosed() || src.storage().isFreed()) {
                problems.add("'" + k + "' " + Arrays.toString(src.shape()) + " was closed");
            } else if (!Arrays.equals(src.shape(), dst.shape())) {
                problems.add("'" + k + "' has shape " + Arrays.toString(src.shape()) + ", expected " + Arrays.toString(dst.shape()));
            }
        }
        return problems;
    }

    /** {@link #loadStateDict(StateDict, boolean)} with strict = true. */
    public void loadStateDict(StateDict state) {
        loadStateDict(state, true);
    }

    /**
     * Loads the float tensors of a file read by {@link StateDict#read}. An integer or boolean
     * entry under a parameter's name is an error naming its dtype (parameters are float32);
     * other integer entries (such as {@code lengths}) count as unexpected keys when strict.
     * All or nothing, as {@link #loadStateDict(Map, boolean)}.
     */
    public void loadStateDict(StateDict state, boolean strict) {
        java.util.Objects.requireNonNull(state, "state");
        Map<String, Tensor> mine = namedParameters();
        List<String> wrongType = new ArrayList<>();
        TreeSet<String> unexpected = new TreeSet<>();
        for (String k : state.integers().keySet()) {
            if (mine.containsKey(k)) {
                wrongType.add("'" + k + "' has dtype " + state.dtype(k) + ", but parameters are float32");
            } else {
                unexpected.add(k);
            }
        }
        List<String> problems = new ArrayList<>(wrongType);
        problems.addAll(problems(state.tensors(), strict, mine));
        if (strict && !unexpected.isEmpty()) {
            problems.add("unexpected integer entries " + unexpected);
        }
        fail(problems);
        loadStateDict(state.tensors(), strict);
    }

    /** {@link #loadStateDict(Path, boolean)} with strict = true. */
    public void loadStateDict(Path path) throws IOException {
        loadStateDict(path, true);
    }

    /**
     * Reads {@code path} (a {@code torch.save} zip or a safetensors file, told apart by its first
     * bytes; see {@link StateDict#read(Path)}) and loads it, all or nothing. The tensors read are
     * freed before returning or throwing.
     */
    public void loadStateDict(Path path, boolean strict) throws IOException {
        java.util.Objects.requireNonNull(path, "path");
        try (StateDict sd = StateDict.read(path)) {
            loadStateDict(sd, strict);
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
