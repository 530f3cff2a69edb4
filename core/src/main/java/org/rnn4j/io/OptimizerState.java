package org.rnn4j.io;

import java.util.Map;
import org.rnn4j.Tensor;

/**
 * What {@link Checkpoint} needs of an optimizer: its buffers, its scalar state and an
 * all-or-nothing load. {@link org.rnn4j.optim.Optimizer} implements it.
 */
public interface OptimizerState {
    /** Views of the state buffers by name; the caller closes them. */
    Map<String, Tensor> stateDict();

    /** Hyper-parameters and step counts as text. */
    Map<String, String> scalarState();

    /** Validates a state as {@link #loadStateDict} would, changing nothing. */
    void checkStateDict(Map<String, Tensor> tensors, Map<String, String> scalars);

    /** Replaces the state, all or nothing. */
    void loadStateDict(Map<String, Tensor> tensors, Map<String, String> scalars);
}
