package org.rnn4j.nn;

import org.rnn4j.Tensor;

/** A module with one tensor in and one tensor out, composable in {@link Sequential}. */
public interface Layer {
    /** Applies the layer to {@code x}; the shapes accepted are the implementing module's. */
    Tensor forward(Tensor x);
}
