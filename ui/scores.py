"""What the pages show of how a model scores: its checkpoint's metrics, the test set's
per-image scores and images lined up with its scatter (from the checkpoint when it carries
them, else computed once per model from the test set on disk), and how random points fall
in its latent space."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from ui.state import DATASET_TITLES, LatentView, ModelEntry, test_set

if TYPE_CHECKING:  # compare and typicality import torch: the sidebar's metrics, on the first screen, need none
    from vae_core.checkpoint import Latents
    from vae_core.compare import LatentSource
    from vae_core.data import Dataset
    from vae_core.typicality import ScoreKind


def metric(entry: ModelEntry, key: str) -> float | None:
    """A metric of the model's checkpoint if it is a number: an uploaded checkpoint's metadata may hold anything."""
    value = entry.ckpt.metrics.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def test_images(entry: ModelEntry, view: LatentView) -> np.ndarray | None:
    """The test images behind the scatter's points (same order), or None when not on disk."""
    from vae_core.latents import images_behind

    return images_behind(view.labels, test_set(entry.ckpt.dataset))


# Keyed by whether the test set is on disk too, so a download made meanwhile is picked up.
@st.cache_resource(show_spinner="Scoring every test image (once per model)…", max_entries=16)
def _scored_latents(_entry: ModelEntry, _test_split: Dataset | None, entry_id: str, split_on_disk: bool
                    ) -> Latents | None:
    from vae_core.latents import checkpoint_latents

    return checkpoint_latents(_entry.ckpt, _test_split)


def test_scores(entry: ModelEntry, view: LatentView) -> dict[ScoreKind, np.ndarray] | None:
    """{"neg_elbo", "recon_error"} per test image in the scatter's order, or None (see missing_scores)."""
    from vae_core.latents import checkpoint_latents, score_arrays

    latents = checkpoint_latents(entry.ckpt)  # the stored ones: when they carry scores, nothing to compute
    if latents is None or score_arrays(latents) is None:
        split = test_set(entry.ckpt.dataset)
        latents = _scored_latents(entry, split, entry.id, split is not None)
    if latents is None or len(latents.labels) != len(view.labels):  # the view's codes come by the same rule
        return None
    return score_arrays(latents)


def missing_scores(entry: ModelEntry) -> str:
    """Why there are no per-image scores, and where to get the data."""
    name = entry.ckpt.dataset
    title = DATASET_TITLES.get(name, name)
    return (f"This checkpoint does not carry per-image test scores, and the {title} test set is not on disk to "
            f"compute them. Download it on the **Train** page, run `python -m vae_core download --dataset {name}`, "
            f"or put the four IDX files in `~/.cache/vae-explorer/{name}/` (or in `$VAE_DATA_DIR`).")


def score_label(entry: ModelEntry, kind: ScoreKind) -> str:
    """The name of a score for this model (an autoencoder has no ELBO: only its reconstruction)."""
    if kind == "neg_elbo" and not getattr(entry.ckpt.config, "variational", True):
        return "reconstruction error (an autoencoder has no ELBO)"
    from vae_core.typicality import SCORE_KINDS

    return SCORE_KINDS[kind]


@st.cache_data(show_spinner="Measuring the latent spaces…", max_entries=16)
def _space_stats(entry_id: str, _view: LatentView, num_classes: int, source: LatentSource) -> dict[str, float]:
    from vae_core.compare import space_stats

    return space_stats(_view.z_mean, _view.labels, num_classes, source, seed=0, extent=_view.extent)


def latent_space_stats(entry: ModelEntry, view: LatentView, source: LatentSource) -> dict[str, float]:
    """How 2,000 random points (seed 0) fall in the model's latent space: the share in holes
    ("holes") and how varied their nearest codes' classes are ("variety"); once per model and source."""
    return _space_stats(entry.id, view, len(entry.ckpt.classes), source)


def reach_sentence(reach: dict, classes: list[str]) -> str:
    """What the prior's draws reach of a model's test codes, and which classes they miss."""
    missed = [c for c, share in zip(classes, reach["per_class"]) if share < 0.1]
    r = reach["radius"]
    text = (f"The disk of radius {r:g} around the origin, where {100 * (1 - math.exp(-r * r / 2)):.0f} % of N(0, I)'s "
            f"draws fall, holds "
            f"**{100 * reach['all']:.0f} %** of these test codes")
    if not missed:
        return text + f", and at least {100 * min(reach['per_class']):.0f} % of every class's."
    names = ", ".join(missed[:-1]) + " and " + missed[-1] if len(missed) > 1 else missed[0]
    which = f"class {names}" if len(missed) == 1 else f"classes {names}"
    return text + f", but under 10 % of those of the {which}: draws from N(0, I) hardly ever decode to " + \
        ("it." if len(missed) == 1 else "them.")
