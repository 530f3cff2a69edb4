#!/usr/bin/python3
"""Random PyTorch-parity cases for the recurrent layers, outside the committed fixtures.

The committed fixtures (gen_fixtures.py) are a fixed grid. This script draws fresh random
configurations -- module kind, sizes (including 1 and sizes that are not multiples of the
vector width), num_layers 1..3, bidirectional, batch_first, bias, given or zero h0/c0,
unbatched / batched / packed input with random lengths, sorted or not -- and writes them in
the same format (rnn_fuzz/ for the layers, cell_fuzz/ for a quarter as many cell steps), so
that the same Java test checks them against PyTorch, forward and backward:

    /usr/bin/python3 tools/fuzz_parity.py --out /tmp/fuzz --cases 300 --seed 1
    mvn -B -q install -DskipTests
    mvn -B verify -pl it -Drnn4j.fixtures.extra=/tmp/fuzz -Dtest=RnnFixtureTest \
        -Dsurefire.failIfNoSpecifiedTests=false

Nothing here is committed as a fixture: it is a tool for finding the cases nobody wrote down.
"""

import argparse
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_fixtures as g  # noqa: E402

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = random.Random(args.seed)
    fx = g.Fixtures(args.out)
    for k in range(args.cases):
        kind = rng.choice(KINDS)
        seed = args.seed * 100000 + k
        torch.manual_seed(seed)
        I = rng.choice([1, 2, 3, 5, 8, 13, 16, 17, 31, 40])
        # 64 and 96 with 33-40 rows reach the native wide split (two threads on packed panels)
        H = rng.choice([1, 2, 3, 4, 7, 8, 16, 17, 33, 48, 64, 96])
        if kind == "lstm_proj":
            H = max(H, 2)
            P = rng.randint(1, H - 1)
        else:
            P = 0
        L = rng.choice([1, 1, 2, 3])
        bi = rng.random() < 0.5
        bf = rng.random() < 0.5
        bias = rng.random() < 0.75
        has_h0 = rng.random() < 0.5
        mode = rng.choice(["batched", "batched", "packed", "packed", "unbatched"])
        T = rng.choice([1, 2, 3, 6, 11, 20])
        N = rng.choice([1, 2, 3, 5, 9, 12, 33, 40])
        lengths = None
        enforce_sorted = None
        if mode == "packed":
            lengths = [rng.randint(1, T) for _ in range(N)]
            lengths[rng.randrange(N)] = T
            enforce_sorted = rng.random() < 0.3
            if enforce_sorted:
                lengths.sort(reverse=True)
            elif 1 not in lengths and N > 1:
                lengths[rng.randrange(N)] = 1
                if T not in lengths:
                    lengths[0] = T
        rel = f"rnn_fuzz/{k:04d}_{kind}_{mode}.safetensors"
        g.rnn_case(fx, rel, kind, I, H, P, L, bi, bf, bias, has_h0, mode, T, N, lengths, seed,
                   enforce_sorted=enforce_sorted, dropout=0.0 if enforce_sorted is not None else None)
    cell_kinds = ["rnncell_tanh", "rnncell_relu", "lstmcell", "grucell"]
    for k in range(args.cases // 4):
        kind = rng.choice(cell_kinds)
        seed = args.seed * 100000 + 50000 + k
        torch.manual_seed(seed)
        I = rng.choice([1, 2, 3, 5, 8, 13, 16, 17, 31, 40])
        H = rng.choice([1, 2, 3, 4, 7, 8, 16, 17, 33, 48])
        unb = rng.random() < 0.3
        N = rng.choice([1, 2, 3, 5, 9, 12, 33])
        g.cell_case(fx, f"cell_fuzz/{k:04d}_{kind}.safetensors", kind, I, H, rng.random() < 0.75, unb,
                    rng.random() < 0.6, N, seed)
    with open(os.path.join(args.out, "index.txt"), "w") as f:
        for rel in sorted(g.WRITTEN):
            f.write(rel + "\n")
    print(f"wrote {len(g.WRITTEN)} cases under {args.out}")


if __name__ == "__main__":
    sys.exit(main())
