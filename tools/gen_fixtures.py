#!/usr/bin/python3
"""Generate rnn4j golden test fixtures from PyTorch.

Run from the repository root with Debian's python (NOT a pyenv python):

    /usr/bin/python3 tools/gen_fixtures.py            # writes src/test/resources/fixtures/
    /usr/bin/python3 tools/gen_fixtures.py --out DIR  # somewhere else
    /usr/bin/python3 tools/gen_fixtures.py --check    # also read every file back and verify

Needs python3-torch and python3-numpy (apt-get install -y python3-torch python3-numpy
libopenblas0-pthread). Output is deterministic: every case seeds torch itself.

See tools/README.md for the file format and the tensor/metadata conventions.
"""

import argparse
import io
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import (pack_padded_sequence, pad_packed_sequence,
                                pack_sequence, pad_sequence)

TORCH_VERSION = torch.__version__
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "src", "test", "resources", "fixtures")

WRITTEN = []  # paths relative to the fixtures dir


# ----------------------------------------------------------------------------
# safetensors writer / reader (F32 only, which is all we write)
# ----------------------------------------------------------------------------

def to_f32(t):
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        if t.dtype == torch.bool:
            t = t.to(torch.int64)
        t = t.numpy()
    a = np.asarray(t)
    return np.ascontiguousarray(a.astype("<f4"))


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, array) or dict (insertion order kept)."""
    items = list(tensors.items()) if isinstance(tensors, dict) else list(tensors)
    header = {}
    blobs = []
    off = 0
    for name, arr in items:
        a = to_f32(arr)
        b = a.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + b:base + e], dtype="<f4").reshape(info["shape"])
    return out, meta


class Fixtures:
    def __init__(self, root):
        self.root = root

    def save(self, rel, tensors, metadata):
        metadata = dict(metadata)
        metadata.setdefault("torch_version", TORCH_VERSION)
        write_safetensors(os.path.join(self.root, rel), tensors, metadata)
        WRITTEN.append(rel)


def b(x):
    return "true" if x else "false"


def rand32(*shape):
    """Standard normal drawn in float32 then promoted to float64 (exactly representable)."""
    return torch.randn(*shape, dtype=torch.float32).double()


# ----------------------------------------------------------------------------
# 1. full RNN modules
# ----------------------------------------------------------------------------

KINDS = ["rnn_tanh", "rnn_relu", "lstm", "lstm_proj", "gru"]

# (name, num_layers, bidirectional, batch_first, bias, has_h0, mode, T, N, lengths)
# mode: batched | unbatched | packed.  For packed cases lengths are unsorted and
# contain both 1 and T (= max length).
RNN_SHAPES = [
    ("l1_uni",              1, False, False, True,  False, "batched",   5, 3, None),
    ("l1_uni_bf_h0",        1, False, True,  True,  True,  "batched",   4, 2, None),
    ("l2_bi_h0",            2, True,  False, True,  True,  "batched",   5, 3, None),
    ("l3_uni_nobias",       3, False, False, False, False, "batched",   3, 2, None),
    ("l2_bi_bf_nobias",     2, True,  True,  False, False, "batched",   4, 4, None),
    ("t1_n1_bi_h0",         1, True,  False, True,  True,  "batched",   1, 1, None),
    ("unbatched_l1",        1, False, False, True,  False, "unbatched", 5, None, None),
    ("unbatched_l2_bi_h0",  2, True,  False, True,  True,  "unbatched", 4, None, None),
    ("unbatched_l1_bf_h0",  1, False, True,  True,  True,  "unbatched", 3, None, None),
    ("packed_l1_uni",       1, False, False, True,  False, "packed",    5, 4, [3, 5, 1, 4]),
    ("packed_l2_bi_bf_h0",  2, True,  True,  True,  True,  "packed",    6, 3, [1, 6, 4]),
    ("packed_l3_bi_nobias_h0", 3, True, False, False, True, "packed",   4, 4, [2, 4, 1, 4]),
]


def make_rnn_module(kind, I, H, P, L, bias, bf, bi, dropout=0.0):
    if kind in ("rnn_tanh", "rnn_relu"):
        nl = "tanh" if kind == "rnn_tanh" else "relu"
        return nn.RNN(I, H, num_layers=L, nonlinearity=nl, bias=bias, batch_first=bf,
                      dropout=dropout, bidirectional=bi), "RNN", nl
    if kind == "lstm":
        return nn.LSTM(I, H, num_layers=L, bias=bias, batch_first=bf, dropout=dropout,
                       bidirectional=bi), "LSTM", None
    if kind == "lstm_proj":
        return nn.LSTM(I, H, num_layers=L, bias=bias, batch_first=bf, dropout=dropout,
                       bidirectional=bi, proj_size=P), "LSTM", None
    if kind == "gru":
        return nn.GRU(I, H, num_layers=L, bias=bias, batch_first=bf, dropout=dropout,
                      bidirectional=bi), "GRU", None
    raise ValueError(kind)


def gen_rnn(fx):
    idx = 0
    for ki, kind in enumerate(KINDS):
        for si, (sname, L, bi, bf, bias, has_h0, mode, T, N, lengths) in enumerate(RNN_SHAPES):
            idx += 1
            seed = 1000 + 100 * ki + si
            torch.manual_seed(seed)
            I = 3 + (ki + si) % 3          # 3..5
            H = 4 + (2 * ki + si) % 3      # 4..6
            P = (2 + si % 2) if kind == "lstm_proj" else 0
            rnn_case(fx, f"rnn/{kind}_{sname}.safetensors", kind, I, H, P, L, bi, bf, bias, has_h0, mode, T, N,
                     lengths, seed)


def gen_rnn_wide(fx):
    """Wider random cases (rnn_wide/): sizes that are not multiples of the 8/16-float vector
    width and batches above the small-batch kernel's cutoff, so that vector tails and both GEMM
    paths of the native kernels meet PyTorch too. Same tensors and metadata as rnn/."""
    import random
    rng = random.Random(4242)
    for ki, kind in enumerate(KINDS):
        for k in range(3):
            seed = 7000 + 10 * ki + k
            torch.manual_seed(seed)
            I = rng.choice([7, 16, 19])
            H = rng.choice([17, 24, 33])
            P = rng.choice([5, 9]) if kind == "lstm_proj" else 0
            L = rng.choice([1, 2])
            bi = rng.random() < 0.6
            bf = rng.random() < 0.5
            bias = rng.random() < 0.8
            has_h0 = rng.random() < 0.6
            mode = ["batched", "packed", "unbatched"][k]
            T = rng.randint(3, 7)
            N = rng.randint(5, 9)
            lengths = None
            if mode == "packed":
                lengths = [rng.randint(1, T) for _ in range(N)]
                lengths[rng.randrange(N)] = T
                lengths[rng.randrange(N)] = 1
                if T not in lengths:
                    lengths[0] = T
            rnn_case(fx, f"rnn_wide/{kind}_{mode}_{k}.safetensors", kind, I, H, P, L, bi, bf, bias, has_h0, mode,
                     T, N, lengths, seed)


def initial_state_tensors(h0, c0):
    """("h0", h0) and ("c0", c0) for the ones given (h0 None: zero initial state)."""
    return [(n, v) for n, v in (("h0", h0), ("c0", c0)) if v is not None]


def gradient_tensors(x, h0, c0, module, names):
    """grad.input, grad.h0 / grad.c0 when given, then grad.<param> in registration order."""
    t = [("grad.input", x.grad)] + [("grad." + n, v.grad) for n, v in initial_state_tensors(h0, c0)]
    pd = dict(module.named_parameters())
    return t + [("grad." + n, pd[n].grad) for n in names]


def rnn_case(fx, path, kind, I, H, P, L, bi, bf, bias, has_h0, mode, T, N, lengths, seed,
             enforce_sorted=None, dropout=None):
    """enforce_sorted / dropout: None for the rnn/ and rnn_wide/ groups (unsorted packing with
    a length 1, no dropout, no extra metadata); set by edge/rnn/, which then records them."""
    D = 2 if bi else 1
    Hout = P if P else H
    mod, modname, nl = make_rnn_module(kind, I, H, P, L, bias, bf, bi, dropout or 0.0)
    # params are initialised in float32 (default PyTorch init); promote exactly.
    mod = mod.double()
    names = [n for n, _ in mod.named_parameters()]
    params = {n: p.detach().clone() for n, p in mod.named_parameters()}

    unbatched = mode == "unbatched"
    packed = mode == "packed"
    if unbatched:
        x = rand32(T, I)
        hshape = (L * D, Hout)
        cshape = (L * D, H)
    else:
        x = rand32(N, T, I) if bf else rand32(T, N, I)
        hshape = (L * D, N, Hout)
        cshape = (L * D, N, H)
    x.requires_grad_(True)
    h0 = c0 = None
    if has_h0:
        h0 = rand32(*hshape).requires_grad_(True)
        if modname == "LSTM":
            c0 = rand32(*cshape).requires_grad_(True)

    if modname == "LSTM":
        hx = (h0, c0) if has_h0 else None
    else:
        hx = h0

    if packed:
        lens = torch.tensor(lengths, dtype=torch.int64)
        assert max(lengths) == T and (1 in lengths or enforce_sorted is not None)
        pk = pack_padded_sequence(x, lens, batch_first=bf, enforce_sorted=bool(enforce_sorted))
        out_p, hn = mod(pk, hx)
        out, out_lens = pad_packed_sequence(out_p, batch_first=bf, padding_value=0.0)
        assert out_lens.tolist() == lengths
    else:
        out, hn = mod(x, hx)
    if modname == "LSTM":
        h_n, c_n = hn
    else:
        h_n, c_n = hn, None

    g_out = rand32(*out.shape)
    if packed:
        mask = torch.zeros(out.shape[:2], dtype=torch.float64)
        for bidx, ln in enumerate(lengths):
            if bf:
                mask[bidx, :ln] = 1
            else:
                mask[:ln, bidx] = 1
        g_out = g_out * mask.unsqueeze(-1)
    g_hn = rand32(*h_n.shape)
    loss = (out * g_out).sum() + (h_n * g_hn).sum()
    g_cn = None
    if c_n is not None:
        g_cn = rand32(*c_n.shape)
        loss = loss + (c_n * g_cn).sum()
    loss.backward()

    t = []
    for n in names:
        t.append((n, params[n]))
    t.append(("input", x))
    if packed:
        t.append(("lengths", torch.tensor(lengths)))
    t += initial_state_tensors(h0, c0)
    t.append(("output", out))
    t.append(("h_n", h_n))
    if c_n is not None:
        t.append(("c_n", c_n))
    t.append(("grad_output", g_out))
    t.append(("grad_h_n", g_hn))
    if g_cn is not None:
        t.append(("grad_c_n", g_cn))
    t += gradient_tensors(x, h0, c0, mod, names)

    meta = {
        "module": modname,
        "input_size": I, "hidden_size": H, "num_layers": L,
        "bias": b(bias), "batch_first": b(bf), "bidirectional": b(bi),
        "proj_size": P, "packed": b(packed), "unbatched": b(unbatched),
        "has_h0": b(has_h0), "seq_len": T,
        "batch_size": 0 if unbatched else N,
        "dropout": "0" if dropout is None else repr(float(dropout)), "seed": seed,
        "compute_dtype": "float64",
    }
    if enforce_sorted is not None:
        meta["enforce_sorted"] = b(enforce_sorted)
    if nl is not None:
        meta["nonlinearity"] = nl
    fx.save(path, t, meta)


# ----------------------------------------------------------------------------
# 2. cells
# ----------------------------------------------------------------------------

CELL_KINDS = ["rnncell_tanh", "rnncell_relu", "lstmcell", "grucell"]
# (name, unbatched, bias, has_h0, N)
CELL_SHAPES = [
    ("batched_h0",          False, True,  True,  3),
    ("batched",             False, True,  False, 2),
    ("batched_nobias_h0",   False, False, True,  4),
    ("unbatched_h0",        True,  True,  True,  None),
    ("unbatched",           True,  True,  False, None),
    ("unbatched_nobias_h0", True,  False, True,  None),
]


def gen_cell(fx):
    for ki, kind in enumerate(CELL_KINDS):
        for si, (sname, unb, bias, has_h0, N) in enumerate(CELL_SHAPES):
            seed = 2000 + 100 * ki + si
            torch.manual_seed(seed)
            I = 3 + (ki + si) % 3
            H = 4 + (ki + 2 * si) % 3
            cell_case(fx, f"cell/{kind}_{sname}.safetensors", kind, I, H, bias, unb, has_h0, N, seed)


def cell_case(fx, path, kind, I, H, bias, unb, has_h0, N, seed):
    """One cell step, forward and backward (torch already seeded by the caller)."""
    nl = None
    if kind.startswith("rnncell"):
        nl = "tanh" if kind.endswith("tanh") else "relu"
        cell = nn.RNNCell(I, H, bias=bias, nonlinearity=nl)
        modname = "RNNCell"
    elif kind == "lstmcell":
        cell = nn.LSTMCell(I, H, bias=bias)
        modname = "LSTMCell"
    else:
        cell = nn.GRUCell(I, H, bias=bias)
        modname = "GRUCell"
    cell = cell.double()
    names = [n for n, _ in cell.named_parameters()]
    params = {n: p.detach().clone() for n, p in cell.named_parameters()}
    x = (rand32(I) if unb else rand32(N, I)).requires_grad_(True)
    hshape = (H,) if unb else (N, H)
    h0 = c0 = None
    if has_h0:
        h0 = rand32(*hshape).requires_grad_(True)
        if modname == "LSTMCell":
            c0 = rand32(*hshape).requires_grad_(True)
    if modname == "LSTMCell":
        h1, c1 = cell(x, (h0, c0) if has_h0 else None)
    else:
        h1, c1 = cell(x, h0), None
    g_h = rand32(*h1.shape)
    loss = (h1 * g_h).sum()
    g_c = None
    if c1 is not None:
        g_c = rand32(*c1.shape)
        loss = loss + (c1 * g_c).sum()
    loss.backward()
    t = [(n, params[n]) for n in names]
    t.append(("input", x))
    t += initial_state_tensors(h0, c0)
    t.append(("h_n", h1))
    if c1 is not None:
        t.append(("c_n", c1))
    t.append(("grad_h_n", g_h))
    if g_c is not None:
        t.append(("grad_c_n", g_c))
    t += gradient_tensors(x, h0, c0, cell, names)
    meta = {"module": modname, "input_size": I, "hidden_size": H,
            "bias": b(bias), "unbatched": b(unb), "has_h0": b(has_h0),
            "batch_size": 0 if unb else N, "seed": seed,
            "compute_dtype": "float64"}
    if nl is not None:
        meta["nonlinearity"] = nl
    fx.save(path, t, meta)


# ----------------------------------------------------------------------------
# 3. packing utilities
# ----------------------------------------------------------------------------

def gen_pack(fx):
    # pack_padded_sequence + pad_packed_sequence round trips
    # (name, batch_first, enforce_sorted, lengths, F, padding_value, total_length)
    cases = [
        ("padded_unsorted",        False, False, [3, 5, 1, 4],    3, 0.0, None),
        ("padded_unsorted_bf",     True,  False, [2, 1, 6, 6, 3], 2, 0.0, None),
        ("padded_sorted_enforced", True,  True,  [5, 4, 4, 2, 1], 2, 0.0, None),
        ("padded_total_length",    False, False, [2, 4, 1],       3, 0.0, 7),
        ("padded_padvalue_neg1",   True,  False, [1, 3, 2, 3],    2, -1.0, None),
        ("padded_single",          False, False, [4],             3, 0.0, None),
    ]
    for i, (name, bf, es, lengths, Fdim, pv, tl) in enumerate(cases):
        seed = 3000 + i
        torch.manual_seed(seed)
        T, N = max(lengths), len(lengths)
        x = torch.randn(N, T, Fdim) if bf else torch.randn(T, N, Fdim)  # junk in padding too
        lens = torch.tensor(lengths, dtype=torch.int64)
        pk = pack_padded_sequence(x, lens, batch_first=bf, enforce_sorted=es)
        kwargs = {"batch_first": bf, "padding_value": pv}
        if tl is not None:
            kwargs["total_length"] = tl
        padded, plens = pad_packed_sequence(pk, **kwargs)
        t = [("input", x), ("lengths", lens), ("data", pk.data),
             ("batch_sizes", pk.batch_sizes)]
        if pk.sorted_indices is not None:
            t.append(("sorted_indices", pk.sorted_indices))
            t.append(("unsorted_indices", pk.unsorted_indices))
        t.append(("padded", padded))
        t.append(("padded_lengths", plens))
        meta = {"op": "pack_padded_sequence+pad_packed_sequence",
                "batch_first": b(bf), "enforce_sorted": b(es),
                "padding_value": repr(float(pv)),
                "total_length": "none" if tl is None else str(tl),
                "has_sorted_indices": b(pk.sorted_indices is not None),
                "seed": seed}
        fx.save(f"pack/{name}.safetensors", t, meta)

    # pack_sequence (+ pad_packed_sequence)
    seq_cases = [
        ("pack_sequence_unsorted", False, [2, 5, 1, 3], 3, False),
        ("pack_sequence_sorted_bf", True, [4, 3, 1], 2, True),
    ]
    for i, (name, bf, lengths, Fdim, es) in enumerate(seq_cases):
        seed = 3100 + i
        torch.manual_seed(seed)
        seqs = [torch.randn(l, Fdim) for l in lengths]
        pk = pack_sequence(seqs, enforce_sorted=es)
        padded, plens = pad_packed_sequence(pk, batch_first=bf)
        t = [(f"sequence.{j}", s) for j, s in enumerate(seqs)]
        t.append(("lengths", torch.tensor(lengths)))
        t += [("data", pk.data), ("batch_sizes", pk.batch_sizes)]
        if pk.sorted_indices is not None:
            t.append(("sorted_indices", pk.sorted_indices))
            t.append(("unsorted_indices", pk.unsorted_indices))
        t.append(("padded", padded))
        t.append(("padded_lengths", plens))
        meta = {"op": "pack_sequence+pad_packed_sequence", "batch_first": b(bf),
                "enforce_sorted": b(es), "num_sequences": len(seqs),
                "padding_value": "0.0", "total_length": "none",
                "has_sorted_indices": b(pk.sorted_indices is not None), "seed": seed}
        fx.save(f"pack/{name}.safetensors", t, meta)

    # pad_sequence
    pad_cases = [
        ("pad_sequence_tf", False, [3, 1, 4], 2, 0.0),
        ("pad_sequence_bf_neg1", True, [2, 5, 1, 5], 3, -1.0),
    ]
    for i, (name, bf, lengths, Fdim, pv) in enumerate(pad_cases):
        seed = 3200 + i
        torch.manual_seed(seed)
        seqs = [torch.randn(l, Fdim) for l in lengths]
        padded = pad_sequence(seqs, batch_first=bf, padding_value=pv)
        t = [(f"sequence.{j}", s) for j, s in enumerate(seqs)]
        t.append(("lengths", torch.tensor(lengths)))
        t.append(("padded", padded))
        meta = {"op": "pad_sequence", "batch_first": b(bf),
                "padding_value": repr(float(pv)), "num_sequences": len(seqs),
                "seed": seed}
        fx.save(f"pack/{name}.safetensors", t, meta)


# ----------------------------------------------------------------------------
# 4. losses
# ----------------------------------------------------------------------------

def loss_backward(loss, red):
    """Backward of a loss: from a random upstream gradient for reduction none (returned as
    [("grad_loss", g)] for the fixture), else from 1 (returns [])."""
    if red == "none":
        g = rand32(*loss.shape)
        (loss * g).sum().backward()
        return [("grad_loss", g)]
    loss.backward()
    return []


def cross_entropy_case(fx, name, logits, tgt, red, ii, C, seed):
    """F.cross_entropy forward and backward (an upstream gradient for reduction none) saved as
    loss/cross_entropy_<name>; `rows` is the number of targets."""
    loss = F.cross_entropy(logits, tgt, ignore_index=ii, reduction=red)
    t = [("logits", logits), ("targets", tgt)]
    t += loss_backward(loss, red)
    t += [("loss", loss), ("grad.logits", logits.grad)]
    meta = {"loss": "cross_entropy", "reduction": red, "ignore_index": ii, "num_classes": C,
            "rows": int(tgt.numel()), "seed": seed, "compute_dtype": "float64",
            "num_ignored": int((tgt == ii).sum())}
    fx.save(f"loss/cross_entropy_{name}.safetensors", t, meta)


def gen_loss(fx):
    # (name, R, C, reduction, ignore_index, targets_ignored)
    ce = [
        ("mean",               6, 5, "mean", -100, []),
        ("sum",                4, 7, "sum",  -100, []),
        ("none",               5, 4, "none", -100, []),
        ("mean_ignore",        7, 5, "mean", -100, [1, 4]),
        ("sum_ignore",         6, 3, "sum",  -100, [0, 5]),
        ("none_ignore",        5, 6, "none", -100, [2]),
        ("mean_ignore_index2", 8, 4, "mean", 2,    None),  # natural + forced 2s
    ]
    for i, (name, R, C, red, ii, ign) in enumerate(ce):
        seed = 4000 + i
        torch.manual_seed(seed)
        logits = (2.0 * rand32(R, C)).requires_grad_(True)
        tgt = torch.randint(0, C, (R,), dtype=torch.int64)
        if ign is None:
            tgt[0] = 2
            tgt[3] = 2
            if (tgt != 2).sum() == 0:
                tgt[1] = 0
        else:
            for j in ign:
                tgt[j] = ii
        cross_entropy_case(fx, name, logits, tgt, red, ii, C, seed)

    # PyTorch's other input forms: K-dimensional (N, C, d1, d2) with targets (N, d1, d2), and
    # unbatched (C) with a 0-d target
    kdim = [("kdim_mean_ignore", (2, 4, 3, 2), "mean", 1), ("kdim_none", (3, 5, 2, 1), "none", -100),
            ("unbatched_sum", (6,), "sum", -100)]
    for i, (name, shape, red, ii) in enumerate(kdim):
        seed = 4050 + i
        torch.manual_seed(seed)
        logits = (2.0 * rand32(*shape)).requires_grad_(True)
        C = shape[1] if len(shape) > 1 else shape[0]
        tshape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        tgt = torch.randint(0, C, tshape, dtype=torch.int64)
        if ii != -100:
            tgt.view(-1)[0] = ii
        cross_entropy_case(fx, name, logits, tgt, red, ii, C, seed)

    mse = [("mean", (3, 4), "mean"), ("sum", (5,), "sum"), ("none", (2, 3, 2), "none")]
    for i, (name, shape, red) in enumerate(mse):
        seed = 4100 + i
        torch.manual_seed(seed)
        x = rand32(*shape).requires_grad_(True)
        y = rand32(*shape).requires_grad_(True)
        loss = F.mse_loss(x, y, reduction=red)
        t = [("input", x), ("target", y)]
        t += loss_backward(loss, red)
        t += [("loss", loss), ("grad.input", x.grad), ("grad.target", y.grad)]
        meta = {"loss": "mse", "reduction": red, "seed": seed, "compute_dtype": "float64"}
        fx.save(f"loss/mse_{name}.safetensors", t, meta)


# degenerate loss inputs (edge/loss/): empty batches (R = 0, N = 0, d = 0), zero classes, all
# targets ignored; Debian's PyTorch 1.13 refuses some of them (then the file records the error
# and the Java side must refuse them too)
LOSS_EDGE = [
    # (name, logits shape, targets: "zeros" | "ignored" | list, for every reduction)
    ("r0_c3",          (0, 3),    "zeros"),
    ("n0_c3_d2",       (0, 3, 2), "zeros"),
    ("n2_c3_d0",       (2, 3, 0), "zeros"),
    ("r0_c0",          (0, 0),    "zeros"),
    ("n0_c0_d2",       (0, 0, 2), "zeros"),
    ("r2_c0_ignored",  (2, 0),    "ignored"),
    ("c0_unbatched_ignored", (0,), "ignored"),
    ("r2_c3_ignored",  (2, 3),    "ignored"),
    ("r2_c0_target0",  (2, 0),    "zeros"),       # IndexError: target 0 out of bounds
    ("n3_c0_d2_ignored", (3, 0, 2), "ignored"),   # RuntimeError in 1.13 (its view of the logits)
    ("c0_unbatched_target0", (0,), "zeros"),      # IndexError
]


def gen_loss_edge(fx):
    for i, (name, shape, tkind) in enumerate(LOSS_EDGE):
        tshape = (shape[0],) + tuple(shape[2:]) if len(shape) > 1 else ()
        for fn_name, fn in (("cross_entropy", F.cross_entropy), ("nll_loss", F.nll_loss)):
            for red in ("mean", "sum", "none"):
                seed = 5000 + i
                torch.manual_seed(seed)
                logits = (2.0 * rand32(*shape)).requires_grad_(True)
                tgt = torch.zeros(tshape, dtype=torch.int64) if tkind == "zeros" \
                    else torch.full(tshape, -100, dtype=torch.int64)
                meta = {"loss": fn_name, "reduction": red, "ignore_index": -100, "seed": seed,
                        "compute_dtype": "float64", "logits_shape": list(shape)}
                t = [("logits", logits), ("targets", tgt)]
                try:
                    loss = fn(logits, tgt, ignore_index=-100, reduction=red)
                except (IndexError, RuntimeError, ValueError) as e:
                    meta["error"] = type(e).__name__
                    meta["error_message"] = str(e).splitlines()[0][:200]
                    fx.save(f"edge/loss/{fn_name}_{name}_{red}.safetensors", t, meta)
                    continue
                if red == "none":   # loss_backward's rand32 cannot draw a 0-d upstream gradient
                    g = torch.randn(tuple(loss.shape), dtype=torch.float32).double()
                    (loss * g).sum().backward()
                    t += [("grad_loss", g)]
                else:
                    loss.backward()
                # the writer stores 0-d tensors as (1): the true shape goes in the metadata
                meta["loss_shape"] = list(loss.shape)
                t += [("loss", loss), ("grad.logits", logits.grad)]
                fx.save(f"edge/loss/{fn_name}_{name}_{red}.safetensors", t, meta)


# ----------------------------------------------------------------------------
# 5. training trajectories
# ----------------------------------------------------------------------------

class CharLM(nn.Module):
    def __init__(self, V=11, E=8, H=16, L=2):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, num_layers=L, batch_first=False)
        self.fc = nn.Linear(H, V)

    def forward(self, x):
        return self.fc(self.lstm(self.embedding(x))[0])


def run_trajectory(opt_name, dtype, V, T, B, steps, lr, momentum, max_norm, seed):
    torch.manual_seed(seed)
    model = CharLM(V=V)
    # scale the default init (exact powers of two) so that gradients are large enough
    # for clip_grad_norm_(max_norm=0.5) to actually clip on several steps
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.startswith("lstm."):
                p.mul_(2.0)
            elif n.startswith("fc."):
                p.mul_(8.0)
    g = torch.Generator().manual_seed(seed + 1)
    seq = torch.randint(0, V, (T + 1, B), generator=g, dtype=torch.int64)
    inputs, targets = seq[:-1], seq[1:]
    init = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model = model.to(dtype)
    params = list(model.parameters())
    if opt_name == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    else:
        opt = torch.optim.Adam(params, lr=lr)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
        loss.backward()
        n = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm)
        opt.step()
        losses.append(loss.item())
        norms.append(float(n))
    final = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return init, inputs, targets, losses, norms, final


def gen_train(fx):
    V, T, B, steps, max_norm = 11, 12, 4, 20, 0.5
    for fname, opt_name, lr, mom in [("lstm_lm", "sgd", 0.5, 0.9),
                                     ("lstm_lm_adam", "adam", 0.01, None)]:
        seed = 5000
        init, inputs, targets, losses, norms, final = run_trajectory(
            opt_name, torch.float32, V, T, B, steps, lr, mom, max_norm, seed)
        _, _, _, losses64, norms64, _ = run_trajectory(
            opt_name, torch.float64, V, T, B, steps, lr, mom, max_norm, seed)
        t = list(init.items())
        t += [("inputs", inputs), ("targets", targets),
              ("losses", torch.tensor(losses)), ("grad_norms", torch.tensor(norms)),
              ("losses_f64", torch.tensor(losses64, dtype=torch.float64)),
              ("grad_norms_f64", torch.tensor(norms64, dtype=torch.float64))]
        t += [("final." + k, v) for k, v in final.items()]
        meta = {"model": "Embedding(11,8)->LSTM(8,16,num_layers=2,batch_first=false)->Linear(16,11)",
                "vocab_size": V, "embedding_dim": 8, "hidden_size": 16, "num_layers": 2,
                "seq_len": T, "batch_size": B, "steps": steps,
                "optimizer": "SGD" if opt_name == "sgd" else "Adam",
                "lr": repr(lr), "max_norm": repr(max_norm),
                "loss": "cross_entropy(logits.reshape(-1,V), targets.reshape(-1)), reduction=mean",
                "clip": "clip_grad_norm_(model.parameters(), max_norm, norm_type=2) after backward, before step",
                "compute_dtype": "float32", "seed": seed,
                "init": "PyTorch default init, then lstm.* x2 and fc.* x8 (stored tensors are the actual initial values)",
                "clipped_steps": sum(1 for n in norms if n > max_norm)}
        if opt_name == "sgd":
            meta.update({"momentum": repr(mom), "dampening": "0.0", "nesterov": "false",
                         "weight_decay": "0.0"})
        else:
            meta.update({"betas": "0.9,0.999", "eps": "1e-08", "weight_decay": "0.0",
                         "amsgrad": "false"})
        fx.save(f"train/{fname}.safetensors", t, meta)


# ----------------------------------------------------------------------------
# 6. io
# ----------------------------------------------------------------------------

def gen_io(fx):
    seed = 6000
    torch.manual_seed(seed)
    lstm = nn.LSTM(5, 7, num_layers=2, bidirectional=True)
    sd = lstm.state_dict()
    rel = "io/lstm_state_dict.safetensors"
    try:
        from safetensors.torch import save_file  # noqa
        have_st = True
    except ImportError:
        have_st = False
    meta = {"module": "LSTM", "input_size": 5, "hidden_size": 7, "num_layers": 2,
            "bidirectional": "true", "batch_first": "false", "bias": "true",
            "proj_size": 0, "seed": seed, "torch_version": TORCH_VERSION}
    if have_st:
        import safetensors
        meta["writer"] = "safetensors.torch.save_file " + safetensors.__version__
        path = os.path.join(fx.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        save_file({k: v.contiguous() for k, v in sd.items()}, path,
                  metadata={k: str(v) for k, v in meta.items()})
        WRITTEN.append(rel)
    else:
        meta["writer"] = ("rnn4j tools/gen_fixtures.py write_safetensors "
                          "(python3-safetensors is not packaged in Debian)")
        fx.save(rel, list(sd.items()), meta)

    m = lstm.double()
    torch.manual_seed(seed + 1)
    x = rand32(4, 3, 5)
    with torch.no_grad():
        out, (h_n, c_n) = m(x)
    fx.save("io/lstm_state_dict_io.safetensors",
            [("input", x), ("output", out), ("h_n", h_n), ("c_n", c_n)],
            {"module": "LSTM", "input_size": 5, "hidden_size": 7, "num_layers": 2,
             "bidirectional": "true", "batch_first": "false", "bias": "true",
             "proj_size": 0, "has_h0": "false", "compute_dtype": "float64",
             "weights": "io/lstm_state_dict.safetensors"})

# ----------------------------------------------------------------------------
# edge cases (edge/): ties in the length sort past 16 sequences, enforce_sorted packing,
# every length equal to T, total_length with batch_first, 3-layer bidirectional no-bias,
# dropout=1 between layers in training mode
# ----------------------------------------------------------------------------

# (name, kind, I, H, P, L, bi, bf, bias, has_h0, mode, T, N, lengths, enforce_sorted, dropout)
EDGE_RNN = [
    ("lstm_proj_packed_l2_bi_h0_unsorted", "lstm_proj", 3, 6, 2, 2, True, False, True, True,
     "packed", 5, 5, [2, 5, 1, 5, 3], False, None),
    ("gru_packed_all_full_l2_bi_bf_h0", "gru", 4, 5, 0, 2, True, True, True, True,
     "packed", 4, 3, [4, 4, 4], False, None),
    ("lstm_packed_enforce_sorted_l2_bi_h0", "lstm", 3, 5, 0, 2, True, False, True, True,
     "packed", 5, 4, [5, 3, 3, 1], True, None),
    ("rnn_tanh_packed_enforce_sorted_bf_all_full", "rnn_tanh", 3, 4, 0, 1, False, True, False, True,
     "packed", 3, 3, [3, 3, 3], True, None),
    ("gru_packed_ties_n20_l1_bi_h0", "gru", 3, 4, 0, 1, True, False, True, True,
     "packed", 4, 20, [2, 4, 1, 3, 4, 2, 2, 4, 1, 3, 3, 4, 2, 1, 4, 3, 2, 2, 4, 1], False, None),
    ("lstm_proj_packed_ties_n18_bf_h0", "lstm_proj", 2, 5, 3, 1, False, True, True, True,
     "packed", 3, 18, [1, 3, 2, 3, 1, 2, 3, 3, 1, 2, 2, 3, 1, 3, 2, 1, 3, 2], False, None),
    ("gru_l3_bi_nobias_h0", "gru", 3, 4, 0, 3, True, False, False, True,
     "batched", 4, 2, None, None, None),
    ("rnn_relu_l3_bi_nobias", "rnn_relu", 4, 3, 0, 3, True, True, False, False,
     "batched", 3, 3, None, None, None),
    ("gru_l2_dropout1_train_h0", "gru", 3, 4, 0, 2, False, False, True, True,
     "batched", 3, 2, None, None, 1.0),
    ("lstm_l3_bi_dropout1_train", "lstm", 3, 4, 0, 3, True, False, True, False,
     "batched", 3, 2, None, None, 1.0),
]


def gen_edge(fx):
    for i, (name, kind, I, H, P, L, bi, bf, bias, has_h0, mode, T, N, lengths, es, dr) in enumerate(EDGE_RNN):
        seed = 9000 + i
        torch.manual_seed(seed)
        rnn_case(fx, f"edge/rnn/{name}.safetensors", kind, I, H, P, L, bi, bf, bias, has_h0, mode, T, N,
                 lengths, seed, enforce_sorted=bool(es), dropout=dr if dr is not None else 0.0)

    # torch.sort(lengths, descending=True) as pack_padded_sequence uses it: std::sort, so the
    # order of equal lengths is batch order up to 16 entries and introsort's beyond
    import random
    rng = random.Random(9100)
    t = []
    k = 0
    for n in [1, 2, 15, 16, 17, 18, 20, 31, 32, 33, 50, 64, 100, 257]:
        for m in [1, 2, 3, 5, 9, 40]:
            lengths = [rng.randint(1, m) for _ in range(n)]
            _, si = torch.sort(torch.tensor(lengths, dtype=torch.int64), descending=True)
            t.append((f"lengths.{k}", torch.tensor(lengths)))
            t.append((f"sorted_indices.{k}", si))
            k += 1
    for n in [40, 300]:   # already sorted / reversed / organ-pipe inputs
        for lengths in (list(range(n, 0, -1)), list(range(1, n + 1)),
                        [min(j, n - j) + 1 for j in range(n)], [1 + j % 7 for j in range(n)]):
            _, si = torch.sort(torch.tensor(lengths, dtype=torch.int64), descending=True)
            t.append((f"lengths.{k}", torch.tensor(lengths)))
            t.append((f"sorted_indices.{k}", si))
            k += 1
    fx.save("edge/sort/descending_ties.safetensors", t,
            {"op": "torch.sort(lengths, descending=True)", "num_cases": k, "seed": 9100})

    # pack formats as in pack/: ties past 16 sequences, total_length with batch_first
    cases = [
        ("padded_ties_n23_bf_total_length", True, False, [rng.randint(1, 4) for _ in range(22)] + [4], 2, 0.5, 6),
        ("padded_ties_n40_tf", False, False, [rng.randint(1, 3) for _ in range(40)], 1, 0.0, None),
        ("padded_all_full_enforced_bf", True, True, [3, 3, 3, 3], 2, 0.0, None),
        ("padded_all_full_unsorted_tf_total_length", False, False, [2, 2, 2], 3, -2.0, 4),
    ]
    for i, (name, bf, es, lengths, Fdim, pv, tl) in enumerate(cases):
        seed = 9200 + i
        torch.manual_seed(seed)
        T, N = max(lengths), len(lengths)
        x = torch.randn(N, T, Fdim) if bf else torch.randn(T, N, Fdim)
        lens = torch.tensor(lengths, dtype=torch.int64)
        pk = pack_padded_sequence(x, lens, batch_first=bf, enforce_sorted=es)
        kwargs = {"batch_first": bf, "padding_value": pv}
        if tl is not None:
            kwargs["total_length"] = tl
        padded, plens = pad_packed_sequence(pk, **kwargs)
        t = [("input", x), ("lengths", lens), ("data", pk.data), ("batch_sizes", pk.batch_sizes)]
        if pk.sorted_indices is not None:
            t.append(("sorted_indices", pk.sorted_indices))
            t.append(("unsorted_indices", pk.unsorted_indices))
        t.append(("padded", padded))
        t.append(("padded_lengths", plens))
        meta = {"op": "pack_padded_sequence+pad_packed_sequence",
                "batch_first": b(bf), "enforce_sorted": b(es),
                "padding_value": repr(float(pv)),
                "total_length": "none" if tl is None else str(tl),
                "has_sorted_indices": b(pk.sorted_indices is not None),
                "seed": seed}
        fx.save(f"edge/pack/{name}.safetensors", t, meta)
    seed = 9300
    torch.manual_seed(seed)
    lengths = [rng.randint(1, 3) for _ in range(21)]
    seqs = [torch.randn(l, 2) for l in lengths]
    pk = pack_sequence(seqs, enforce_sorted=False)
    padded, plens = pad_packed_sequence(pk, batch_first=True)
    t = [(f"sequence.{j}", s_) for j, s_ in enumerate(seqs)]
    t.append(("lengths", torch.tensor(lengths)))
    t += [("data", pk.data), ("batch_sizes", pk.batch_sizes),
          ("sorted_indices", pk.sorted_indices), ("unsorted_indices", pk.unsorted_indices),
          ("padded", padded), ("padded_lengths", plens)]
    fx.save("edge/pack/pack_sequence_ties_n21_bf.safetensors", t,
            {"op": "pack_sequence+pad_packed_sequence", "batch_first": "true", "enforce_sorted": "false",
             "num_sequences": len(seqs), "padding_value": "0.0", "total_length": "none",
             "has_sorted_indices": "true", "seed": seed})




# ----------------------------------------------------------------------------
# 8. optimizers and gradient clipping
# ----------------------------------------------------------------------------

OPTIM_CASES = [
    # (name, optimizer, kwargs)
    ("sgd_plain", "SGD", dict(lr=0.1)),
    ("sgd_momentum_dampening", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov_wd", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("adam", "Adam", dict(lr=0.01)),
    ("adam_wd_betas_eps", "Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", "AdamW", dict(lr=0.01, weight_decay=0.05)),
    ("adamw_betas", "AdamW", dict(lr=0.003, betas=(0.5, 0.9), eps=1e-7, weight_decay=0.2)),
    # RMSprop (not fused in rnn4j: Optimizer.apply with tensor ops); "rmsprop" keeps every default
    ("rmsprop", "RMSprop", dict()),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.005, momentum=0.9)),
    ("rmsprop_centered", "RMSprop", dict(lr=0.003, alpha=0.9, centered=True)),
    ("rmsprop_wd", "RMSprop", dict(lr=0.01, weight_decay=0.1, eps=1e-6)),
    ("rmsprop_centered_momentum_wd", "RMSprop", dict(lr=0.002, alpha=0.95, momentum=0.5, centered=True,
                                                     weight_decay=0.05)),
]
OPTIM_SHAPES = [(4, 3), (5,), (2, 3, 2)]
OPTIM_STEPS = 6


def gen_optim(fx):
    """Each optimizer for OPTIM_STEPS steps on three parameters, with a fresh random gradient
    per step (given), in float64 from float32 values; the parameters after every step."""
    for i, (name, opt, kw) in enumerate(OPTIM_CASES):
        seed = 8000 + i
        torch.manual_seed(seed)
        params = [rand32(*sh).requires_grad_(True) for sh in OPTIM_SHAPES]
        t = [(f"param.{j}", p.detach().clone()) for j, p in enumerate(params)]
        o = getattr(torch.optim, opt)(params, **kw)
        for k in range(OPTIM_STEPS):
            for j, p in enumerate(params):
                p.grad = rand32(*p.shape)
                t.append((f"grad.{j}.step{k}", p.grad.clone()))
            o.step()
            for j, p in enumerate(params):
                t.append((f"param.{j}.after{k}", p.detach().clone()))
        if opt == "RMSprop":
            # the final buffers under rnn4j's state-dict keys (state.<i>.<PyTorch key>; 'step' is
            # OPTIM_STEPS for every parameter)
            for j, p in enumerate(params):
                for key, v in o.state[p].items():
                    if key != "step":
                        t.append((f"state.{j}.{key}", v.detach().clone()))
        meta = {"optimizer": opt, "steps": OPTIM_STEPS, "num_params": len(params), "seed": seed,
                "compute_dtype": "float64"}
        for k, v in kw.items():
            meta[k] = ",".join(repr(float(x)) for x in v) if isinstance(v, tuple) else (
                b(v) if isinstance(v, bool) else repr(float(v)))
        fx.save(f"optim/{name}.safetensors", t, meta)

    # clip_grad_norm_ (norm types 2, 1, inf; clipping and not) and clip_grad_value_
    clip_cases = [("norm2_clips", 2.0, 0.5), ("norm2_no_clip", 2.0, 100.0), ("norm1_clips", 1.0, 1.5),
                  ("norminf_clips", float("inf"), 0.3)]
    for i, (name, nt, mx) in enumerate(clip_cases):
        seed = 8100 + i
        torch.manual_seed(seed)
        params = [rand32(*sh).requires_grad_(True) for sh in OPTIM_SHAPES]
        for p in params:
            p.grad = rand32(*p.shape)
        t = [(f"grad.{j}", p.grad.clone()) for j, p in enumerate(params)]
        total = torch.nn.utils.clip_grad_norm_(params, mx, norm_type=nt)
        t.append(("total_norm", total.detach().reshape(())))
        t += [(f"clipped.{j}", p.grad.clone()) for j, p in enumerate(params)]
        fx.save(f"optim/clip_grad_{name}.safetensors", t,
                {"op": "clip_grad_norm_", "max_norm": repr(mx), "norm_type": repr(nt), "seed": seed,
                 "num_params": len(params), "compute_dtype": "float64"})
    seed = 8200
    torch.manual_seed(seed)
    params = [rand32(*sh).requires_grad_(True) for sh in OPTIM_SHAPES]
    for p in params:
        p.grad = rand32(*p.shape)
    t = [(f"grad.{j}", p.grad.clone()) for j, p in enumerate(params)]
    torch.nn.utils.clip_grad_value_(params, 0.7)
    t += [(f"clipped.{j}", p.grad.clone()) for j, p in enumerate(params)]
    fx.save("optim/clip_grad_value.safetensors", t,
            {"op": "clip_grad_value_", "clip_value": "0.7", "seed": seed, "num_params": len(params),
             "compute_dtype": "float64"})

# ----------------------------------------------------------------------------
# 7. torch: files as PyTorch users have them (torch.save zip archives, safetensors
#    with F16/BF16/F64/integer dtypes), plus what PyTorch computes from them
# ----------------------------------------------------------------------------

ST_DTYPES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
             torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
             torch.uint8: "U8", torch.bool: "BOOL"}
TYPED = set()  # fixtures in native dtypes (not the F32-only fixture format)


def raw_bytes(t):
    """A tensor's row-major little-endian bytes in its own dtype (numpy has no bfloat16)."""
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_typed_safetensors(path, items, metadata):
    """safetensors with each tensor in its own dtype, by hand (Debian has no python3-safetensors)."""
    header, blobs, off = {}, [], 0
    for name, t in items:
        bts = raw_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(bts)]}
        blobs.append(bts)
        off += len(bts)
    header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))


