"""PyTorch twin of `rnn4j-examples.jar charlm train` for a side-by-side validation perplexity.

Same preparation (Gutenberg header/footer stripped, d2l preprocessing, <unk> + characters by
frequency, last 10% held out), same sequential sampler (d2l's seq_data_iter_sequential, state
carried and detached between batches, reset each epoch), same model (one-hot -> LSTM -> Linear),
same optimiser, clipping and evaluation (the held-out text cut into `batch` streams read in chunks
of `steps`, state carried). Random draws differ (Python's RNG, PyTorch's init), so the numbers
agree statistically, not bit for bit.

    /usr/bin/python3 benchmarks/pytorch/charlm_recipe.py --corpus /path/to/pg35.txt \
        --torch-threads 1 --blas-threads 2

The thread setup is explicit, as in bench_rnn.py (torch_env.py): --torch-threads T for
torch.set_num_threads and the OpenBLAS thread count, --blas-threads B (the script re-executes
itself with OPENBLAS_NUM_THREADS=B before torch is imported) or OPENBLAS_NUM_THREADS in the
environment. On Debian's torch over the pthread OpenBLAS, torch threads N on top of OpenBLAS
threads N oversubscribe the cores; torch threads 1 with OpenBLAS threads N is the fast setup.
Both counts, the CPU, the torch version and the BLAS go into the first output line
("# env: {...}", JSON) and a short summary line.
"""
import argparse
import json
import math
import random
import re
import time
from collections import Counter

import torch_env

if __name__ == "__main__":
    torch_env.fix_blas_threads_from_argv("charlm_recipe.py")  # may re-exec; before torch is loaded

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402


def read_corpus(path):
    text = open(path, encoding="utf-8").read().lstrip("\ufeff").replace("\r\n", "\n")
    start = text.find("*** START OF")
    if start >= 0:
        text = text[text.index("\n", start) + 1:]
    end = text.find("*** END OF")
    if end >= 0:
        text = text[:end]
    return text.strip() + "\n"


def d2l_preprocess(text):
    return "".join(re.sub("[^A-Za-z]+", " ", line).strip().lower() for line in text.split("\n"))


def vocabulary(text):
    counts = Counter(text)  # insertion order = first appearance; sorted() is stable
    return ["<unk>"] + [c for c, _ in sorted(counts.items(), key=lambda kv: kv[1], reverse=True)]


def sequential_batches(corpus, batch, steps, rnd):
    offset = rnd.randint(0, steps)
    num_tokens = (len(corpus) - offset - 1) // batch * batch
    xs = torch.tensor(corpus[offset:offset + num_tokens]).reshape(batch, -1)
    ys = torch.tensor(corpus[offset + 1:offset + 1 + num_tokens]).reshape(batch, -1)
    for i in range(0, xs.shape[1] // steps * steps, steps):
        yield xs[:, i:i + steps].T, ys[:, i:i + steps].T  # (T, B)


class CharModel(nn.Module):
    def __init__(self, vocab, hidden, layers):
        super().__init__()
        self.vocab = vocab
        self.rnn = nn.LSTM(vocab, hidden, layers)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.rnn(F.one_hot(x, self.vocab).float(), state)
        return self.fc(out.reshape(-1, out.shape[-1])), state


@torch.no_grad()
def perplexity(model, ids, batch, steps):
    b = max(1, min(batch, (len(ids) - 1) // steps))
    length = (len(ids) - 1) // b
    # stream s is ids[s*length : (s+1)*length], targets shifted by one (as on the Java side)
    x_all = torch.stack([torch.tensor(ids[s * length:(s + 1) * length]) for s in range(b)])
    y_all = torch.stack([torch.tensor(ids[s * length + 1:(s + 1) * length + 1]) for s in range(b)])
    model.eval()
    state, total = None, 0.0
    for start in range(0, length, steps):
        x, y = x_all[:, start:start + steps].T, y_all[:, start:start + steps].T
        logits, state = model(x, state)
        total += F.cross_entropy(logits, y.reshape(-1), reduction="sum").item()
    model.train()
    return math.exp(total / (length * b))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=35)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    torch_env.add_thread_args(p)
    a = p.parse_args()
    blas_threads = torch_env.fix_blas_threads(a, "charlm_recipe.py")  # done at import: only checks now
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.torch_threads)
    env = torch_env.describe(torch, a.torch_threads, blas_threads)
    print("# env: " + json.dumps(env))
    print("# " + torch_env.summary(env))
    text = d2l_preprocess(read_corpus(a.corpus))
    vocab = vocabulary(text)
    index = {c: i for i, c in enumerate(vocab)}
    ids = [index[c] for c in text]
    n_val = round(len(ids) * a.val_fraction)
    train, val = ids[:len(ids) - n_val], ids[len(ids) - n_val:]
    print(f"torch {torch.__version__}; {len(train):,} training + {len(val):,} validation tokens, vocabulary {len(vocab)}")
    model = CharModel(len(vocab), a.hidden, a.layers)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    t_start = time.time()
    for epoch in range(a.epochs):
        rnd = random.Random(a.seed * 1_000_003 + epoch)
        t0, loss_sum, tokens, state = time.time(), 0.0, 0, None
        for x, y in sequential_batches(train, a.batch, a.steps, rnd):
            if state is not None:
                state = tuple(s.detach() for s in state)
            logits, state = model(x, state)
            loss = F.cross_entropy(logits, y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
            opt.step()
            loss_sum += loss.item() * y.numel()
            tokens += y.numel()
        seconds = time.time() - t0
        print(f"epoch {epoch + 1:4d}  train perplexity {math.exp(loss_sum / tokens):7.3f}  "
              f"val perplexity {perplexity(model, val, a.batch, a.steps):7.3f}  {tokens / seconds:8,.0f} tokens/s")
    print(f"trained {a.epochs} epochs in {time.time() - t_start:.1f} s")


if __name__ == "__main__":
    main()
