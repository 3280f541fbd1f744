"""How typical an image is for a model: per-image scores of the test set, where a new
image falls among them, the least typical test images, and thresholds over the scores.

Scores are nats per image, higher = less typical (see ``evaluation.image_scores``):

- "neg_elbo": a one-sample negative ELBO, an upper bound on -log p(x);
- "recon_error": -log p(x | z = mu), how badly the mean code reconstructs the image.

One seed and one batch size make the test-set scores reproducible, so the scores stored in a
checkpoint at training time and the ones the app computes from the test set agree exactly.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .evaluation import image_scores
from .model import VAE

ScoreKind = Literal["neg_elbo", "recon_error"]
SCORE_KINDS: dict[ScoreKind, str] = {"neg_elbo": "negative ELBO", "recon_error": "reconstruction error"}
SCORE_SEED = 0
SCORE_BATCH = 2000  # the sampled noise depends on how images are batched: keep it fixed


def score_images(model: VAE, images, seed: int = SCORE_SEED, labels=None) -> dict[ScoreKind, np.ndarray]:
    """Per-image scores of uint8 images [N, 28, 28]: {"neg_elbo", "recon_error"}, float32 [N] each
    (``labels``: their classes, which a conditional model is given)."""
    images = np.asarray(images)
    if images.ndim == 2:
        images = images[None]
    scores = image_scores(model, images, batch_size=SCORE_BATCH, seed=seed, labels=labels)
    return {k: np.asarray(scores[k], np.float32) for k in SCORE_KINDS}


def percentile(reference, value: float) -> float:
    """Percentage of ``reference`` scores below ``value`` (ties count half): 0 to 100.

    A percentile of 99 means the image is less typical than 99 % of the test set.
    """
    reference = np.asarray(reference, np.float64).ravel()
    if reference.size == 0:
        raise ValueError("percentile needs at least one reference score")
    below = np.count_nonzero(reference < value)
    ties = np.count_nonzero(reference == value)
    return float(100.0 * (below + 0.5 * ties) / reference.size)


def verdict(pct: float) -> str:
    """A few words for a percentile from :func:`percentile`."""
    if pct >= 99.0:
        return "very unusual: less typical than 99 % of the test set"
    if pct >= 90.0:
        return "unusual: in the least typical tenth of the test set"
    if pct <= 10.0:
        return "very typical: more typical than 90 % of the test set"
    return "typical: like most of the test set"


def least_typical(scores, k: int = 20) -> np.ndarray:
    """Indices of the k highest scores, highest first (ties: lower index first)."""
    scores = np.asarray(scores, np.float64).ravel()
    k = max(0, min(int(k), scores.size))
    order = np.lexsort((np.arange(scores.size), -scores))
    return order[:k]


def rank(scores, index: int) -> int:
    """Where image ``index`` stands by score: 1 for the least typical (ties share the better rank)."""
    scores = np.asarray(scores, np.float64).ravel()
    return int(np.count_nonzero(scores > scores[index])) + 1


def default_threshold(scores, quantile: float = 0.99) -> float:
    """A starting threshold: the score below which ``quantile`` of the images lie."""
    if not 0.0 <= quantile <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {quantile}")
    return float(np.quantile(np.asarray(scores, np.float64), quantile))


def above(scores, threshold: float) -> np.ndarray:
    """Indices of the images scoring strictly above ``threshold``, in index order."""
    return np.flatnonzero(np.asarray(scores, np.float64) > threshold)