def torch_save(fx, rel, obj, **kw):
    path = os.path.join(fx.root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path, **kw)
    WRITTEN.append(rel)
    TYPED.add(rel)


def storage_types(path):
    """{storage key: element size} of a torch.save zip, read from data.pkl without building tensors."""
    import pickle
    import zipfile
    z = zipfile.ZipFile(path)
    pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
    sizes = {}

    class U(pickle.Unpickler):
        def find_class(self, mod, name):
            if mod == "torch" and name.endswith("Storage"):
                return getattr(torch, name)
            return lambda *a, **k: None

        def persistent_load(self, pid):
            sizes[pid[2]] = pid[1](0).element_size()
            return None
    U(io.BytesIO(z.read(pkl))).load()
    return z, pkl.split("/")[0], sizes


def rewrite_zip(src, dst, byteorder):
    """Copy of a torch.save zip with a byteorder record, storages byte-swapped for 'big' (what PyTorch 2.x
    writes on a big-endian machine). Entries stored, as torch.save writes them."""
    import zipfile
    z, prefix, sizes = storage_types(src)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            data = z.read(info.filename)
            key = info.filename[len(prefix) + len("/data/"):] if info.filename.startswith(prefix + "/data/") else None
            if key is not None and byteorder == "big" and sizes[key] > 1:
                data = np.frombuffer(data, dtype=f"<u{sizes[key]}").astype(f">u{sizes[key]}").tobytes()
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            out.writestr(zi, data)
        zi = zipfile.ZipInfo(prefix + "/byteorder", date_time=(1980, 1, 1, 0, 0, 0))
        out.writestr(zi, byteorder)


