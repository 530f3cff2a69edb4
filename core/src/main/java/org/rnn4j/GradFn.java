package org.rnn4j;


/**
 * One recorded operation. It knows its inputs (those that need a gradient, others null) and
 * turns the gradients of its outputs into gradients of its inputs.
 */
public abstract class GradFn {
    private final String name;
    private Tensor[] inputs;
    private final int outputs;

    /**
     * A node named {@code name} with {@code outputs} outputs; inputs that do not require a gradient
     * are stored as null (see {@link #inputs()}).
     */
    protected GradFn(String name, int outputs, Tensor... inputs) {
        this.name = name;
        this.outputs = outputs;
        this.inputs = inputs.clone();
        for (int i = 0; i < this.inputs.length; i++) {
            if (this.inputs[i] != null && !this.inputs[i].requiresGrad()) {
                this.inputs[i] = null;
            }
        }
    }

    /** The operation's name, such as {@code "Add"}; {@link #toString()} appends {@code "Backward"}, as PyTorch's {@code grad_fn} names do. */
    public String name() {
        return name;
    }

    /** How many output tensors the operation produced. */
    public int outputCount() {
        return outputs;
    }

    /** Inputs that need a gradient (null where one does not), in argument order. */
    public Tensor[] inputs() {
        return inputs;
    }

    /** True if input {@code i} needs a gradient. */
    protected boolean needs(int i) {
        return inputs != null && inputs[i] != null;
    }

    /**
     * Gradients of the inputs (null where not needed) from gradients of the outputs (null for an
     * output that received none: treat it as zero).
     */
    protected abstract Tensor[] backward(Tensor[] gradOutputs);

    /** Frees saved activations; called once the graph has been walked. */
    protected void release() {
    }

    final Tensor[] runBackward(Tensor[] gradOutputs) {
        if (inputs == null) {
            throw new IllegalStateException(name + ": backward through the graph a second time; its saved tensors were freed");
        }
        return backward(gradOutputs);
    }

    final void releaseAll() {
        release();
        inputs = null;
    }

    final boolean released() {
        return inputs == null;
    }

    @Override
    public String toString() {
        return name + "Backward";
    }
}
