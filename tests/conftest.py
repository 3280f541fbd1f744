"""Shared fixtures: tiny models and small image sets, so every test runs in a blink."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings

from vae_core.model import VAEConfig, build_model

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MNIST_DIR = SHARED_DATA / "mnist"
FASHION_DIR = SHARED_DATA / "fashion-mnist"

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


@pytest.fixture(scope="session")
def digits() -> dict[str, np.ndarray]:
    """1,200 training and 300 test images: real MNIST where ../shared has it, else synthetic strokes."""
    if (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        from vae_core.data import load_dataset

        train = load_dataset("mnist", "train", root=MNIST_DIR, download=False)
        test = load_dataset("mnist", "test", root=MNIST_DIR, download=False)
        return {"train_x": train.images[:1200], "train_y": train.labels[:1200],
                "test_x": test.images[:300], "test_y": test.labels[:300]}
    train_x, train_y = synthetic_digits(1200, seed=0)
    test_x, test_y = synthetic_digits(300, seed=1)
    return {"train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y}


@pytest.fixture
def tiny_model():
    return build_model(VAEConfig(hidden=(32,)), seed=0)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    """No test reads the developer's data cache or mirrors by accident."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("VAE_DATA_MIRRORS", raising=False)
    torch.set_num_threads(2)