def dtype_items():
    """Tensors of every dtype rnn4j reads, with the values that make conversions interesting, plus
    views: transposed, strided slices, an offset, two views of one storage, an expanded (stride 0) view."""
    torch.manual_seed(7000)
    f16_special = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 6.103515625e-05, 5.960464477539063e-08,
                                1e-06, -3e-07, float("inf"), float("-inf"), float("nan")], dtype=torch.float16)
    bf16_special = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.3e38, -1e-38, 9.2e-41, float("inf"), float("-inf"),
                                 float("nan")], dtype=torch.bfloat16)
    f64_special = torch.tensor([0.1, 1.0 / 3.0, -2.0 ** -149, 1e-320, 3.5e38, -1e300, 16777217.0, float("nan"),
                                float("-inf")], dtype=torch.float64)
    base = torch.randn(12)
    items = [
        ("f16", torch.randn(3, 5).half()),
        ("f16_special", f16_special),
        ("bf16", torch.randn(2, 3, 2).bfloat16()),
        ("bf16_special", bf16_special),
        ("f64", torch.randn(4, 2, dtype=torch.float64)),
        ("f64_special", f64_special),
        ("f32", torch.randn(2, 3)),
        ("lengths", torch.tensor([5, 3, 3, 1], dtype=torch.int64)),
        ("i64_extremes", torch.tensor([2 ** 62 + 1, -2 ** 63, 2 ** 63 - 1, 0, -1], dtype=torch.int64)),
        ("i32", torch.tensor([[2 ** 31 - 1, -2 ** 31], [7, -7]], dtype=torch.int32)),
        ("i16", torch.tensor([32767, -32768, 5], dtype=torch.int16)),
        ("i8", torch.tensor([127, -128, 0], dtype=torch.int8)),
        ("u8", torch.tensor([255, 0, 128], dtype=torch.uint8)),
        ("mask", torch.tensor([[True, False, True], [False, False, True]])),
        ("scalar", torch.tensor(-1.5)),
        ("empty", torch.zeros(0, 3)),
        ("transposed", torch.randn(3, 4).t()),
        ("half_transposed", torch.randn(2, 3).half().t()),
        ("column", torch.randn(4, 5)[:, 2]),
        ("strided_slice", base[1:10:3]),
        ("shared_a", base[:4]),
        ("shared_b", base.view(3, 4)[:, 1:3]),
        ("expanded", torch.randn(3).expand(4, 3)),
        ("long_transposed", torch.arange(6, dtype=torch.int64).view(2, 3).t()),
        ("param", nn.Parameter(torch.randn(2, 2))),
    ]
    return items


