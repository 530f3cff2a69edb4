package org.rnn4j.optim;

import org.rnn4j.backend.Pins;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.OptimizerStep;

/**
 * Base of the optimizers ({@code torch.optim.Optimizer} with a single parameter group).
 *
 * <p>{@link #step()} updates every parameter that has a gradient; parameters whose gradient is
 * null are skipped and their state (including Adam's step count) does not advance, as in PyTorch.
 * An optimizer updates either through one fused {@link org.rnn4j.backend.Backend#optimizerStep}
 * call per group of parameters sharing a step count (SGD, Adam, AdamW: {@link #update} returns
 * the kernel's settings), or parameter by parameter with public tensor ops ({@link #apply}).
 * State buffers are created on a parameter's first step, outside any {@link Scope}, so a
 * per-step scope does not free them; they live until {@link #close()}.
 *
 * <p><b>How to add an optimizer.</b> No backend or native change is needed:
 * <ol>
 *   <li>Extend Optimizer; pass the constructor PyTorch's names of the per-parameter state
 *       buffers (e.g. {@code "square_avg"}). Each is created zero-filled, shaped like its
 *       parameter, on the parameter's first update (unless {@link #usesState()} says not yet),
 *       and is what {@link #stateDict()}, {@link #loadStateDict} and checkpoints save and
 *       restore, under {@code state.<i>.<name>}.</li>
 *   <li>Leave {@link #update} returning null (its default: "not fused") and override
 *       {@link #apply}: update {@code param} in place ({@link Tensor#addInPlace},
 *       {@link Tensor#mulInPlace}, {@link Tensor#copyFrom}) from {@code grad} and the
 *       {@code state} buffers (also updated in place), using any public tensor op for the
 *       arithmetic. It runs under {@link GradMode#noGrad()} in a scope of its own, so
 *       temporaries are freed after each parameter; it must not modify {@code grad}, replace
 *       buffers or keep references to temporaries.</li>
 *   <li>Override {@link #savesStep()} if the step count belongs to the saved state (PyTorch's
 *       {@code state['step']}), and implement {@link #hyperParameters()} and
 *       {@link #prepareHyperParameters} for {@link #scalarState()} / {@link #loadStateDict}.</li>
 * </ol>
 * The base class does the rest as for the fused optimizers: it holds every gradient for the
 * step, checks them all (open, same shape and device as the parameter) before any state
 * changes, allocates the buffers and counts the steps. {@link RMSprop} is written this way.
 *
 * <p><b>Threads.</b> An optimizer is not thread-safe: one training loop drives it, from one
 * thread at a time (successive steps may come from different threads when the caller orders
 * them, e.g. through an executor). {@link #step()} and {@link #zeroGrad()} hold each parameter's
 * gradient for their duration, as {@code backward()} does for the leaves it reaches, so a second
 * thread's backward, {@code zeroGrad} or step on the same parameters meanwhile fails fast with an
 * {@link IllegalStateException} saying so, before anything changes, instead of a
 * NullPointerException or a closed-tensor error deep in the update. The check is per call (a
 * compare-and-set per parameter): it catches overlapping calls, not a second thread that
 * trains between this thread's calls. Inference is not restricted (see
 * {@link org.rnn4j.nn.Module}).
 */
public abstract class Optimizer implements AutoCloseable, org.rnn4j.io.OptimizerState {
    private final String name;
    private final List<Tensor> params;
    private double lr;
    /** Per parameter: number of updates made (Adam's {@code state['step']}). */
    private final long[] steps;
    /** Per parameter and state slot: the buffer, or null before the first update. */
    private final Tensor[][] state;
    private final String[] stateNames;
    private boolean closed;

