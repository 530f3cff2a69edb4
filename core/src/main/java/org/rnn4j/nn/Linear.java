package org.rnn4j.nn;

import org.rnn4j.Generator;
import org.rnn4j.Shape;
import org.rnn4j.Tensor;

/** y = x W^T + b over the last dim (torch.nn.Linear), weight (out, in), bias (out). */
public final class Linear extends Module implements Layer {
    private final int inFeatures;
    private final int outFeatures;
    private final Tensor weight;
    private final Tensor bias;

    /**
     * torch.nn.Linear(in_features, out_features): with a bias, weights from the default generator.
     *
     * @throws IllegalArgumentException if a size is below 1
     */
    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true, Generator.defaultGenerator());
    }

    /** PyTorch's init: kaiming_uniform(a=sqrt 5) = U(-1/sqrt(in), 1/sqrt(in)) for weight and bias. */
    public Linear(int inFeatures, int outFeatures, boolean bias, Generator gen) {
        if (inFeatures < 1 || outFeatures < 1) {
            throw new IllegalArgumentException("Linear: in_features and out_features must be >= 1, got "
                    + inFeatures + " and " + outFeatures);
        }
        if (gen == null) {
            throw new IllegalArgumentException("Linear: argument 'gen' is null");
        }
        Shape.requireFits("Linear", "in_features=" + inFeatures + ", out_features=" + outFeatures,
                "weight (out_features, in_features)", outFeatures, inFeatures);
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        float k = (float) (1 / Math.sqrt(inFeatures));
        this.weight = registerParameter("weight", owned(() -> Tensor.uniform(gen, -k, k, outFeatures, inFeatures)));
        try {
            this.bias = bias ? registerParameter("bias", owned(() -> Tensor.uniform(gen, -k, k, outFeatures))) : null;
        } catch (RuntimeException | Error e) {
            close();   // the weight is freed, not leaked
            throw e;
        }
    }

    /** The weight parameter (out_features, in_features). */
    public Tensor weight() {
        return weight;
    }

    /** The bias parameter (out_features), or null without a bias. */
    public Tensor bias() {
        return bias;
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.dim() < 1 || x.size(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear.forward: argument 'input' expected last dim " + inFeatures
                    + ", got shape " + java.util.Arrays.toString(x.shape()));
        }
        Tensor y = x.matmul(weight.t());
        return bias == null ? y : y.add(bias);
    }

    @Override
    public String toString() {
        return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null) + ")";
    }
}