def gen_torch(fx):
    seed = 7100
    # a projected bidirectional 2-layer LSTM: torch.save(state_dict) as users write it
    torch.manual_seed(seed)
    lstm = nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=True)
    torch_save(fx, "torch/lstm_proj.pt", lstm.state_dict())
    m = lstm.double()
    torch.manual_seed(seed + 1)
    x = rand32(5, 2, 4)
    h0 = rand32(4, 2, 3)
    c0 = rand32(4, 2, 6)
    with torch.no_grad():
        out, (h_n, c_n) = m(x, (h0, c0))
    fx.save("torch/lstm_proj_io.safetensors",
            [("input", x), ("h0", h0), ("c0", c0), ("output", out), ("h_n", h_n), ("c_n", c_n)],
            {"module": "LSTM", "input_size": 4, "hidden_size": 6, "num_layers": 2, "proj_size": 3,
             "bidirectional": "true", "batch_first": "false", "bias": "true", "has_h0": "true",
             "compute_dtype": "float64", "weights": "torch/lstm_proj.pt", "seed": seed})

    # a batch-first GRU saved together with its packed input and int64 lengths in one file
    seed = 7200
    torch.manual_seed(seed)
    gru = nn.GRU(5, 4, num_layers=2, batch_first=True)
    x = torch.randn(3, 6, 5)
    lengths = torch.tensor([4, 6, 2], dtype=torch.int64)
    torch_save(fx, "torch/gru_packed.pt", {**gru.state_dict(), "input": x, "lengths": lengths})
    # the same weights written with pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL)
    torch_save(fx, "torch/gru_protocol4.pt", gru.state_dict(), pickle_protocol=4)
    g = gru.double()
    with torch.no_grad():
        o, h_n = g(pack_padded_sequence(x.double(), lengths, batch_first=True, enforce_sorted=False))
        o = pad_packed_sequence(o, batch_first=True)[0]
    fx.save("torch/gru_packed_io.safetensors", [("output", o), ("h_n", h_n)],
            {"module": "GRU", "input_size": 5, "hidden_size": 4, "num_layers": 2, "batch_first": "true",
             "bidirectional": "false", "bias": "true", "packed": "true", "enforce_sorted": "false",
             "compute_dtype": "float64", "weights": "torch/gru_packed.pt", "seed": seed})

    # every dtype, views and shared storage; the same tensors as safetensors in their own dtypes
    items = dtype_items()
    torch_save(fx, "torch/dtypes.pt", dict(items))
    rel = "torch/dtypes.safetensors"
    write_typed_safetensors(os.path.join(fx.root, rel),
                            [(n, t) for n, t in items], {"writer": "tools/gen_fixtures.py write_typed_safetensors",
                                                         "torch_version": TORCH_VERSION})
    WRITTEN.append(rel)
    TYPED.add(rel)
    for order in ("little", "big"):
        rel = f"torch/dtypes_byteorder_{order}.pt"
        rewrite_zip(os.path.join(fx.root, "torch/dtypes.pt"), os.path.join(fx.root, rel), order)
        WRITTEN.append(rel)
        TYPED.add(rel)
    # what PyTorch makes of them: float entries as .float(), integer entries as decimal strings
    expected, meta = [], {"source": "torch/dtypes.pt, torch/dtypes.safetensors"}
    for n, t in items:
        t = t.detach()
        meta["dtype." + n] = ST_DTYPES[t.dtype]
        meta["shape." + n] = ",".join(str(d) for d in t.shape)
        if t.is_floating_point():
            expected.append((n, t.float().contiguous()))
        else:
            meta["values." + n] = ",".join(str(int(v)) for v in t.reshape(-1).tolist())
    fx.save("torch/dtypes_expected.safetensors", expected, meta)

    # the legacy (pre-1.6) format, which readers must refuse with a clear message
    torch.manual_seed(7300)
    rel = "torch/legacy_format.pt"
    torch_save(fx, rel, {"w": torch.randn(2)}, _use_new_zipfile_serialization=False)
    # the legacy format names storages by their memory address: make the key fixed (same length)
    import re
    path = os.path.join(fx.root, rel)
    with open(path, "rb") as f:
        raw = f.read()
    for k in sorted(set(re.findall(rb"X(?:.)\x00\x00\x00([0-9]{6,20})", raw, re.S))):
        raw = raw.replace(k, b"1" * len(k))
    with open(path, "wb") as f:
        f.write(raw)
    assert torch.load(path)["w"].shape == (2,)


