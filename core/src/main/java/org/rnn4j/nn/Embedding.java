package org.rnn4j.nn;

import java.util.Arrays;
import org.rnn4j.Generator;
import org.rnn4j.Shape;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;

/**
 * Lookup table (torch.nn.Embedding): weight (V, E) from N(0, 1); the row of {@code paddingIdx}
 * starts at zero and receives no gradient (its current value is still returned for it); no
 * padding row unless one is given, as PyTorch's default {@code padding_idx=None}.
 */
public final class Embedding extends Module implements Layer {
    /** No padding index. */
    public static final int NONE = Integer.MIN_VALUE;

    private final int numEmbeddings;
    private final int embeddingDim;
    private final int paddingIdx;
    private final Tensor weight;

    /** No padding index, as PyTorch's default {@code padding_idx=None}. */
    public Embedding(int numEmbeddings, int embeddingDim) {
        this(numEmbeddings, embeddingDim, NONE, Generator.defaultGenerator());
    }

    /**
     * An embedding table initialised from N(0, 1) drawn from {@code gen} (torch.nn.Embedding).
     *
     * @param paddingIdx a row in [-V, V) (negative counts from the end) whose vector starts at zero
     *                   and gets no gradient, or {@link #NONE}
     */
    public Embedding(int numEmbeddings, int embeddingDim, int paddingIdx, Generator gen) {
        if (numEmbeddings < 1 || embeddingDim < 1) {
            throw new IllegalArgumentException("Embedding: num_embeddings and embedding_dim must be >= 1, got "
                    + numEmbeddings + " and " + embeddingDim);
        }
        if (paddingIdx != NONE && (paddingIdx < -numEmbeddings || paddingIdx >= numEmbeddings)) {
            throw new IllegalArgumentException("Embedding: padding_idx must be within num_embeddings (" + numEmbeddings
                    + "), got " + paddingIdx);
        }
        if (gen == null) {
            throw new IllegalArgumentException("Embedding: argument 'gen' is null");
        }
        Shape.requireFits("Embedding", "num_embeddings=" + numEmbeddings + ", embedding_dim=" + embeddingDim,
                "weight (num_embeddings, embedding_dim)", numEmbeddings, embeddingDim);
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.paddingIdx = paddingIdx == NONE ? NONE : (paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx);
        this.weight = registerParameter("weight", owned(() -> {
            Tensor w = Tensor.randn(gen, numEmbeddings, embeddingDim);
            if (this.paddingIdx != NONE) {
                // the row view shares w's storage: close it, or closing the module keeps the weight alive
                try (Tensor row = w.select(0, this.paddingIdx)) {
                    row.fill(0f);
                }
            }
            return w;
        }));
    }

    /** The embedding table parameter (V, E). */
    public Tensor weight() {
        return weight;
    }

    /** Looks up ids of any shape; the result has shape ids.shape + (E). */
    public Tensor forward(int[] ids, int... idsShape) {
        if (ids == null) {
            throw new IllegalArgumentException("Embedding.forward: argument 'ids' is null");
        }
        long n = Shape.numel("Embedding.forward", "idsShape", idsShape);
        Shape.requireFits("Embedding.forward", "idsShape=" + Arrays.toString(idsShape) + ", embedding_dim=" + embeddingDim,
                "the output (ids..., embedding_dim)", n, embeddingDim);
        if (n != ids.length) {
            throw new IllegalArgumentException("Embedding.forward: argument 'ids' has " + ids.length
                    + " elements, shape " + Arrays.toString(idsShape) + " needs " + n);
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= numEmbeddings) {
                throw new IndexOutOfBoundsException("Embedding.forward: ids[" + i + "] = " + ids[i]
                        + " out of range [0, " + numEmbeddings + ")");
            }
        }
        Tensor rows = weight.indexSelect(0, ids);
        if (paddingIdx != NONE && weight.requiresGrad() && GradMode.isEnabled()) {
            // PyTorch returns the padding row as it is (it may have been loaded non-zero) and only
            // keeps gradient away from it: pick those output rows from a detached copy
            float[] mask = new float[ids.length];
            for (int i = 0; i < ids.length; i++) {
                mask[i] = ids[i] == paddingIdx ? 0f : 1f;
            }
            Tensor frozen = weight.detach().indexSelect(0, ids);
            Tensor keep = Tensor.fromArray(mask, ids.length, 1).to(weight.device());
            rows = Tensor.where(keep, rows, frozen);
        }
        int[] outShape = Arrays.copyOf(idsShape, idsShape.length + 1);
        outShape[idsShape.length] = embeddingDim;
        return rows.reshape(outShape);
    }

    /** Ids given as a tensor of integral values. */
    @Override
    public Tensor forward(Tensor ids) {
        return forward(ids.toIntArray("Embedding.forward", "ids"), ids.shape());
    }

    @Override
    public String toString() {
        return "Embedding(" + numEmbeddings + ", " + embeddingDim + (paddingIdx != NONE ? ", padding_idx=" + paddingIdx : "") + ")";
    }
}
