"""A multinomial logistic regression in numpy: small, fast, and every weight readable.

Inputs are standardised with the training mean and scale stored in the model; training is full-batch
Adam on the class-weighted cross-entropy with an L2 penalty. Used for the document stance model and
the sentence-pair model, and saved as gzipped JSON next to a model card.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class LinearModel:
    labels: list[str]
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # features x labels
    bias: np.ndarray

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        logits = ((rows - self.mean) / self.scale) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def contributions(self, row: np.ndarray, label: str) -> dict[str, float]:
        """Each feature's share of one label's logit: the evidence behind a decision."""
        column = self.labels.index(label)
        values = (np.asarray(row, dtype=np.float64) - self.mean) / self.scale * self.weights[:, column]
        return {name: round(float(v), 3) for name, v in zip(self.features, values)}

    def to_dict(self) -> dict:
        return {
            "labels": self.labels, "features": self.features,
            "mean": self.mean.round(6).tolist(), "scale": self.scale.round(6).tolist(),
            "weights": self.weights.round(6).tolist(), "bias": self.bias.round(6).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> LinearModel:
        return cls(data["labels"], data["features"], np.array(data["mean"]), np.array(data["scale"]),
                   np.array(data["weights"]), np.array(data["bias"]))


def fit_linear(rows: np.ndarray, targets: np.ndarray, labels: list[str], features: list[str],
               l2: float = 1e-2, epochs: int = 600, rate: float = 0.05,
               sample_weight: np.ndarray | None = None, balance: float = 0.75,
               unscaled: np.ndarray | None = None) -> LinearModel:
    """Fit on rows (n x features) and integer targets. Each class is weighted by (n / (k * count)) **
    `balance`: 1 is fully balanced, 0 leaves the frequencies alone; in between keeps rare labels
    (disagree) visible without flooding the majority with false alarms. Columns flagged in `unscaled`
    (sparse 0/1 indicators) are left as they are: standardising a rare indicator would blow it up."""
    rows = np.asarray(rows, dtype=np.float64)
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale < 1e-6] = 1.0
    if unscaled is not None:
        mean[unscaled], scale[unscaled] = 0.0, 1.0
    x = (rows - mean) / scale
    n, k = len(rows), len(labels)
    onehot = np.eye(k)[targets]
    counts = np.bincount(targets, minlength=k).astype(np.float64)
    class_weight = np.where(counts > 0, (n / (k * np.maximum(counts, 1))) ** balance, 0.0)
    w = class_weight[targets] * (sample_weight if sample_weight is not None else 1.0)
    w = w / w.sum()
    weights, bias = np.zeros((x.shape[1], k)), np.zeros(k)
    moments = [np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias)]
    for step in range(1, epochs + 1):
        logits = x @ weights + bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        error = (probs - onehot) * w[:, None]
        grads = (x.T @ error + l2 * weights, error.sum(axis=0))
        for index, (param, grad) in enumerate(zip((weights, bias), grads)):
            m, v = moments[2 * index], moments[2 * index + 1]
            m[:] = 0.9 * m + 0.1 * grad
            v[:] = 0.999 * v + 0.001 * grad * grad
            param -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return LinearModel(list(labels), list(features), mean, scale, weights, bias)


def save_json(data: dict, path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))


def load_json(source) -> dict:
    """Gzipped JSON from a path or a package resource."""
    with (Path(source) if isinstance(source, str) else source).open("rb") as fh:
        return json.loads(gzip.decompress(fh.read()))
