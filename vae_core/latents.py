"""A checkpoint's test-set latents and per-image scores: the ones it stores, else computed from
the test set. The CLI's ``encode``, the app's scatter and its anomaly view all read them here.

Torch is imported only to compute: reading stored latents (the app's first screen) needs none.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Union

import numpy as np

from .checkpoint import Checkpoint, Latents
from .data import Dataset

if TYPE_CHECKING:
    from .model import VAE
    from .typicality import ScoreKind

# The test split itself, or a function that loads it (None when it is not at hand), called only
# when the stored latents do not suffice, so a caller that has them never reads the files.
SplitOrLoader = Union[Dataset, Callable[[], "Dataset | None"], None]


def compute_latents(model: VAE, test_set: Dataset, scores: bool = True) -> Latents:
    """The test set's codes, and with ``scores`` its per-image scores (a conditional model is
    given each image's label, as in training)."""
    from .inference import encode

    given = test_set.labels if model.config.num_classes else None
    z_mean, z_logvar = encode(model, test_set.images, labels=given)
    if not scores:
        return Latents(z_mean, z_logvar, test_set.labels)
    per_image = _score(model, test_set.images, given)
    return Latents(z_mean, z_logvar, test_set.labels, per_image["neg_elbo"], per_image["recon_error"])


def checkpoint_latents(ckpt: Checkpoint, test_set: SplitOrLoader = None, scores: bool = True) -> Latents | None:
    """The test-set latents of ``ckpt``: the ones it stores, else computed from ``test_set``;
    None when it stores none and there is no test set.

    With ``scores``, stored latents without per-image scores get them from the test images
    behind them (see ``images_behind``); without those images they come back unscored.
    """
    stored = ckpt.latents if ckpt.latents is not None and len(ckpt.latents.labels) else None
    if stored is not None and (not scores or score_arrays(stored) is not None):
        return stored
    data = test_set() if callable(test_set) else test_set
    if stored is None:
        return None if data is None else compute_latents(ckpt.model, data, scores)
    images = images_behind(stored.labels, data)
    if images is None:
        return stored
    per_image = _score(ckpt.model, images, stored.labels if ckpt.config.num_classes else None)
    return replace(stored, neg_elbo=per_image["neg_elbo"], recon_error=per_image["recon_error"])


def images_behind(labels: np.ndarray, test_set: Dataset | None) -> np.ndarray | None:
    """The test images behind codes with these labels, or None when ``test_set`` is absent or
    holds other images. A checkpoint trained on a slice (--limit) holds the codes of the first
    N test images; their labels must match, or the images would belong to other points."""
    n = len(labels)
    if test_set is None or n > len(test_set.labels) or not np.array_equal(test_set.labels[:n], labels):
        return None
    return test_set.images[:n]


def score_arrays(latents: Latents) -> dict[ScoreKind, np.ndarray] | None:
    """{"neg_elbo", "recon_error"} per test image, or None when these latents carry no scores."""
    if latents.neg_elbo is None or latents.recon_error is None or len(latents.neg_elbo) != len(latents.labels):
        return None
    return {"neg_elbo": latents.neg_elbo, "recon_error": latents.recon_error}


def _score(model: VAE, images: np.ndarray, labels: np.ndarray | None) -> dict[ScoreKind, np.ndarray]:
    from .typicality import score_images

    return score_images(model, images, labels=labels)
