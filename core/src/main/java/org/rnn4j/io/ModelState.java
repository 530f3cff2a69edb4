package org.rnn4j.io;

import java.util.Map;
import org.rnn4j.Tensor;

/**
 * What {@link Checkpoint} needs of a model: its named parameters and an all-or-nothing load.
 * {@link org.rnn4j.nn.Module} implements it (so io depends on no module class and nn may use io).
 */
public interface ModelState {
    /** The live parameters by PyTorch name (not to be closed by the caller). */
    Map<String, Tensor> stateDict();

    /** Validates {@code state} as {@link #loadStateDict} would, changing nothing. */
    void checkStateDict(Map<String, Tensor> state, boolean strict);

    /** Copies {@code state} into the parameters, all or nothing. */
    void loadStateDict(Map<String, Tensor> state, boolean strict);
}