def check_torch(root):
    """torch.load every .pt back and compare with the typed safetensors and the expected file."""
    exp, meta = read_safetensors(os.path.join(root, "torch/dtypes_expected.safetensors"))
    for rel in ["torch/dtypes.pt", "torch/dtypes_byteorder_little.pt", "torch/dtypes_byteorder_big.pt"]:
        sd = torch.load(os.path.join(root, rel)) if not rel.endswith("_big.pt") else None
        if sd is None:
            continue  # torch 1.13 ignores the byteorder record; rnn4j's test reads this one
        for n, t in sd.items():
            if t.is_floating_point():
                assert np.array_equal(t.detach().float().numpy().reshape(-1), exp[n].reshape(-1), equal_nan=True), (rel, n)
            else:
                assert ",".join(str(int(v)) for v in t.reshape(-1).tolist()) == meta["values." + n], (rel, n)


# ----------------------------------------------------------------------------
# verification
# ----------------------------------------------------------------------------

def check(root):
    """Read every fixture back with our own reader; recompute RNN/cell forwards in
    float64 from the stored (float32) tensors and compare with the stored outputs."""
    nfiles = 0
    worst = 0.0
    for rel in WRITTEN:
        if rel in TYPED:
            continue  # torch/ native-dtype files: check_torch
        tens, meta = read_safetensors(os.path.join(root, rel))
        assert meta, rel
        nfiles += 1
        if rel.startswith("rnn/") or (rel.startswith("edge/rnn/") and meta["dropout"] == "0.0"):
            I, H = int(meta["input_size"]), int(meta["hidden_size"])
            L, P = int(meta["num_layers"]), int(meta["proj_size"])
            bf, bi = meta["batch_first"] == "true", meta["bidirectional"] == "true"
            bias = meta["bias"] == "true"
            kw = dict(num_layers=L, bias=bias, batch_first=bf, bidirectional=bi)
            if meta["module"] == "RNN":
                mod = nn.RNN(I, H, nonlinearity=meta["nonlinearity"], **kw)
            elif meta["module"] == "LSTM":
                mod = nn.LSTM(I, H, proj_size=P, **kw)
            else:
                mod = nn.GRU(I, H, **kw)
            mod = mod.double()
            sd = {k: torch.from_numpy(tens[k].astype(np.float64)) for k in mod.state_dict()}
            mod.load_state_dict(sd)
            x = torch.from_numpy(tens["input"].astype(np.float64))
            hx = None
            if meta["has_h0"] == "true":
                h0 = torch.from_numpy(tens["h0"].astype(np.float64))
                hx = (h0, torch.from_numpy(tens["c0"].astype(np.float64))) \
                    if meta["module"] == "LSTM" else h0
            with torch.no_grad():
                if meta["packed"] == "true":
                    lens = torch.from_numpy(tens["lengths"]).to(torch.int64)
                    es = meta.get("enforce_sorted", "false") == "true"
                    o, hn = mod(pack_padded_sequence(x, lens, batch_first=bf,
                                                     enforce_sorted=es), hx)
                    o = pad_packed_sequence(o, batch_first=bf)[0]
                else:
                    o, hn = mod(x, hx)
            hn = hn[0] if meta["module"] == "LSTM" else hn
            for a, bname in [(o, "output"), (hn, "h_n")]:
                d = float(np.abs(a.numpy() - tens[bname].astype(np.float64)).max())
                worst = max(worst, d)
                assert d < 1e-6, (rel, bname, d)
        if rel.startswith("train/"):
            # the first loss must be reproducible from the stored initial weights
            model = CharLM()
            model.load_state_dict({k: torch.from_numpy(tens[k].copy())
                                   for k in model.state_dict()})
            inp = torch.from_numpy(tens["inputs"]).to(torch.int64)
            tgt = torch.from_numpy(tens["targets"]).to(torch.int64)
            with torch.no_grad():
                l0 = F.cross_entropy(model(inp).reshape(-1, 11), tgt.reshape(-1)).item()
            assert abs(l0 - float(tens["losses"][0])) < 1e-5, (rel, l0)
    if any(r.startswith("torch/") for r in WRITTEN):
        check_torch(root)
    print(f"check: {nfiles} files read back, worst forward diff {worst:.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--only", help="comma-separated groups to (re)write, e.g. optim; index.txt keeps the others")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic reductions
    torch.use_deterministic_algorithms(True)
    fx = Fixtures(args.out)
    groups = {"rnn": gen_rnn, "rnn_wide": gen_rnn_wide, "cell": gen_cell, "pack": gen_pack, "loss": gen_loss,
              "train": gen_train, "io": gen_io, "edge": gen_edge, "optim": gen_optim,
              "torch": gen_torch, "loss_edge": gen_loss_edge}
    only = set(args.only.split(",")) if args.only else set(groups)
    unknown = only - set(groups)
    if unknown:
        ap.error(f"unknown groups {sorted(unknown)}; known: {sorted(groups)}")
    for g, fn in groups.items():
        if g in only:
            fn(fx)
    index = os.path.join(args.out, "index.txt")
    entries = set(WRITTEN)
    if args.only and os.path.exists(index):
        with open(index) as f:
            entries |= {l.strip() for l in f if l.strip()}
    with open(index, "w") as f:
        for rel in sorted(entries):
            f.write(rel + "\n")
    total = sum(os.path.getsize(os.path.join(args.out, r)) for r in WRITTEN)
    print(f"wrote {len(WRITTEN)} fixtures ({total} bytes) + index.txt under {args.out}")
    if args.check:
        check(args.out)


if __name__ == "__main__":
    sys.exit(main())
