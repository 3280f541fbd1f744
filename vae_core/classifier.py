"""A small CNN that tells the classes apart: the judge of class-true generation.

It measures and never generates: ``generate_class`` is judged by it ("are 98 % of the 4s
4s?"), so it is trained on its own, on the real training images, and its own test accuracy
is reported next to every figure it gives. Files are safetensors with a format marker, read
with the same care as checkpoints (no pickle, shapes checked, values finite).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from .checkpoint import MAX_CLASSES, read_file, safetensors_metadata
from .errors import CheckpointError
from .config import IMAGE_SIZE
from .training import random_shift, resolve_device

FORMAT = "vae-explorer-classifier"
FORMAT_VERSION = "1"
MAX_BYTES = 32 * 1024 * 1024


class Classifier(nn.Module):
    """conv 32 - pool - conv 64 - pool - dense 128 - classes: 99 % on MNIST in a few epochs."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14x14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
            nn.Flatten())
        self.head = nn.Sequential(nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, num_classes))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images [B, 28, 28] -> class logits [B, num_classes]."""
        x = images.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE).float().div(255.0)
        return self.head(self.features(x))


def train_classifier(images, labels, num_classes: int, epochs: int = 4, batch_size: int = 128, lr: float = 2e-3,
                     shift: int = 2, seed: int = 0, device: str = "auto", progress=None) -> Classifier:
    """Adam with a cosine schedule over uint8 images [N, 28, 28] and int labels [N].
    ``progress(epoch, step, steps)`` is called after every step (e.g. a tqdm update)."""
    dev = resolve_device(device)
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Classifier(num_classes)
    model.to(dev).train()
    x, y = torch.as_tensor(np.asarray(images, np.uint8)), torch.as_tensor(np.asarray(labels, np.int64))
    steps = (len(x) + batch_size - 1) // batch_size
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.1)
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for step in range(steps):
            idx = order[step * batch_size:(step + 1) * batch_size]
            batch = random_shift(x[idx], shift, gen).to(dev)
            loss = F.cross_entropy(model(batch), y[idx].to(dev))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if progress is not None:
                progress(epoch, step, steps)
    return model.cpu().eval()


@torch.no_grad()
def class_logits(model: Classifier, images, batch_size: int = 2000) -> torch.Tensor:
    """uint8 images [N, 28, 28] -> class logits float32 [N, num_classes] on the CPU, in batches."""
    model.eval()
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(images, np.uint8))
    out = [model(x[i:i + batch_size].to(device)).cpu() for i in range(0, len(x), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, model.num_classes)


def classify(model: Classifier, images, batch_size: int = 2000) -> np.ndarray:
    """uint8 images [N, 28, 28] -> predicted class int64 [N]."""
    return class_logits(model, images, batch_size).argmax(1).numpy()


def accuracy(model: Classifier, images, labels) -> float:
    return float(np.mean(classify(model, images) == np.asarray(labels)))


def save_classifier(model: Classifier, path: str | os.PathLike, dataset: str, classes: list[str],
                    test_accuracy: float) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().float().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "dataset": dataset,
            "classes": json.dumps(list(classes)), "test_accuracy": f"{test_accuracy:.6f}"}
    path.write_bytes(st_save(tensors, meta))
    return path


def load_classifier(path: str | os.PathLike) -> tuple[Classifier, dict]:
    """(model, {"dataset", "classes", "test_accuracy"}) from a file save_classifier wrote; any
    other file is refused with one CheckpointError sentence."""
    name = Path(path).name
    data = read_file(path, MAX_BYTES, "a classifier file", "is larger than any classifier", CheckpointError, name)
    try:
        tensors = st_load(data)
        meta = safetensors_metadata(data)
    except (SafetensorError, ValueError, UnicodeDecodeError):
        raise CheckpointError(f"{name}: not a safetensors file") from None
    if (meta.get("format"), meta.get("format_version")) != (FORMAT, FORMAT_VERSION):
        raise CheckpointError(f"{name}: not a classifier of this project (format {FORMAT!r}, version "
                              f"{FORMAT_VERSION})")
    try:
        classes = json.loads(meta.get("classes", "null"))
        accuracy_value = float(meta.get("test_accuracy", "nan"))
    except (ValueError, TypeError):
        raise CheckpointError(f"{name}: the classifier's metadata is malformed") from None
    if not (isinstance(classes, list) and 2 <= len(classes) <= MAX_CLASSES and all(isinstance(c, str) for c in classes)):
        raise CheckpointError(f"{name}: the classifier's class names are malformed")
    model = Classifier(len(classes))
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if found != expected:
        raise CheckpointError(f"{name}: the weights do not match the classifier's architecture")
    if not all(torch.isfinite(v).all() for v in tensors.values()):
        raise CheckpointError(f"{name}: the classifier's weights contain NaN or infinite values")
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval(), {"dataset": meta.get("dataset", ""), "classes": classes, "test_accuracy": accuracy_value}
