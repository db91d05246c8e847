"""PCA whitening of instance descriptors, learned on the shop's own photos (Jegou and Chum,
2012): centre the descriptors, rotate them onto their principal axes and scale each axis by its
variance to the power -`power` (0.5: full whitening; less keeps weak axes from being raised to
the level of noise), then L2-normalise. It needs no labels: it learns the directions common to
every photo of the shop (the white background, the studio light) and weighs them down.

On fashion-products (styles from titles, 446 test queries, `circhat eval instance`), GeM of the
ImageNet backbone goes from mAP .450 to .515 and the colour-invariant GeM from .494 to .533;
the power was chosen on 300 validation queries of the train part (0.5 against 0.35 and 0.25).
Whitening learned from pairs of photos of one style (Radenovic et al., 2018) did worse (.517
at 256 dimensions): a shop's train part has a few hundred such pairs, fewer than a
descriptor's dimensions.

A whitening is (mean, projection): `apply` is a matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6


@dataclass
class Whitening:
    mean: np.ndarray  # (D,)
    projection: np.ndarray  # (D, D'): x -> (x - mean) @ projection

    def apply(self, vectors: np.ndarray) -> np.ndarray:
        out = (np.asarray(vectors, np.float32) - self.mean) @ self.projection
        return (out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), EPS)).astype(
            np.float32
        )


def pca_whitening(vectors: np.ndarray, power: float = 0.5, dims: int | None = None) -> Whitening:
    """PCA whitening learned on `vectors` (N, D), keeping the `dims` strongest axes (at most
    N - 1: fewer photos than dimensions leave the other axes without variance)."""
    x = np.asarray(vectors, np.float64)
    mean = x.mean(axis=0)
    values, axes = np.linalg.eigh(np.cov(x - mean, rowvar=False))
    order = np.argsort(values)[::-1][: min(dims or x.shape[1], len(x) - 1)]
    scale = np.maximum(values[order], EPS) ** -power
    return Whitening(mean.astype(np.float32), (axes[:, order] * scale).astype(np.float32))
