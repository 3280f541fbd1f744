"""From a dataset name and two configs to a finished checkpoint: the steps the CLI and
the app's Train page share (load data, build, train, evaluate, store the test latents)."""

from __future__ import annotations

from typing import Callable

from .checkpoint import Checkpoint, library_versions
from .data import Dataset, Progress, load_dataset
from .errors import DivergedError
from .evaluation import evaluate
from .latents import compute_latents
from .model import VAE, VAEConfig, build_model
from .training import Callback, TrainConfig, TrainResult, train


def load_splits(dataset: str, root=None, limit: int | None = None, download: bool = True,
                progress: Progress | None = None) -> tuple[Dataset, Dataset]:
    """(train, test) splits; ``limit`` keeps the first N training and N // 6 test images (quick runs)."""
    splits = [load_dataset(dataset, s, root=root, download=download, progress=progress) for s in ("train", "test")]
    if limit:
        splits = [_head(d, n) for d, n in zip(splits, (limit, max(1, limit // 6)))]
    return splits[0], splits[1]


def _head(d: Dataset, n: int) -> Dataset:
    return Dataset(d.name, d.split, d.images[:n], d.labels[:n], d.classes)


def evaluated_checkpoint(model: VAE, train_set: Dataset, test_set: Dataset, result: TrainResult | None = None,
                         train_config: TrainConfig | None = None, iwae_k: int = 100, seed: int = 0,
                         progress: Callable[[str, float], None] | None = None) -> Checkpoint:
    """Evaluate a trained model and bundle it with its metrics, history and test-set latents;
    ``progress(stage, fraction)`` hears of each stage (the evaluation's, then the codes')."""
    report = progress or (lambda stage, fraction: None)
    metrics = evaluate(model, test_set.images, test_set.labels, train_set.images, train_set.labels,
                       k=iwae_k, seed=seed, progress=lambda stage, f: report(stage, 0.9 * f)) if iwae_k else {}
    report("the test set's codes and per-image scores", 0.9)
    if result is not None:
        metrics.update({"train_seconds": result.seconds, "epochs": len(result.history), "status": result.status})
    latents = compute_latents(model, test_set)  # with the scores: the anomaly view works without the dataset
    return Checkpoint.from_model(model.cpu().eval(), dataset=test_set.name, classes=test_set.classes, metrics=metrics,
                      history=result.history if result else [],
                      train_config=train_config.to_dict() if train_config else {},
                      versions=library_versions(), latents=latents)


def train_checkpoint(train_set: Dataset, test_set: Dataset, model_config: VAEConfig | None = None,
                     train_config: TrainConfig | None = None, callback: Callback | None = None,
                     iwae_k: int = 100, *, on_model: Callable[[VAE], None] | None = None,
                     progress: Callable[[str, float], None] | None = None) -> tuple[Checkpoint, TrainResult]:
    """Build a model from its seed, train it, evaluate it and package it.

    ``on_model(model)`` hears of the model once it is built, before training (a caller that
    shows it while it trains, such as the app's live scatter, keeps it); ``progress`` hears of
    the evaluation's stages (see ``evaluated_checkpoint``). A training that diverged before its first epoch
    ended has no model to package: it raises DivergedError, with the sentence the CLI and the
    app both show."""
    train_config = train_config or TrainConfig()
    model = build_model(model_config, seed=train_config.seed)
    if on_model is not None:
        on_model(model)
    result = train(model, train_set.images, test_set.images, train_config, callback, train_set.labels, test_set.labels)
    if result.status == "diverged" and not result.history:
        raise DivergedError(f"{result.message} No epoch completed, so there is no model.")
    return (evaluated_checkpoint(model, train_set, test_set, result, train_config, iwae_k, train_config.seed, progress),
            result)
