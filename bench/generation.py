"""Section generation: does "make a 4" make a 4, and in how many styles?

For each shipped dataset, the Generate page's maker (vae_core.generate_class with the model
ui.state.class_model picks: the shipped conditional VAE) against the way the page made
classes before (a Gaussian fitted to each class's z_mean of the unconditional model,
temperature 0.75), both judged by the project's measurement classifier
(pretrained/classifier/, its own test accuracy reported beside):
- fidelity: the share of 200 images per class that the classifier calls that class;
- variety: their mean pairwise pixel distance over that of 200 real test images of the class;
- the time of a class-button press (16 images and the style row).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import vae_core as vc
from bench.inference import median_ms
from bench.report import Row
from vae_core.classifier import classify, load_classifier
from vae_core.generate import fidelity, variety

PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"
DATASETS = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
FIDELITY_GOAL, VARIETY_GOAL = 0.98, 0.5  # MNIST's goals; Fashion-MNIST is reported
BEFORE_TEMPERATURE = 0.75  # the page's class Gaussians before generate_class


def real_test_set(dataset: str, data_dir: str | None):
    """The test split by vae_core's search order, else in the folder beside the MNIST one
    (``data_dir`` or $VAE_DATA_DIR, as ../shared/data/<dataset>/); None if absent."""
    mnist = data_dir or os.environ.get("VAE_DATA_DIR")
    for root in [None] + ([str(Path(mnist).parent / dataset)] if mnist else []):
        try:
            return vc.load_dataset(dataset, "test", root=root, download=False)
        except vc.VAEError:
            continue
    return None


def _by_class(images_of, classes, judge, real, n: int) -> tuple[list[float], list[float | None]]:
    shares, spreads = [], []
    for label in range(len(classes)):
        images = images_of(label, n)
        shares.append(fidelity(classify(judge, images), label))
        if real is None:
            spreads.append(None)
            continue
        pool = real.images[real.labels == label]
        pool = pool[np.random.default_rng(0).permutation(len(pool))[:n]]
        spreads.append(variety(images) / variety(pool))
    return shares, spreads


def run(quick: bool = False, data_dir: str | None = None, log=print) -> tuple[list[Row], dict]:
    n = 100 if quick else 200
    rows, details = [], {}
    for dataset, title in DATASETS.items():
        model_path, maker_path = PRETRAINED / f"{dataset}.safetensors", PRETRAINED / "conditional" / f"{dataset}.safetensors"
        judge_path = PRETRAINED / "classifier" / f"{dataset}.safetensors"
        if not (model_path.exists() and maker_path.exists() and judge_path.exists()):
            rows.append(Row("generation", f"{title}: a shipped model, conditional VAE or classifier is missing", None,
                            goal=0.0))
            continue
        unconditional, maker = vc.load_checkpoint(model_path), vc.load_checkpoint(maker_path)
        judge, meta = load_classifier(judge_path)
        real = real_test_set(dataset, data_dir)
        classes = maker.classes
        log(f"  {title}: {n} images per class, before and after…")
        gaussians = vc.fit_class_gaussians(unconditional.latents.z_mean, unconditional.latents.labels, len(classes))
        before = _by_class(lambda k, m: vc.decode(unconditional.model, vc.sample_class(gaussians, k, m,
                                                                                      BEFORE_TEMPERATURE, seed=k)),
                           classes, judge, real, n)
        after = _by_class(lambda k, m: vc.generate_class(maker, k, m, seed=k), classes, judge, real, n)
        press_ms, _ = median_ms(lambda: (vc.generate_class(maker, 4, 16, seed=1),
                                         vc.style_in_every_class(maker, [0.3, -0.2])), 5 if quick else 20)
        goals = dataset == "mnist"
        judged = f"judged by the project's CNN ({100 * meta['test_accuracy']:.1f} % on the test set)"
        for label, name in enumerate(classes):
            rows.append(Row("generation", f"{title} \"make a {name}\": that class", 100 * after[0][label], "%",
                            100 * FIDELITY_GOAL if goals else None, ">=", fmt="{:.1f}",
                            baseline=f"before {100 * before[0][label]:.1f} %"))
            v, vb = after[1][label], before[1][label]
            rows.append(Row("generation", f"{title} \"make a {name}\": variety vs real", v, "×",
                            VARIETY_GOAL if goals else None, ">=", fmt="{:.2f}",
                            baseline="no test set on disk" if v is None else f"before {vb:.2f}×"))
        rows.append(Row("generation", f"{title}: mean share of the chosen class", 100 * float(np.mean(after[0])), "%",
                        fmt="{:.1f}", baseline=f"before {100 * float(np.mean(before[0])):.1f} %",
                        note=f"{n} images per class at temperature {vc.DEFAULT_TEMPERATURE} from "
                             f"pretrained/conditional/{dataset}.safetensors, {judged}; before: the unconditional "
                             f"model's class Gaussians at T = {BEFORE_TEMPERATURE}; variety: mean pairwise pixel "
                             f"distance over {n} real test images of the class"))
        rows.append(Row("generation", f"{title}: a class-button press (16 images + the style row)", press_ms, "ms",
                        fmt="{:.1f}", baseline="median"))
        details[dataset] = {"fidelity": after[0], "variety": after[1], "fidelity_before": before[0],
                            "variety_before": before[1], "classifier_accuracy": meta["test_accuracy"],
                            "press_ms": press_ms, "images_per_class": n}
    return rows, details
