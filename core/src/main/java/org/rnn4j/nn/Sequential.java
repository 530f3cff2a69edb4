package org.rnn4j.nn;

import java.util.ArrayList;
import java.util.List;
import org.rnn4j.Tensor;

/** Runs layers in order; children are named "0", "1", ... as in torch.nn.Sequential. */
public final class Sequential extends Module implements Layer {
    private final List<Layer> layers = new ArrayList<>();

    /**
     * A sequence of {@code layers}, added in order with {@link #add(Layer)}.
     *
     * @throws IllegalArgumentException if a layer is not a {@link Module}
     */
    public Sequential(Layer... layers) {
        for (Layer l : layers) {
            add(l);
        }
    }

    /**
     * Appends {@code layer} as the next child (named by its index); returns this.
     *
     * @throws IllegalArgumentException if the layer is not a {@link Module}
     */
    public Sequential add(Layer layer) {
        if (!(layer instanceof Module m)) {
            throw new IllegalArgumentException("Sequential.add: layer " + layer + " is not a Module");
        }
        registerModule(Integer.toString(layers.size()), m);
        layers.add(layer);
        return this;
    }

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = x;
        for (Layer l : layers) {
            y = l.forward(y);
        }
        return y;
    }
}
