"""Models and choices that live across pages: the pretrained models (loaded once per
server), the visitor's own models (in that visitor's session only), and picks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

import vae_core as vc

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
# A visitor who trains all day must not fill the server's memory: a session keeps its
# newest models (a few MB each) and says so when it lets the oldest go.
MAX_USER_MODELS = 6


@dataclass(frozen=True)
class ModelEntry:
    id: str  # "pretrained/<file>" or "session/<uuid>"
    label: str
    source: str  # "pretrained", "trained" or "uploaded"
    ckpt: vc.Checkpoint


@dataclass(frozen=True)
class LatentView:
    """What the pages draw for a model: test-set codes and the derived pieces."""

    z_mean: np.ndarray
    z_logvar: np.ndarray
    labels: np.ndarray
    extent: float
    gaussians: vc.ClassGaussians


@st.cache_resource(show_spinner="Loading the pretrained model…")
def _load_pretrained(path: str, mtime: float) -> vc.Checkpoint | str:
    try:
        return vc.load_checkpoint(path)
    except vc.VAEError as e:
        return str(e)


def pretrained_entries() -> list[ModelEntry]:
    """The shipped models, MNIST first (the default a visitor meets)."""
    entries = []
    order = list(DATASET_TITLES)
    for path in sorted(PRETRAINED_DIR.glob("*.safetensors"),
                       key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.name)):
        loaded = _load_pretrained(str(path), path.stat().st_mtime)
        if isinstance(loaded, str):
            st.sidebar.error(f"Pretrained model {path.name} could not be loaded: {loaded}")
            continue
        title = DATASET_TITLES.get(loaded.dataset, loaded.dataset)
        kind = "" if loaded.config.arch == "mlp" else f", {loaded.config.arch}"
        entries.append(ModelEntry(f"pretrained/{path.name}", f"{title} (pretrained{kind})", "pretrained", loaded))
    return entries


def pretrained_autoencoder(dataset: str) -> ModelEntry | None:
    """The shipped plain autoencoder of a dataset (pretrained/autoencoder/, not in the picker)."""
    path = PRETRAINED_DIR / "autoencoder" / f"{dataset}-ae.safetensors"
    if not path.is_file():
        return None
    loaded = _load_pretrained(str(path), path.stat().st_mtime)
    if isinstance(loaded, str):
        st.error(f"The pretrained autoencoder {path.name} could not be loaded: {loaded}")
        return None
    title = DATASET_TITLES.get(loaded.dataset, loaded.dataset)
    return ModelEntry(f"pretrained/autoencoder/{path.name}", f"{title} autoencoder (pretrained)", "pretrained", loaded)


def user_models() -> dict[str, ModelEntry]:
    return st.session_state.setdefault("user_models", {})


def all_entries() -> list[ModelEntry]:
    return pretrained_entries() + list(user_models().values())


def add_user_model(ckpt: vc.Checkpoint, source: str, label: str) -> ModelEntry:
    """Keep a visitor's model in their session and select it (from the next run on: the
    picker widget may already exist in this one, and then its value cannot change).
    Beyond MAX_USER_MODELS the oldest is dropped, with a notice (see take_notice)."""
    models = user_models()
    while len(models) >= MAX_USER_MODELS:
        dropped = models.pop(next(iter(models)))
        st.session_state.get("per_model", {}).pop(dropped.id, None)
        st.session_state["model_notice"] = (
            f"{dropped.label} was let go: a session keeps its {MAX_USER_MODELS} newest models. "
            "To keep a model, download it from the sidebar.")
    entry = ModelEntry(f"session/{uuid.uuid4().hex}", label, source, ckpt)
    models[entry.id] = entry
    st.session_state["select_model"] = entry.id
    return entry


def take_notice() -> str | None:
    """The notice add_user_model left for this visitor, once."""
    return st.session_state.pop("model_notice", None)


def current_entry() -> ModelEntry | None:
    entries = {e.id: e for e in all_entries()}
    if not entries:
        return None
    if st.session_state.get("select_model") in entries:
        st.session_state["model_id"] = st.session_state.pop("select_model")
    if st.session_state.get("model_id") not in entries:
        st.session_state["model_id"] = next(iter(entries))
    return entries[st.session_state["model_id"]]


def test_set(dataset: str) -> vc.Dataset | None:
    """The test split when it is on disk (never downloads here), else None."""
    if dataset not in vc.DATASETS:  # e.g. an uploaded checkpoint's own name for its data
        return None
    # Keyed by where the files are, so a download made meanwhile is picked up.
    folders = tuple(str(d) for d in vc.data.candidate_dirs(dataset))
    return _load_test_set(dataset, folders) if vc.data.available(dataset) else None


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_test_set(dataset: str, folders: tuple[str, ...]) -> vc.Dataset | None:
    try:
        return vc.load_dataset(dataset, "test", download=False)
    except vc.VAEError:
        return None


@st.cache_resource(show_spinner="Encoding the test set…", max_entries=16)
def latent_view(_entry: ModelEntry, entry_id: str) -> LatentView | None:
    """Latents from the checkpoint, or computed from the test set when it has none."""
    ckpt = _entry.ckpt
    if ckpt.latents is not None and len(ckpt.latents.labels):
        z_mean, z_logvar, labels = ckpt.latents.z_mean, ckpt.latents.z_logvar, ckpt.latents.labels
    else:
        data = test_set(ckpt.dataset)
        if data is None:
            return None
        z_mean, z_logvar = vc.encode(ckpt.model, data.images)
        labels = data.labels
    return LatentView(z_mean, z_logvar, labels, vc.latent_extent(z_mean),
                      vc.fit_class_gaussians(z_mean, labels, len(ckpt.classes)))


def model_state(entry: ModelEntry) -> dict:
    """Per-model choices (picks, endpoints) that survive page switches."""
    return st.session_state.setdefault("per_model", {}).setdefault(entry.id, {})


def keep_widget_state(*keys: str) -> None:
    """Streamlit forgets a widget's value when its page is not shown; re-storing the
    values at the top of every run keeps them across page switches."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
