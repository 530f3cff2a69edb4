package org.rnn4j.nn;

import org.rnn4j.Tensor;

/** A module with one tensor in and one tensor out, composable in {@link Sequential}. */
public interface Layer {
    Tensor forward(Tensor x);
}
