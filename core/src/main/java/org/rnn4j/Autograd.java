package org.rnn4j;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.rnn4j.autograd.GradMode;

/** Reverse-mode walk of the recorded graph. */
final class Autograd {
    private Autograd() {
    }

    /**
     * Accumulates d(root)/d(leaf) * gradRoot into every leaf that requires grad.
     * Saved activations are freed afterwards unless {@code retainGraph}.
     */
    public static void backward(Tensor root, Tensor gradRoot, boolean retainGraph) {
        GradFn rootNode = root.gradFn();
        if (rootNode == null) {
            if (root.requiresGrad()) {
                root.accumulateGrad(gradRoot);
                return;
            }
            throw new IllegalStateException("backward: tensor does not require grad and has no grad_fn");
        }
        List<GradFn> order = topologicalOrder(rootNode);
        // the leaves (parameters) are this thread's for the whole walk: another thread's backward,
        // zeroGrad or optimizer step on them meanwhile fails fast on one side instead of racing
        List<Tensor> claimed = claimLeaves(order);
        try {
            run(order, rootNode, root, gradRoot, retainGraph);
        } finally {
            for (Tensor leaf : claimed) {
                leaf.releaseGrad();
            }
        }
    }

    private static List<Tensor> claimLeaves(List<GradFn> order) {
        List<Tensor> claimed = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        try {
            for (GradFn node : order) {
                for (Tensor in : node.inputs()) {
                    if (in != null && in.gradFn() == null && in.requiresGrad() && seen.put(in, Boolean.TRUE) == null
                            && in.claimGrad("backward")) {
                        claimed.add(in);
                    }
                }
            }
        } catch (RuntimeException e) {
            for (Tensor leaf : claimed) {
                leaf.releaseGrad();
            }
            throw e;
        }
        return claimed;
    }

    private static void run(List<GradFn> order, GradFn rootNode, Tensor root, Tensor gradRoot, boolean retainGraph) {
        Map<GradFn, Tensor[]> pending = new IdentityHashMap<>();
        Tensor[] first = new Tensor[rootNode.outputCount()];
        first[root.outputIndex()] = gradRoot;
        pending.put(rootNode, first);
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (GradFn node : order) {
                Tensor[] gradOut = pending.remove(node);
                if (gradOut == null) {
                    continue;
                }
                Tensor[] inputs = node.inputs();
                Tensor[] gradIn = node.runBackward(gradOut);
                for (int i = 0; i < inputs.length; i++) {
                    Tensor in = inputs[i];
                    if (in == null || gradIn[i] == null) {
                        continue;
                    }
                    GradFn producer = in.gradFn();
                    if (producer == null) {
                        in.accumulateGrad(gradIn[i]);
                    } else {
                        Tensor[] slots = pending.computeIfAbsent(producer, n -> new Tensor[n.outputCount()]);
                        int k = in.outputIndex();
                        slots[k] = slots[k] == null ? gradIn[i] : slots[k].add(gradIn[i]);
                    }
                }
                if (!retainGraph) {
                    node.releaseAll();
                }
            }
        }
    }

    private static List<GradFn> topologicalOrder(GradFn root) {
        // iterative DFS post-order, reversed: every node before the nodes it depends on
        List<GradFn> post = new ArrayList<>();
        Map<GradFn, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        seen.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            GradFn n = (GradFn) top[0];
            int i = (Integer) top[1];
            Tensor[] ins = n.inputs();
            if (ins == null) {
                throw new IllegalStateException(n.name() + ": backward through the graph a second time; its saved tensors were freed");
            }
            if (i < ins.length) {
                top[1] = i + 1;
                Tensor in = ins[i];
                if (in != null && in.gradFn() != null && !seen.containsKey(in.gradFn())) {
                    seen.put(in.gradFn(), Boolean.TRUE);
                    stack.push(new Object[] {in.gradFn(), 0});
                }
            } else {
                stack.pop();
                post.add(n);
            }
        }
        java.util.Collections.reverse(post);
        return post;
    }
}
