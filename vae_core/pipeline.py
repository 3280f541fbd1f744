"""From a dataset name and two configs to a finished checkpoint: the steps the CLI and
the app's Train page share (load data, build, train, evaluate, store the test latents)."""

from __future__ import annotations

from typing import Callable

from .checkpoint import Checkpoint, Latents, library_versions
from .data import Dataset, Progress, load_dataset
from .evaluation import evaluate
from .inference import encode
from .model import VAE, VAEConfig, build_model
from .training import Callback, TrainConfig, TrainResult, train
from .typicality import score_images


def load_splits(dataset: str, root=None, limit: int | None = None, download: bool = True,
                progress: Progress | None = None) -> tuple[Dataset, Dataset]:
    """(train, test) splits; ``limit`` keeps the first N training and N // 6 test images (quick runs)."""
    splits = [load_dataset(dataset, s, root=root, download=download, progress=progress) for s in ("train", "test")]
    if limit:
        splits = [_head(d, n) for d, n in zip(splits, (limit, max(1, limit // 6)))]
    return splits[0], splits[1]


def _head(d: Dataset, n: int) -> Dataset:
    return Dataset(d.name, d.split, d.images[:n], d.labels[:n], d.classes)


def package(model: VAE, train_set: Dataset, test_set: Dataset, result: TrainResult | None = None,
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
    given = test_set.labels if model.config.num_classes else None  # a conditional model's input
    z_mean, z_logvar = encode(model, test_set.images, labels=given)
    scores = score_images(model, test_set.images, labels=given)  # for the anomaly view, without the dataset
    latents = Latents(z_mean, z_logvar, test_set.labels, scores["neg_elbo"], scores["recon_error"])
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
    the evaluation's stages (see ``package``)."""
    train_config = train_config or TrainConfig()
    model = build_model(model_config, seed=train_config.seed)
    if on_model is not None:
        on_model(model)
    result = train(model, train_set.images, test_set.images, train_config, callback, train_set.labels, test_set.labels)
    return package(model, train_set, test_set, result, train_config, iwae_k, train_config.seed, progress), result
