"""Where the project and the real datasets are, the fuzz profile, and synthetic digits."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[2]  # the project
SHARED_DATA = ROOT.parent / "shared" / "data"
MNIST_DIR = SHARED_DATA / "mnist"
FASHION_DIR = SHARED_DATA / "fashion-mnist"
# the real MNIST files, train and test (tests that need them skip, saying so, where they are absent)
has_mnist = all((MNIST_DIR / f"{name}-idx{3 if 'images' in name else 1}-ubyte.gz").exists()
                for name in ("train-images", "train-labels", "t10k-images", "t10k-labels"))
needs_mnist = pytest.mark.skipif(not has_mnist, reason=f"this test needs the MNIST files in {MNIST_DIR}")

# The fuzz tests (IDX reader, checkpoint loader, image preparation) each feed thousands of
# generated inputs: decorate them with ``@FUZZ``. VAE_FUZZ_PROFILE=fuzz-quick runs 200 each.
settings.register_profile("fuzz", max_examples=2000, deadline=None)
settings.register_profile("fuzz-quick", max_examples=200, deadline=None)
FUZZ = settings.get_profile(os.environ.get("VAE_FUZZ_PROFILE", "fuzz"))


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Ten classes of simple strokes (a bar at one of ten angles) with jitter: uint8 [n, 28, 28]."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    yy, xx = np.mgrid[0:28, 0:28] - 13.5
    angles = labels * np.pi / 10 + rng.normal(0, 0.05, n)
    shift = rng.normal(0, 1.0, (n, 2))
    dist = np.abs((xx[None] - shift[:, 0, None, None]) * np.sin(angles)[:, None, None]
                  - (yy[None] - shift[:, 1, None, None]) * np.cos(angles)[:, None, None])
    length = np.hypot(xx[None] - shift[:, 0, None, None], yy[None] - shift[:, 1, None, None])
    images = np.clip(1.6 - dist, 0, 1) * (length < 10)
    return np.uint8(images * 255), labels.astype(np.int64)
