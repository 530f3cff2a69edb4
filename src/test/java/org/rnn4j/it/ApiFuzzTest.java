package org.rnn4j.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.rnn4j.Generator;
import org.rnn4j.Memory;
import org.rnn4j.Scope;
import org.rnn4j.Tensor;
import org.rnn4j.autograd.GradMode;
import org.rnn4j.backend.Backend;
import org.rnn4j.backend.Backends;
import org.rnn4j.loss.Losses;
import org.rnn4j.loss.Reduction;
import org.rnn4j.nn.Dropout;
import org.rnn4j.nn.Embedding;
import org.rnn4j.nn.GRU;
import org.rnn4j.nn.GRUCell;
import org.rnn4j.nn.LSTM;
import org.rnn4j.nn.LSTMCell;
import org.rnn4j.nn.Linear;
import org.rnn4j.nn.Module;
import org.rnn4j.nn.RNN;
import org.rnn4j.nn.RNNCell;
import org.rnn4j.optim.Adam;
import org.rnn4j.optim.AdamW;
import org.rnn4j.optim.CosineAnnealingLR;
import org.rnn4j.optim.GradClip;
import org.rnn4j.optim.LRScheduler;
import org.rnn4j.optim.Optimizer;
import org.rnn4j.optim.SGD;
import org.rnn4j.optim.StepLR;

/**
 * Issue 13: seeded random bad input over the public API, on every CPU backend. Each call gets
 * one argument drawn from a "wild" set (negative, zero, 2^31-1, 2^30, sizes whose products
 * overflow, NaN, infinities, out-of-range dims and indices, mismatched shapes) and small valid
 * values elsewhere. Asserted for every call:
 * <ul>
 *   <li>it returns, or throws IllegalArgumentException, IllegalStateException or (for dims and
 *       indices) IndexOutOfBoundsException, nothing else (no NullPointerException,
 *       ArithmeticException, OutOfMemoryError, ArrayIndexOutOfBoundsException, ...);</li>
 *   <li>the message names the argument (contains one of the names the case lists);</li>
 *   <li>nothing leaks: {@link Memory#bytesInUse()} is back at its value before the call once the
 *       call's scope has closed and the modules/optimizers it made are closed;</li>
 *   <li>nothing is half-applied where the case checks it (optimizer steps, state-dict loads,
 *       scheduler steps, in-place copies).</li>
 * </ul>
 * {@code -Drnn4j.fuzz.calls=N} (default 16000, split over the backends) and
 * {@code -Drnn4j.fuzz.seed=S} (default 13) scale and vary it; a failure names the seed and call.
 */
class ApiFuzzTest {
    private static final int CALLS = Integer.getInteger("rnn4j.fuzz.calls", 16_000);
    private static final long SEED = Long.getLong("rnn4j.fuzz.seed", 13L);

    @FunctionalInterface
    interface Body {
        Object run() throws Exception;
    }

    /** One call: what it does, the argument names an error message must mention (any one), the call. */
    record Call(String desc, List<String> names, Body body) {
    }

