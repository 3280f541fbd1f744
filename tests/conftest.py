"""Shared fixtures: tiny models and small image sets, so every test runs in a blink."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.data import MNIST_DIR, has_mnist, synthetic_digits
from vae_core.model import VAEConfig, build_model


@pytest.fixture(scope="session")
def digits() -> dict[str, np.ndarray]:
    """1,200 training and 300 test images: real MNIST where ../shared has it, else synthetic strokes."""
    if has_mnist:
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