    /**
     * An optimizer of {@code params} (leaf tensors that require grad, contiguous, each once) at
     * learning rate {@code lr}.
     *
     * @param stateNames names of the per-parameter state buffers, PyTorch's keys
     *     ({@code momentum_buffer}; {@code exp_avg}, {@code exp_avg_sq})
     */
    protected Optimizer(String name, List<Tensor> params, double lr, String... stateNames) {
        this.name = name;
        this.stateNames = stateNames.clone();
        if (params == null || params.isEmpty()) {
            throw new IllegalArgumentException(name + ": optimizer got an empty parameter list");
        }
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            if (p == null) {
                throw new IllegalArgumentException(name + ": parameter " + i + " is null");
            }
            p.ensureOpen(name);
            if (!p.isLeaf()) {
                throw new IllegalArgumentException(name + ": can't optimize a non-leaf Tensor (parameter " + i + ")");
            }
            if (!p.requiresGrad()) {
                throw new IllegalArgumentException(name + ": parameter " + i + " " + Arrays.toString(p.shape())
                        + " does not require grad");
            }
            if (!p.isContiguous()) {
                throw new IllegalArgumentException(name + ": parameter " + i + " must be contiguous (the fused update writes it in place)");
            }
            if (!seen.add(p)) {
                throw new IllegalArgumentException(name + ": parameter " + i + " appears more than once in the list");
            }
        }
        this.params = List.copyOf(params);
        this.steps = new long[params.size()];
        this.state = new Tensor[params.size()][stateNames.length];
        setLr(lr);
    }

    /**
     * The fused update for parameter {@code i} at its {@code step}-th update (1-based), shared by
     * every parameter with the same step count, device and {@code first}; or null (the default):
     * not fused, {@link #apply} updates each parameter instead.
     */
    protected OptimizerStep update(int i, long step, boolean first) {
        return null;
    }

    /**
     * The update of parameter {@code i} with tensor ops, for optimizers whose {@link #update}
     * returns null: writes {@code param} (and the {@code state} buffers) in place. Called under
     * {@link GradMode#noGrad()} inside a {@link Scope} closed afterwards, once per parameter that
     * has a gradient, after every gradient was checked and the state allocated.
     *
     * @param param the parameter, contiguous, updated in place
     * @param grad its gradient (same shape and device; possibly a non-contiguous view): read only
     * @param state the buffers in the order of the constructor's state names (zero-filled at the
     *     first update; null entries while {@link #usesState()} is false). A copy of the array:
     *     update the tensors in place, do not replace them
     * @param step the 1-based update count of this parameter, this update included
     */
    protected void apply(int i, Tensor param, Tensor grad, Tensor[] state, long step) {
        throw new UnsupportedOperationException(name + ": update() returned null (not fused) but apply() is not overridden");
    }

    /** Hyper-parameters other than lr, as strings, for {@link #scalarState()}. */
    protected abstract Map<String, String> hyperParameters();

    /**
     * Validates the hyper-parameters that {@link #hyperParameters()} wrote (absent keys keep their
     * value) and returns what assigns them, without assigning anything: an
     * IllegalArgumentException naming the field if one is not a valid value. The returned action
     * must not fail.
     */
    protected abstract Runnable prepareHyperParameters(Map<String, String> values);

    /** A scalar-state field as a finite double, or an IllegalArgumentException naming it and its text. */
    protected final double number(Map<String, String> values, String key, double absent) {
        String v = values.get(key);
        if (v == null) {
            return absent;
        }
        double d;
        try {
            d = Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' must be a number, got '" + v + "'");
        }
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' must be finite, got '" + v + "'");
        }
        return d;
    }

    /** A scalar-state field as a boolean ("true"/"false"), or an IllegalArgumentException naming it. */
    protected final boolean bool(Map<String, String> values, String key, boolean absent) {
        String v = values.get(key);
        if (v == null) {
            return absent;
        }
        String t = v.trim();
        if (!t.equalsIgnoreCase("true") && !t.equalsIgnoreCase("false")) {
            throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' must be true or false, got '" + v + "'");
        }
        return Boolean.parseBoolean(t);
    }

    private long integer(Map<String, String> values, String key) {
        String v = values.get(key);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ".loadStateDict: '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    /** Whether the update needs the state buffers now (SGD without momentum does not). */
    protected boolean usesState() {
        return true;
    }

    /** Whether the step counter belongs to the saved state (Adam's does; SGD has none). */
    protected boolean savesStep() {
        return false;
    }

    /** The optimizer's name, as error messages give it ({@code "SGD"}, {@code "Adam"}, {@code "AdamW"}). */
    public final String name() {
        return name;
    }

    /** The parameters, in the order given (their indices name their state). */
    public final List<Tensor> params() {
        return params;
    }

    /** The learning rate the next step uses (PyTorch's {@code param_groups[0]["lr"]}). */
    public final double getLr() {
        return lr;
    }

    /** Sets the learning rate for the next steps (what LR schedulers call). */
    public final void setLr(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(name + ": invalid learning rate: " + lr + " (lr must be finite and >= 0)");
        }
        this.lr = lr;
    }

    /** Clears every parameter's gradient (PyTorch's {@code zero_grad(set_to_none=True)}, its default since 2.0). */
    public void zeroGrad() {
        ensureOpen("zeroGrad");
        List<Tensor> claimed = new ArrayList<>(params.size());
        try {
            for (Tensor p : params) {   // all first: a conflict is reported before any gradient is cleared
                if (p.claimGrad(name + ".zeroGrad")) {
                    claimed.add(p);
                }
            }
            for (Tensor p : params) {
                p.zeroGrad();
            }
        } finally {
            for (Tensor p : claimed) {
                p.releaseGrad();
            }
        }
    }

    /**
     * One update of every parameter that has a gradient: one fused backend call for all the
     * parameters that share a step count (normally all of them), or one {@link #apply} per
     * parameter for an optimizer that is not fused.
     */
    public void step() {
        ensureOpen("step");
        List<Tensor> claimed = new ArrayList<>(params.size());
        try {
            for (Tensor p : params) {
                if (p.claimGrad(name + ".step")) {
                    claimed.add(p);
                }
            }
            stepClaimed();
        } finally {
            for (Tensor p : claimed) {
                p.releaseGrad();
            }
        }
    }

    private void stepClaimed() {
        // every gradient is checked before any state changes: a bad one leaves nothing half-applied
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            Tensor grad = p.grad();
            if (grad == null) {
                continue;
            }
            p.ensureOpen(name + ".step");
            grad.ensureOpen(name + ".step");
            if (!Arrays.equals(grad.shape(), p.shape())) {
                throw new IllegalStateException(name + ": parameter " + i + " has shape " + Arrays.toString(p.shape())
                        + " but its gradient has shape " + Arrays.toString(grad.shape()));
            }
            p.requireSameDevice(name + ".step", "grad", grad);
        }
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            // parameters grouped by (device, step, first update): each group is one kernel call
            Map<Group, List<Integer>> groups = new LinkedHashMap<>();
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                if (p.grad() == null) {
                    continue;
                }
                boolean first = allocateState(i);
                steps[i]++;
                groups.computeIfAbsent(new Group(p.device(), steps[i], first), k -> new ArrayList<>()).add(i);
            }
            for (Map.Entry<Group, List<Integer>> e : groups.entrySet()) {
                List<Integer> group = e.getValue();
                OptimizerStep fused = update(group.get(0), steps[group.get(0)], e.getKey().first());
                if (fused == null) {
                    for (int i : group) {
                        Tensor p = params.get(i);
                        try (Scope perParam = Scope.open()) {   // frees each parameter's temporaries
                            apply(i, p, p.grad(), state[i].clone(), steps[i]);
                        }
                    }
                    continue;
                }
                int n = group.size();
                Tensor[] ps = new Tensor[n];
                Tensor[] gs = new Tensor[n];
                Tensor[] s1 = new Tensor[n];
                Tensor[] s2 = new Tensor[n];
                boolean hasS1 = false;
                boolean hasS2 = false;
                for (int k = 0; k < n; k++) {
                    int i = group.get(k);
                    ps[k] = params.get(i);
                    // the kernel wants contiguous operands; a gradient set by hand may be a view
                    Tensor grad = ps[k].grad();
                    gs[k] = grad.isContiguous() ? grad : grad.contiguous();
                    Tensor[] st = state[i];
                    s1[k] = st.length > 0 ? st[0] : null;
                    s2[k] = st.length > 1 ? st[1] : null;
                    hasS1 |= s1[k] != null;
                    hasS2 |= s2[k] != null;
                }
                int i0 = group.get(0);
                try (Pins pins = new Pins()) {
                    ps[0].backend().optimizerStep(fused, Tensor.pin(pins, ps),
                            Tensor.pin(pins, gs), hasS1 ? Tensor.pin(pins, s1) : null, hasS2 ? Tensor.pin(pins, s2) : null);
                }
            }
        }
    }

    /** Parameters updated by one kernel call share these. */
    private record Group(org.rnn4j.Device device, long step, boolean first) {
    }

    /** Creates parameter i's zero-filled buffers if missing; true if it did (the first update). */
    private boolean allocateState(int i) {
        Tensor[] s = state[i];
        if (s.length == 0 || s[0] != null || !usesState()) {
            return false;
        }
        Tensor p = params.get(i);
        Scope.runUnscoped(() -> {
            for (int k = 0; k < s.length; k++) {
                s[k] = Tensor.zeros(p.device(), p.shape());
            }
        });
        return true;
    }

    // ---- state dict ------------------------------------------------------------------------

    /**
     * The per-parameter buffers under {@code state.<paramIndex>.<name>} (PyTorch's names:
     * {@code momentum_buffer}, {@code exp_avg}, {@code exp_avg_sq}); parameters not yet updated
     * have none. The tensors are views sharing the live buffers (no copy): closing them is
     * harmless, writing them changes the optimizer.
     */
    public Map<String, Tensor> stateDict() {
        ensureOpen("stateDict");
        Map<String, Tensor> out = new LinkedHashMap<>();
        String[] names = stateNames;
        for (int i = 0; i < params.size(); i++) {
            for (int k = 0; k < names.length; k++) {
                if (state[i][k] != null) {
                    out.put("state." + i + "." + names[k], state[i][k].detach());
                }
            }
        }
        return out;
    }

    /**
     * The scalar state as strings: {@code optimizer} (the class), {@code num_params}, {@code lr},
     * the other hyper-parameters under PyTorch's names, and {@code state.<i>.step} for optimizers
     * that count steps (parameters updated at least once).
     */
    public Map<String, String> scalarState() {
        ensureOpen("scalarState");
        Map<String, String> out = new LinkedHashMap<>();
        out.put("optimizer", name);
        out.put("num_params", Integer.toString(params.size()));
        out.put("lr", Double.toString(lr));
        out.putAll(hyperParameters());
        if (savesStep()) {
            for (int i = 0; i < params.size(); i++) {
                if (steps[i] > 0) {
                    out.put("state." + i + ".step", Long.toString(steps[i]));
                }
            }
        }
        return out;
    }

    /**
     * Restores what {@link #stateDict()} and {@link #scalarState()} returned (possibly read back
     * from a file), all or nothing: everything is validated before anything changes (optimizer
     * class, number of parameters, tensor names, shapes and open state, every scalar field parsed
     * and range-checked, no unknown field), and buffers for the new state are allocated before the
     * first assignment; on an error the optimizer is exactly as before. Buffers are copied, so
     * the caller keeps ownership of {@code tensors}; they may be on another device.
     */
    public void loadStateDict(Map<String, Tensor> tensors, Map<String, String> scalars) {
        prepare(tensors, scalars, true).run();
    }

    /** Validates as {@link #loadStateDict} does, changing nothing: an IllegalArgumentException naming the first problem. */
    public void checkStateDict(Map<String, Tensor> tensors, Map<String, String> scalars) {
        prepare(tensors, scalars, false);
    }

    /** Validates; with {@code stage}, also allocates and returns the (infallible) assignment. */
    private Runnable prepare(Map<String, Tensor> tensors, Map<String, String> scalars, boolean stage) {
        ensureOpen("loadStateDict");
        String where = name + ".loadStateDict";
        if (tensors == null || scalars == null) {
            throw new IllegalArgumentException(where + ": arguments 'tensors' and 'scalars' must not be null");
        }
        List<String> names = List.of(stateNames);
        String savedName = scalars.get("optimizer");
        if (savedName != null && !savedName.equals(name)) {
            throw new IllegalArgumentException(where + ": state was saved by " + savedName + ", this optimizer is " + name);
        }
        java.util.Set<String> known = new java.util.TreeSet<>(List.of("optimizer", "num_params", "lr"));
        known.addAll(hyperParameters().keySet());
        for (Map.Entry<String, String> e : scalars.entrySet()) {
            String k = e.getKey();
            boolean step = savesStep() && k != null && k.startsWith("state.") && k.endsWith(".step")
                    && parseIndex(k.substring(6, k.length() - 5)) >= 0;
            if (k == null || !known.contains(k) && !step) {
                throw new IllegalArgumentException(where + ": unknown field '" + k + "'; " + name + " saves " + known
                        + (savesStep() ? " and state.<i>.step" : ""));
            }
            if (e.getValue() == null) {
                throw new IllegalArgumentException(where + ": field '" + k + "' is null");
            }
            if (step && parseIndex(k.substring(6, k.length() - 5)) >= params.size()) {
                throw new IllegalArgumentException(where + ": field '" + k + "' is for a parameter this optimizer does not have ("
                        + params.size() + " parameters)");
            }
        }
        if (scalars.containsKey("num_params") && integer(scalars, "num_params") != params.size()) {
            throw new IllegalArgumentException(where + ": state is for " + scalars.get("num_params") + " parameters, this optimizer has "
                    + params.size());
        }
        Tensor[][] loaded = new Tensor[params.size()][names.size()];
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String key = e.getKey();
            String[] parts = key == null ? new String[0] : key.split("\\.", 3);
            int i = parts.length == 3 && parts[0].equals("state") ? parseIndex(parts[1]) : -1;
            if (i < 0) {
                throw new IllegalArgumentException(where + ": unexpected tensor '" + key + "'; expected state.<paramIndex>.<buffer>");
            }
            if (i >= params.size()) {
                throw new IllegalArgumentException(where + ": tensor '" + key + "' is for parameter " + i
                        + ", this optimizer has " + params.size() + " parameters");
            }
            int k = names.indexOf(parts[2]);
            if (k < 0) {
                throw new IllegalArgumentException(where + ": unexpected buffer '" + key + "'; " + name + " keeps " + names);
            }
            Tensor t = e.getValue();
            if (t == null) {
                throw new IllegalArgumentException(where + ": tensor '" + key + "' is null");
            }
            if (t.isClosed() || t.storage().isFreed()) {
                throw new IllegalArgumentException(where + ": tensor '" + key + "' was closed");
            }
            if (!Arrays.equals(t.shape(), params.get(i).shape())) {
                throw new IllegalArgumentException(where + ": '" + key + "' has shape " + Arrays.toString(t.shape())
                        + ", parameter " + i + " has shape " + Arrays.toString(params.get(i).shape()));
            }
            loaded[i][k] = t;
        }
        long[] newSteps = new long[params.size()];
        for (int i = 0; i < params.size(); i++) {
            int present = 0;
            for (Tensor t : loaded[i]) {
                present += t != null ? 1 : 0;
            }
            if (present != 0 && present != names.size()) {
                throw new IllegalArgumentException(where + ": parameter " + i + " has only some of its buffers " + names);
            }
            String stepKey = "state." + i + ".step";
            if (savesStep()) {
                if (present > 0 && !scalars.containsKey(stepKey)) {
                    throw new IllegalArgumentException(where + ": missing '" + stepKey + "' for parameter " + i);
                }
                newSteps[i] = scalars.containsKey(stepKey) ? integer(scalars, stepKey) : 0;
                if (newSteps[i] < 0 || (present > 0 && newSteps[i] == 0)) {
                    throw new IllegalArgumentException(where + ": invalid '" + stepKey + "' = " + scalars.get(stepKey)
                            + " (must be >= 1 for a parameter with state)");
                }
            }
        }
        double newLr = number(scalars, "lr", lr);
        if (!(newLr >= 0) || Double.isInfinite(newLr)) {
            throw new IllegalArgumentException(where + ": invalid learning rate: " + newLr + " ('lr' must be finite and >= 0)");
        }
        Runnable hyper = prepareHyperParameters(scalars);
        if (!stage) {
            return () -> { };
        }
        // the new buffers, allocated (and filled) before anything is assigned
        Tensor[][] next = new Tensor[params.size()][names.size()];
        boolean ok = false;
        try {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                for (int k = 0; k < names.size(); k++) {
                    Tensor src = loaded[i][k];
                    if (src == null) {
                        continue;
                    }
                    Tensor[] holder = new Tensor[1];
                    Scope.runUnscoped(() -> holder[0] = Tensor.zeros(p.device(), p.shape()));
                    next[i][k] = holder[0];
                    try (Scope s = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
                        next[i][k].copyFrom(src.device().equals(p.device()) ? src : src.to(p.device()));
                    }
                }
            }
            ok = true;
        } finally {
            if (!ok) {
                for (Tensor[] row : next) {
                    for (Tensor t : row) {
                        if (t != null) {
                            t.close();
                        }
                    }
                }
            }
        }
        return () -> {
            hyper.run();
            lr = newLr;
            for (int i = 0; i < params.size(); i++) {
                for (int k = 0; k < names.size(); k++) {
                    if (state[i][k] != null) {
                        state[i][k].close();
                    }
                    state[i][k] = next[i][k];
                }
                steps[i] = newSteps[i];
            }
        };
    }

    private static int parseIndex(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Number of updates parameter {@code i} has received. */
    public long stepCount(int i) {
        return steps[i];
    }

    /** Frees the state buffers; the optimizer cannot step afterwards. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Tensor[] s : state) {
            for (int k = 0; k < s.length; k++) {
                if (s[k] != null) {
                    s[k].close();
                    s[k] = null;
                }
            }
        }
    }

    private void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException(name + "." + op + ": optimizer was closed");
        }
    }
}