    @TestFactory
    Stream<DynamicTest> randomBadInputIsRefusedCleanly() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Backend> backends = CpuBackends.available();
        int per = Math.max(1, CALLS / backends.size());
        for (int i = 0; i < backends.size(); i++) {
            Backend b = backends.get(i);
            long seed = SEED + i;
            tests.add(DynamicTest.dynamicTest(b.name() + ": " + per + " calls, seed " + seed, () -> fuzz(b, seed, per)));
        }
        return tests.stream();
    }

    private void fuzz(Backend backend, long seed, int calls) {
        Map<String, Integer> outcomes = new TreeMap<>();
        long t0 = System.nanoTime();
        try (Backends.Override o = Backends.use(backend)) {
            Random r = new Random(seed);
            for (int i = 0; i < calls; i++) {
                Call c = next(r);
                String where = "seed " + seed + ", call " + i + ": " + c.desc();
                long before = Memory.bytesInUse();
                String outcome;
                try {
                    try (Scope s = Scope.open()) {
                        closeResult(c.body().run());
                    }
                    outcome = "ok";
                } catch (IllegalArgumentException | IllegalStateException | IndexOutOfBoundsException e) {
                    if (e instanceof ArrayIndexOutOfBoundsException || e instanceof StringIndexOutOfBoundsException) {
                        throw new AssertionError(where + ": internal " + e, e);
                    }
                    String m = String.valueOf(e.getMessage());
                    if (c.names().stream().noneMatch(m::contains)) {
                        throw new AssertionError(where + ": message names none of " + c.names() + ": " + e, e);
                    }
                    outcome = e.getClass().getSimpleName();
                } catch (AssertionError e) {
                    throw new AssertionError(where + ": " + e.getMessage(), e);
                } catch (Throwable e) {
                    throw new AssertionError(where + ": unexpected " + e, e);
                }
                long after = Memory.bytesInUse();
                if (after > before) {   // a GC's Cleaner may free older garbage meanwhile: only growth is a leak
                    throw new AssertionError(where + ": " + (after - before) + " bytes leaked (" + outcome + ")");
                }
                outcomes.merge(outcome, 1, Integer::sum);
            }
        }
        System.out.println("ApiFuzzTest " + backend.name() + " seed " + seed + ", " + calls + " calls in "
                + (System.nanoTime() - t0) / 1_000_000 + " ms: " + outcomes);
    }

    private static void closeResult(Object o) throws Exception {
        if (o instanceof AutoCloseable a && !(o instanceof Tensor)) {
            a.close();
        }
    }

    // ---- value generators ----------------------------------------------------------------------

    /** Sizes that are refused alone or overflow in a product; then legal but large ones (46341^2 > 2^31), drawn rarely. */
    private static final int[] WILD_INTS = {-1, 0, Integer.MIN_VALUE, Integer.MAX_VALUE, 1 << 30, 536_870_912, -7};
    private static final int[] LARGE_INTS = {46_341};
    private static final float[] WILD_FLOATS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0.5f, 0.5f,
        1f, 1.5f, -1f, 1e30f};
    private static final float[] BOUNDS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, 1f, -1f, 3.5f, 1e30f, -1e30f};
    private static final float[] STEPS = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, 1f, -1f, 0.5f, 1e-30f, 1e30f};

    /** Mostly a small valid size, sometimes a wild one. */
    private static int size(Random r) {
        return r.nextInt(3) == 0 ? wildInt(r) : 1 + r.nextInt(3);
    }

    private static int wildInt(Random r) {
        return r.nextInt(50) == 0 ? LARGE_INTS[r.nextInt(LARGE_INTS.length)] : WILD_INTS[r.nextInt(WILD_INTS.length)];
    }

    private static int small(Random r) {
        return 1 + r.nextInt(3);
    }

    /** Around [-bound, bound): often just outside, sometimes extreme. */
    private static int index(Random r, int bound) {
        int b = Math.min(bound, 1 << 20);
        return switch (r.nextInt(6)) {
            case 0 -> -b - 1 - r.nextInt(3);
            case 1 -> b + r.nextInt(3);
            case 2 -> Integer.MAX_VALUE;
            case 3 -> Integer.MIN_VALUE;
            default -> b <= 0 ? 0 : r.nextInt(2 * b) - b;
        };
    }

    private static float wildF(Random r) {
        return WILD_FLOATS[r.nextInt(WILD_FLOATS.length)];
    }

    private static int[] shape(Random r, int maxRank) {
        int[] s = new int[r.nextInt(maxRank + 1)];
        for (int i = 0; i < s.length; i++) {
            s[i] = r.nextInt(4);
        }
        return s;
    }

    private static int[] wildShape(Random r) {
        int[] s = shape(r, 3);
        if (s.length > 0 && r.nextBoolean()) {
            s[r.nextInt(s.length)] = wildInt(r);
            for (int i = 0; i < s.length; i++) {   // keep legal shapes small: no 0 hiding a wild size
                s[i] = s[i] == 0 && r.nextBoolean() ? 1 : s[i];
            }
        }
        return s;
    }

    private static List<String> names(String... n) {
        return List.of(n);
    }

    private static String str(int[] a) {
        return Arrays.toString(a);
    }

    // ---- the cases -----------------------------------------------------------------------------

    private Call next(Random r) {
        return switch (r.nextInt(20)) {
            case 0 -> factory(r);
            case 1 -> arange(r);
            case 2, 3 -> view(r);
            case 4, 5 -> op(r);
            case 6 -> joinAndIndex(r);
            case 7, 8 -> recurrent(r);
            case 9 -> cell(r);
            case 10 -> linear(r);
            case 11 -> embedding(r);
            case 12 -> dropout(r);
            case 13, 14 -> loss(r);
            case 15 -> optimizer(r);
            case 16 -> scheduler(r);
            case 17 -> clipping(r);
            case 18 -> stepWithBadGradient(r);
            default -> loadStateDict(r);
        };
    }

    private Call factory(Random r) {
        int[] s = wildShape(r);
        Generator g = new Generator(r.nextLong());
        return switch (r.nextInt(7)) {
            case 0 -> new Call("zeros" + str(s), names("shape"), () -> Tensor.zeros(s));
            case 1 -> new Call("ones" + str(s), names("shape"), () -> Tensor.ones(s));
            case 2 -> new Call("full" + str(s), names("shape"), () -> Tensor.full(wildF(r), s));
            case 3 -> new Call("randn" + str(s), names("shape"), () -> Tensor.randn(g, s));
            case 4 -> new Call("rand" + str(s), names("shape"), () -> Tensor.rand(g, s));
            case 5 -> {
                float lo = wildF(r);
                float hi = wildF(r);
                yield new Call("uniform(" + lo + ", " + hi + ")" + str(s), names("shape", "'lo'", "'hi'"),
                        () -> Tensor.uniform(g, lo, hi, s));
            }
            default -> {
                int n = r.nextInt(6);
                yield new Call("fromArray(" + n + ")" + str(s), names("shape", "data"), () -> Tensor.fromArray(new float[n], s));
            }
        };
    }

    private Call arange(Random r) {
        float a = BOUNDS[r.nextInt(BOUNDS.length)];
        float b = BOUNDS[r.nextInt(BOUNDS.length)];
        float st = STEPS[r.nextInt(STEPS.length)];
        if (r.nextInt(4) == 0) {
            int n = size(r);
            return new Call("arange(" + n + ")", names("'n'"), () -> Tensor.arange(n));
        }
        return new Call("arange(" + a + ", " + b + ", " + st + ")", names("start", "end", "step"), () -> Tensor.arange(a, b, st));
    }

    private Tensor base(Random r, int[] s) {
        return Tensor.randn(new Generator(r.nextLong()), s);
    }

    private Call view(Random r) {
        int[] s = shape(r, 3);
        int rank = s.length;
        int d = index(r, Math.max(rank, 1));
        Tensor[] t = new Tensor[1];
        Body make = () -> t[0] = base(new Random(s.length), s);
        String on = "on " + str(s) + ": ";
        return switch (r.nextInt(10)) {
            case 0 -> {
                int[] ns = wildShape(r);
                if (ns.length > 0 && r.nextBoolean()) {
                    ns[r.nextInt(ns.length)] = -1;
                }
                yield new Call(on + "reshape" + str(ns), names("shape"), () -> {
                    make.run();
                    return t[0].reshape(ns);
                });
            }
            case 1 -> {
                int start = index(r, rank == 0 ? 1 : s[Math.floorMod(d, Math.max(rank, 1))] + 1);
                int len = r.nextBoolean() ? size(r) : r.nextInt(3);
                yield new Call(on + "narrow(" + d + ", " + start + ", " + len + ")", names("dim", "start", "length"), () -> {
                    make.run();
                    return t[0].narrow(d, start, len);
                });
            }
            case 2 -> {
                int i = index(r, 3);
                yield new Call(on + "select(" + d + ", " + i + ")", names("dim", "index"), () -> {
                    make.run();
                    return t[0].select(d, i);
                });
            }
            case 3 -> {
                int d2 = index(r, Math.max(rank, 1));
                yield new Call(on + "transpose(" + d + ", " + d2 + ")", names("dim"), () -> {
                    make.run();
                    return t[0].transpose(d, d2);
                });
            }
            case 4 -> {
                int[] perm = new int[r.nextInt(4)];
                for (int i = 0; i < perm.length; i++) {
                    perm[i] = r.nextInt(4) == 0 ? index(r, rank) : r.nextInt(Math.max(rank, 1));
                }
                yield new Call(on + "permute" + str(perm), names("perm", "dim"), () -> {
                    make.run();
                    return t[0].permute(perm);
                });
            }
            case 5 -> new Call(on + "squeeze(" + d + ")", names("dim"), () -> {
                make.run();
                return t[0].squeeze(d);
            });
            case 6 -> new Call(on + "unsqueeze(" + d + ")", names("dim"), () -> {
                make.run();
                return t[0].unsqueeze(d);
            });
            case 7 -> {
                int[] ns = wildShape(r);
                yield new Call(on + "expand" + str(ns), names("size", "shape", "dim"), () -> {
                    make.run();
                    return t[0].expand(ns);
                });
            }
            case 8 -> {
                int[] at = new int[r.nextInt(4)];
                for (int i = 0; i < at.length; i++) {
                    at[i] = index(r, 3);
                }
                yield new Call(on + "get" + str(at), names("index", "indices"), () -> {
                    make.run();
                    return t[0].get(at);
                });
            }
            default -> new Call(on + "slice(" + d + ")", names("dim"), () -> {
                make.run();
                return t[0].slice(d, index(new Random(d), 3), index(new Random(d + 1), 3));
            });
        };
    }

    private Call op(Random r) {
        int[] s = shape(r, 3);
        int[] s2 = r.nextBoolean() ? s.clone() : shape(r, 3);
        int d = index(r, Math.max(s.length, 1));
        String on = "on " + str(s) + ", " + str(s2) + ": ";
        Random local = new Random(r.nextLong());
        int which = r.nextInt(11);
        return switch (which) {
            case 0 -> new Call(on + "add", names("other", "shapes"), () -> base(local, s).add(base(local, s2)));
            case 1 -> new Call(on + "mul", names("other", "shapes"), () -> base(local, s).mul(base(local, s2)));
            case 2 -> new Call(on + "matmul", names("self", "other", "argument"), () -> base(local, s).matmul(base(local, s2)));
            case 3 -> new Call(on + "sum(" + d + ")", names("dim"), () -> base(local, s).sum(d, local.nextBoolean()));
            case 4 -> new Call(on + "mean(" + d + ")", names("dim"), () -> base(local, s).mean(d, false));
            case 5 -> new Call(on + "max(" + d + ")", names("dim"), () -> base(local, s).max(d, true));
            case 6 -> new Call(on + "argmin(" + d + ")", names("dim"), () -> base(local, s).argmin(d, false));
            case 7 -> new Call(on + "softmax(" + d + ")", names("dim"), () -> base(local, s).logSoftmax(d));
            case 8 -> new Call(on + "copyFrom", names("src", "shape"), () -> {
                Tensor dst = base(local, s);
                float[] before = dst.toArray();
                try (GradMode.Guard g = GradMode.noGrad()) {
                    return dst.copyFrom(base(local, s2));
                } catch (IllegalArgumentException e) {
                    assertArrayEquals(before, dst.toArray(), "a refused copy_ changed the destination");
                    throw e;
                }
            });
            case 9 -> new Call(on + "where", names("cond", "shapes", "'a'", "'b'"),
                    () -> Tensor.where(base(local, s).gt(0f), base(local, s2), base(local, s)));
            default -> new Call(on + "clamp+backward", names("gradient"), () -> {
                Tensor x = base(local, s).requiresGrad(true);
                Tensor y = x.clamp(-0.5f, 0.5f).sum();
                y.backward();
                Tensor g = x.grad();
                x.zeroGrad();
                return g;
            });
        };
    }

    private Call joinAndIndex(Random r) {
        int[] s = shape(r, 3);
        Random local = new Random(r.nextLong());
        int d = index(r, Math.max(s.length, 1));
        String on = "on " + str(s) + ": ";
        return switch (r.nextInt(4)) {
            case 0 -> {
                int[] other = local.nextBoolean() ? s.clone() : shape(local, 3);
                yield new Call(on + "concat with " + str(other) + " at " + d, names("tensors", "dim"),
                        () -> Tensor.concat(List.of(base(local, s), base(local, other)), d));
            }
            case 1 -> {
                int[] other = local.nextBoolean() ? s.clone() : shape(local, 3);
                yield new Call(on + "stack with " + str(other) + " at " + d, names("tensors", "dim"),
                        () -> Tensor.stack(List.of(base(local, s), base(local, other)), d));
            }
            case 2 -> {
                int[] idx = new int[local.nextInt(4)];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = index(local, 3);
                }
                yield new Call(on + "indexSelect(" + d + ", " + str(idx) + ")", names("index", "dim"),
                        () -> base(local, s).indexSelect(d, idx));
            }
            default -> {
                int[] is = shape(local, 3);
                float v = local.nextInt(3) == 0 ? 0.5f : index(local, 3);
                yield new Call(on + "gather(" + d + ", " + str(is) + " of " + v + ")", names("index", "dim"),
                        () -> base(local, s).gather(d, Tensor.full(v, is)));
            }
        };
    }

    private Call recurrent(Random r) {
        int kind = r.nextInt(3);
        int in = size(r);
        int hid = size(r);
        // wild layer counts only from the refused ones: 65536 small legal layers are just slow
        int[] wildLayers = {-1, 0, Integer.MIN_VALUE, Integer.MAX_VALUE, 1 << 30, 536_870_912};
        int layers = r.nextInt(6) == 0 ? wildLayers[r.nextInt(wildLayers.length)] : 1 + r.nextInt(2);
        float drop = r.nextInt(3) == 0 ? wildF(r) : 0f;
        boolean bi = r.nextBoolean();
        int proj = r.nextInt(4) == 0 ? size(r) : 0;
        long seed = r.nextLong();
        int[] xs = r.nextBoolean() && in <= 4 ? new int[] {small(r), small(r), in} : shape(r, 4);
        boolean h0 = r.nextBoolean();
        int[] hs = shape(r, 3);
        String desc = new String[] {"RNN", "LSTM", "GRU"}[kind] + "(input_size=" + in + ", hidden_size=" + hid + ", num_layers="
                + layers + ", dropout=" + drop + ", bi=" + bi + ", proj_size=" + proj + ").forward(" + str(xs)
                + (h0 ? ", h0 " + str(hs) : "") + ")";
        return new Call(desc, names("input_size", "hidden_size", "num_layers", "dropout", "proj_size", "input", "h0", "c0"), () -> {
            Generator g = new Generator(seed);
            Module m = switch (kind) {
                case 0 -> RNN.builder().inputSize(in).hiddenSize(hid).numLayers(layers).dropout(drop).bidirectional(bi)
                        .projSize(proj).generator(g).build();
                case 1 -> LSTM.builder().inputSize(in).hiddenSize(hid).numLayers(layers).dropout(drop).bidirectional(bi)
                        .projSize(proj).generator(g).build();
                default -> GRU.builder().inputSize(in).hiddenSize(hid).numLayers(layers).dropout(drop).bidirectional(bi)
                        .projSize(proj).generator(g).build();
            };
            try (m) {
                if (new Random(seed).nextBoolean()) {
                    m.eval();
                }
                Tensor x = Tensor.randn(g, xs);
                Tensor h = h0 ? Tensor.randn(g, hs) : null;
                if (m instanceof RNN rnn) {
                    rnn.forward(x, h);
                } else if (m instanceof LSTM lstm) {
                    lstm.forward(x, h, h == null ? null : Tensor.randn(g, hs));
                } else {
                    ((GRU) m).forward(x, h);
                }
            }
            return null;
        });
    }

    private Call cell(Random r) {
        int kind = r.nextInt(3);
        int in = size(r);
        int hid = size(r);
        long seed = r.nextLong();
        int[] xs = r.nextBoolean() && in <= 4 ? new int[] {small(r), in} : shape(r, 3);
        int[] hs = r.nextBoolean() ? null : shape(r, 3);
        String desc = new String[] {"RNNCell", "LSTMCell", "GRUCell"}[kind] + "(" + in + ", " + hid + ").forward(" + str(xs)
                + (hs == null ? "" : ", hx " + str(hs)) + ")";
        return new Call(desc, names("input_size", "hidden_size", "input", "hx", "cx"), () -> {
            Generator g = new Generator(seed);
            Module m = switch (kind) {
                case 0 -> new RNNCell(in, hid, true, "tanh", g);
                case 1 -> new LSTMCell(in, hid, true, g);
                default -> new GRUCell(in, hid, true, g);
            };
            try (m) {
                Tensor x = Tensor.randn(g, xs);
                Tensor h = hs == null ? null : Tensor.randn(g, hs);
                if (m instanceof RNNCell c) {
                    c.forward(x, h);
                } else if (m instanceof LSTMCell c) {
                    c.forward(x, h, h);
                } else {
                    ((GRUCell) m).forward(x, h);
                }
            }
            return null;
        });
    }

    private Call linear(Random r) {
        int in = size(r);
        int out = size(r);
        int[] xs = r.nextBoolean() && in <= 4 ? new int[] {small(r), in} : shape(r, 3);
        long seed = r.nextLong();
        return new Call("Linear(" + in + ", " + out + ").forward(" + str(xs) + ")", names("in_features", "out_features", "input"), () -> {
            Generator g = new Generator(seed);
            try (Linear l = new Linear(in, out, new Random(seed).nextBoolean(), g)) {
                l.forward(Tensor.randn(g, xs)).sum().backward();
            }
            return null;
        });
    }

    private Call embedding(Random r) {
        int v = size(r);
        int e = size(r);
        int pad = r.nextInt(3) == 0 ? index(r, Math.max(v, 1)) : Embedding.NONE;
        int[] ids = new int[r.nextInt(4)];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = r.nextBoolean() ? r.nextInt(Math.max(1, Math.min(v, 4))) : index(r, Math.max(v, 1));
        }
        int[] is = r.nextBoolean() ? new int[] {ids.length} : wildShape(r);
        long seed = r.nextLong();
        return new Call("Embedding(" + v + ", " + e + ", padding_idx=" + pad + ").forward(" + str(ids) + ", " + str(is) + ")",
                names("num_embeddings", "embedding_dim", "padding_idx", "ids", "idsShape"), () -> {
                    try (Embedding emb = new Embedding(v, e, pad, new Generator(seed))) {
                        Tensor out = emb.forward(ids, is);
                        if (out.numel() > 0) {
                            out.sum().backward();
                        }
                    }
                    return null;
                });
    }

    private Call dropout(Random r) {
        float p = wildF(r);
        int[] s = shape(r, 3);
        long seed = r.nextLong();
        if (r.nextBoolean()) {
            return new Call("Dropout(" + p + ")" + str(s), names("'p'"), () -> {
                try (Dropout d = new Dropout(p, new Generator(seed))) {
                    return d.forward(Tensor.ones(s));
                }
            });
        }
        return new Call("dropout(" + str(s) + ", " + p + ")", names("'p'"),
                () -> Dropout.dropout(Tensor.ones(s), p, true, new Generator(seed)));
    }

    private Call loss(Random r) {
        int[] s = shape(r, 3);
        int[] target = new int[r.nextInt(5)];
        int c = s.length == 0 ? 0 : (s.length == 1 ? s[0] : s[1]);
        for (int i = 0; i < target.length; i++) {
            target[i] = switch (r.nextInt(5)) {
                case 0 -> -100;
                case 1 -> index(r, Math.max(c, 1));
                default -> c == 0 ? 0 : r.nextInt(c);
            };
        }
        int[] t = r.nextInt(8) == 0 ? null : target;
        Reduction red = Reduction.values()[r.nextInt(3)];
        int ignore = r.nextBoolean() ? -100 : r.nextInt(3);
        long seed = r.nextLong();
        String what = str(s) + ", targets " + (t == null ? "null" : str(t)) + ", " + red + ", ignore " + ignore;
        return switch (r.nextInt(3)) {
            case 0 -> new Call("cross_entropy(" + what + ")", names("input", "target"), () -> {
                Tensor x = Tensor.randn(new Generator(seed), s).requiresGrad(true);
                Tensor l = Losses.crossEntropy(x, t, red, ignore);
                l.backward(Tensor.ones(l.shape()));
                x.zeroGrad();
                return l;
            });
            case 1 -> new Call("nll_loss(" + what + ")", names("input", "target"), () -> {
                Tensor x = Tensor.randn(new Generator(seed), s).requiresGrad(true);
                Tensor l = Losses.nllLoss(x, t, red, ignore);
                l.backward(Tensor.ones(l.shape()));
                x.zeroGrad();
                return l;
            });
            default -> {
                int[] s2 = r.nextBoolean() ? s : shape(r, 3);
                yield new Call("mse(" + str(s) + ", " + str(s2) + ")", names("input", "target"),
                        () -> Losses.mse(Tensor.randn(new Generator(seed), s), Tensor.zeros(s2), red));
            }
        };
    }

    private static double wildD(Random r) {
        return switch (r.nextInt(12)) {
            case 0 -> Double.NaN;
            case 1 -> Double.POSITIVE_INFINITY;
            case 2 -> Double.NEGATIVE_INFINITY;
            case 3 -> -0.5;
            case 4 -> 1.0;
            case 5 -> 1e30;
            case 6 -> 0.0;
            default -> 0.1 * r.nextInt(5);
        };
    }

    private static List<Tensor> params(Random r) {
        List<Tensor> ps = new ArrayList<>();
        int n = 1 + r.nextInt(2);
        for (int i = 0; i < n; i++) {
            ps.add(Tensor.randn(new Generator(r.nextLong()), small(r), small(r)).requiresGrad(true));
        }
        return ps;
    }

    private static Optimizer anyOptimizer(Random r, List<Tensor> ps, double lr) {
        return switch (r.nextInt(3)) {
            case 0 -> SGD.builder(ps).lr(lr).momentum(0.5 * r.nextInt(2)).build();
            case 1 -> Adam.builder(ps).lr(lr).build();
            default -> AdamW.builder(ps).lr(lr).build();
        };
    }

    private Call optimizer(Random r) {
        long seed = r.nextLong();
        int which = r.nextInt(9);
        double v = wildD(r);
        double w = r.nextBoolean() ? wildD(r) : 0.9;
        boolean nesterov = r.nextInt(4) == 0;
        String desc = "optimizer " + which + " with " + v + ", " + w + (nesterov ? ", nesterov" : "");
        return new Call(desc, names("lr", "momentum", "dampening", "weight_decay", "betas", "eps", "Nesterov"), () -> {
            Random local = new Random(seed);
            List<Tensor> ps = params(local);
            Optimizer opt = switch (which) {
                case 0 -> new SGD(ps, v);
                case 1 -> SGD.builder(ps).momentum(v).nesterov(nesterov).build();
                case 2 -> SGD.builder(ps).momentum(0.9).dampening(v).nesterov(nesterov).build();
                case 3 -> SGD.builder(ps).weightDecay(v).build();
                case 4 -> Adam.builder(ps).lr(v).build();
                case 5 -> Adam.builder(ps).betas(v, w).build();
                case 6 -> AdamW.builder(ps).eps(v).build();
                case 7 -> AdamW.builder(ps).weightDecay(v).build();
                default -> new Adam(ps, v);
            };
            try (opt) {
                for (Tensor p : ps) {
                    p.setGrad(Tensor.ones(p.shape()));
                }
                opt.step();
                opt.zeroGrad();
            }
            return null;
        });
    }

    private Call scheduler(Random r) {
        long seed = r.nextLong();
        boolean step = r.nextBoolean();
        int n = size(r);
        double v = wildD(r);
        int steps = r.nextInt(12);
        String desc = (step ? "StepLR(" : "CosineAnnealingLR(") + n + ", " + v + ") x" + steps;
        return new Call(desc, names(step ? "stepSize" : "tMax", step ? "gamma" : "etaMin", "lr"), () -> {
            Random local = new Random(seed);
            try (Optimizer opt = anyOptimizer(local, params(local), 0.01 * local.nextInt(3))) {
                LRScheduler s = step ? new StepLR(opt, n, v) : new CosineAnnealingLR(opt, n, v);
                for (int i = 0; i < steps; i++) {
                    int epoch = s.lastEpoch();
                    double lr = opt.getLr();
                    try {
                        s.step();
                    } catch (IllegalArgumentException e) {
                        assertEquals(epoch, s.lastEpoch(), "a refused scheduler step advanced the epoch");
                        assertEquals(lr, opt.getLr(), "a refused scheduler step changed the lr");
                        throw e;
                    }
                }
            }
            return null;
        });
    }

    private Call clipping(Random r) {
        long seed = r.nextLong();
        double v = wildD(r);
        double p = r.nextBoolean() ? wildD(r) : 2.0;
        boolean norm = r.nextBoolean();
        String desc = norm ? "clipGradNorm(" + v + ", " + p + ")" : "clipGradValue(" + v + ")";
        return new Call(desc, names(norm ? "maxNorm" : "clip", "normType"), () -> {
            List<Tensor> ps = params(new Random(seed));
            for (Tensor t : ps) {
                t.setGrad(Tensor.full(3f, t.shape()));
            }
            if (norm) {
                GradClip.clipGradNorm(ps, v, p);
            } else {
                GradClip.clipGradValue(ps, v);
            }
            return null;
        });
    }

    /** A gradient of the wrong shape on some parameter: the step is refused and changes no parameter or state. */
    private Call stepWithBadGradient(Random r) {
        long seed = r.nextLong();
        return new Call("step with a misshapen gradient", names("gradient", "grad"), () -> {
            Random local = new Random(seed);
            List<Tensor> ps = params(local);
            ps.add(Tensor.randn(new Generator(seed), 2, 2).requiresGrad(true));
            try (Optimizer opt = anyOptimizer(local, ps, 0.1)) {
                List<float[]> before = new ArrayList<>();
                for (int i = 0; i < ps.size(); i++) {
                    Tensor p = ps.get(i);
                    before.add(p.toArray());
                    boolean bad = i == ps.size() - 1;
                    p.setGrad(bad ? Tensor.ones(local.nextBoolean() ? 4 : 3, 1) : Tensor.ones(p.shape()));
                }
                try {
                    opt.step();
                } catch (IllegalStateException e) {
                    for (int i = 0; i < ps.size(); i++) {
                        assertArrayEquals(before.get(i), ps.get(i).toArray(), "a refused step moved parameter " + i);
                        assertEquals(0, opt.stepCount(i), "a refused step counted parameter " + i);
                    }
                    throw e;
                }
            }
            return null;
        });
    }

    /** A state dict with one misshapen entry: refused, and no parameter changed. */
    private Call loadStateDict(Random r) {
        long seed = r.nextLong();
        return new Call("loadStateDict with a misshapen entry", names("shape"), () -> {
            Generator g = new Generator(seed);
            try (LSTM a = LSTM.builder().inputSize(2).hiddenSize(3).generator(g).build();
                 LSTM b = LSTM.builder().inputSize(2).hiddenSize(4).generator(g).build()) {
                Map<String, Tensor> state = new java.util.LinkedHashMap<>(b.stateDict());
                state.put("weight_ih_l0", Tensor.zeros(12, 2));   // right shape for a: the rest is wrong
                List<float[]> before = new ArrayList<>();
                for (Tensor p : a.parameters()) {
                    before.add(p.toArray());
                }
                try {
                    a.loadStateDict(state);
                } catch (IllegalArgumentException e) {
                    List<Tensor> ps = a.parameters();
                    for (int i = 0; i < ps.size(); i++) {
                        assertArrayEquals(before.get(i), ps.get(i).toArray(), "a refused load changed parameter " + i);
                    }
                    throw e;
                }
            }
            return null;
        });
    }
}
