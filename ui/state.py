"""Models and choices that live across pages: the pretrained models (loaded once per
server), the visitor's own models (in that visitor's session only), the view (ui/view_state.py:
the model shown, its pin and endpoints), each page's other choices, the widget values kept
across page switches, and the Toy world's model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, TypedDict, TypeVar

import numpy as np
import streamlit as st

import vae_core as vc
from ui import session_keys as keys
from ui.link_format import Point
from ui.view_state import ModelView, ViewState

if TYPE_CHECKING:  # (both import torch, which the first screen does without)
    from vae_core.toy import ToyFit
    from vae_core.typicality import ScoreKind

PRETRAINED_DIR = Path(__file__).resolve().parents[1] / "pretrained"
DATASET_TITLES = vc.DATASET_TITLES  # (re-exported: the pages name datasets through ui.state)
# A visitor who trains all day must not fill the server's memory: a session keeps its
# newest models (a few MB each) and says so when it lets the oldest go.
MAX_USER_MODELS = 6

ModelSource = Literal["pretrained", "trained", "uploaded"]


@dataclass(frozen=True)
class ModelEntry:
    id: str  # "pretrained/<file>" or "session/<uuid>"
    label: str
    source: ModelSource
    ckpt: vc.Checkpoint


@dataclass(frozen=True)
class LatentView:
    """What the pages draw for a model: test-set codes and the derived pieces."""

    z_mean: np.ndarray
    z_logvar: np.ndarray
    labels: np.ndarray
    extent: float

    def point(self, index: int) -> Point:
        """Test image ``index`` as a pick or an endpoint."""
        return {"index": index, "z": self.z_mean[index].tolist()}

    def sigma(self, index: int) -> np.ndarray:
        """The encoder's standard deviation for test image ``index``: float32 [latent_dim]."""
        return np.exp(0.5 * self.z_logvar[index])

    def first_of(self, label: int) -> Point:
        """The first test image of a class (the first image of all when the class has none)."""
        members = np.flatnonzero(self.labels == label)
        return self.point(int(members[0]) if len(members) else 0)


class ModelState(TypedDict, total=False):
    """A page's other choices made with one model, kept across page switches (see model_state); the
    pin and the endpoints are the view's (view_state)."""

    generate_class: int  # Generate: the class last asked for
    class_seed: int  # Generate: a new seed per press of a class button (new images each time)
    anomaly_pick: int  # Anomalies: the selected test image
    thresholds: dict[ScoreKind, float]  # Anomalies: the threshold set for each score


@st.cache_resource(show_spinner="Loading the pretrained model…")
def _load_pretrained(path: str, mtime: float) -> vc.Checkpoint | str:
    try:  # (messages name the file, never the server's path to it)
        return vc.load_checkpoint(path, name=Path(path).name)
    except vc.VAEError as e:
        return str(e)


def load_pretrained(path: Path) -> vc.Checkpoint | str:
    """A shipped checkpoint, loaded once per server (again when its file changes), or the sentence
    saying why it cannot be read."""
    return _load_pretrained(str(path), path.stat().st_mtime)


def _pretrained() -> tuple[list[ModelEntry], list[str]]:
    """The shipped models, MNIST first (the default a visitor meets), and a sentence for each that
    could not be loaded."""
    entries, failures = [], []
    order = list(DATASET_TITLES)
    for path in sorted(PRETRAINED_DIR.glob("*.safetensors"),
                       key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.name)):
        loaded = load_pretrained(path)
        if isinstance(loaded, str):
            failures.append(f"Pretrained model {path.name} could not be loaded: {loaded}")
            continue
        title = DATASET_TITLES.get(loaded.dataset, loaded.dataset)
        kind = "" if loaded.config.arch == "mlp" else f", {loaded.config.arch}"
        entries.append(ModelEntry(f"pretrained/{path.name}", f"{title} (pretrained{kind})", "pretrained", loaded))
    return entries, failures


def pretrained_entries() -> list[ModelEntry]:
    """The shipped models, MNIST first; one that cannot be loaded is left out (the sidebar says why:
    pretrained_failures)."""
    return _pretrained()[0]


def pretrained_failures() -> list[str]:
    return _pretrained()[1]


Loaded = TypeVar("Loaded")


def load_shipped(path: Path, load: Callable[[str, float], Loaded | str], what: str) -> Loaded | None:
    """A shipped file, loaded once per server by ``load(path, mtime)`` (a cached loader that returns
    the sentence of a failure), or None when it is not there; one that cannot be read is one
    sentence on the page (and None)."""
    if not path.is_file():
        return None
    loaded = load(str(path), path.stat().st_mtime)
    if isinstance(loaded, str):
        st.error(f"The pretrained {what} could not be loaded: {loaded}")
        return None
    return loaded


def _pretrained_off_picker(folder: str, file: str, kind: str) -> ModelEntry | None:
    """A shipped model that serves one page beside the picker's (pretrained/<folder>/<file>)."""
    path = PRETRAINED_DIR / folder / file
    loaded = load_shipped(path, _load_pretrained, f"{kind} {path.name}")
    if loaded is None:
        return None
    title = DATASET_TITLES.get(loaded.dataset, loaded.dataset)
    return ModelEntry(f"pretrained/{folder}/{path.name}", f"{title} {kind} (pretrained)", "pretrained", loaded)


def pretrained_autoencoder(dataset: str) -> ModelEntry | None:
    """The shipped plain autoencoder of a dataset (pretrained/autoencoder/, not in the picker)."""
    return _pretrained_off_picker("autoencoder", f"{dataset}-ae.safetensors", "autoencoder")


def class_model(entry: ModelEntry) -> ModelEntry:
    """The model that makes a chosen class: a conditional model as it is; for another model,
    the shipped conditional VAE of its dataset (pretrained/conditional/, true to the class in
    99 % of images and more, where the picker's models manage less) when there is one; else
    the model itself (vae_core.generate_class does its best with its test codes)."""
    if entry.ckpt.config.num_classes:
        return entry
    conditional = _pretrained_off_picker("conditional", f"{entry.ckpt.dataset}.safetensors", "conditional VAE")
    return conditional if conditional is not None and conditional.ckpt.classes == entry.ckpt.classes else entry


def autoencoder_and_vae(entry: ModelEntry) -> tuple[ModelEntry | None, ModelEntry | None]:
    """(autoencoder, VAE) to compare: the selected model on its side, a shipped model of its
    dataset on the other (None where none ships)."""
    dataset = entry.ckpt.dataset
    if entry.ckpt.config.variational:
        return pretrained_autoencoder(dataset), entry
    return entry, next((e for e in pretrained_entries() if e.ckpt.dataset == dataset), None)


def user_models() -> dict[str, ModelEntry]:
    return st.session_state.setdefault(keys.USER_MODELS, {})


def all_entries() -> list[ModelEntry]:
    return pretrained_entries() + list(user_models().values())


def add_user_model(ckpt: vc.Checkpoint, source: ModelSource, label: str) -> ModelEntry:
    """Keep a visitor's model in their session and show it (the picker follows on the next run).
    Beyond MAX_USER_MODELS the oldest is dropped, with a notice (see take_notice)."""
    models, view = user_models(), view_state()
    while len(models) >= MAX_USER_MODELS:
        dropped = models.pop(next(iter(models)))
        st.session_state.get(keys.PER_MODEL, {}).pop(dropped.id, None)
        view.forget(dropped.id)
        st.session_state[keys.MODEL_NOTICE] = (
            f"{dropped.label} was let go: a session keeps its {MAX_USER_MODELS} newest models. "
            "To keep a model, download it from the sidebar.")
    entry = ModelEntry(f"session/{uuid.uuid4().hex}", label, source, ckpt)
    models[entry.id] = entry
    view.show(entry.id)
    return entry


def add_trained_model(ckpt: vc.Checkpoint) -> ModelEntry:
    """A model the Train page made, named "My model N (dataset)" in the order the session trained them."""
    n = st.session_state[keys.MODELS_TRAINED] = st.session_state.get(keys.MODELS_TRAINED, 0) + 1
    return add_user_model(ckpt, "trained", f"My model {n} ({DATASET_TITLES.get(ckpt.dataset, ckpt.dataset)})")


def take_notice() -> str | None:
    """The notice add_user_model left for this visitor, once."""
    return st.session_state.pop(keys.MODEL_NOTICE, None)


def view_state() -> ViewState:
    """The session's view: the model shown, its pin and endpoints (see ui/view_state.py)."""
    return st.session_state.setdefault(keys.VIEW, ViewState())


def current_entry() -> ModelEntry | None:
    """The model the view shows (the first model when it shows none, or one let go), or None
    when there is no model at all."""
    entries = {e.id: e for e in all_entries()}
    if not entries:
        return None
    view = view_state()
    if view.model not in entries:
        view.show(next(iter(entries)))
    return entries[view.model]


def model_view(entry: ModelEntry) -> ModelView:
    """The pin and endpoints of ``entry`` (kept in the view across page and model switches)."""
    return view_state().of(entry.id)


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
    from vae_core.latents import checkpoint_latents

    ckpt = _entry.ckpt
    latents = checkpoint_latents(ckpt, lambda: test_set(ckpt.dataset), scores=False)
    if latents is None:
        return None
    return LatentView(latents.z_mean, latents.z_logvar, latents.labels, vc.latent_extent(latents.z_mean))


def model_state(entry: ModelEntry) -> ModelState:
    """A page's other choices made with a model (a class, a threshold, ...), kept across page switches."""
    return st.session_state.setdefault(keys.PER_MODEL, {}).setdefault(entry.id, {})


def interpolation_endpoints(entry: ModelEntry, view: LatentView) -> dict[str, Point]:
    """The model's interpolation endpoints (kept in its state): a shared link's, and where it set
    none a useful start, a "1" turning into a "7" (or the first class into the second)."""
    shown = model_view(entry)
    ends = shown.endpoints
    if len(ends) < 2:
        a, b = (1, 7) if len(entry.ckpt.classes) > 7 else (0, 1)
        ends.setdefault("a", view.first_of(a))
        ends.setdefault("b", view.first_of(b))
        shown.next_endpoint = "a"
    return ends


def keep_across_pages(*widget_keys: str, **defaults) -> None:
    """Keep these widgets' values when their page is not shown; a page calls this at its top.

    ``defaults`` (widget key = value) are kept too, and set once, so their widgets need no
    default of their own. The keys are remembered in the session, and app.py re-stores them
    at the top of every run (see restore_kept_widgets).
    """
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    st.session_state.setdefault(keys.KEPT_WIDGETS, set()).update(widget_keys, defaults)


def restore_kept_widgets() -> None:
    """Streamlit forgets a widget's value when its page is not shown (a page's script runs
    only while it is shown); re-storing the kept values at the top of every run keeps them."""
    for key in st.session_state.get(keys.KEPT_WIDGETS, ()):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


ToySettings = tuple[str, int, float, int, int, float]  # fit_toy's (dataset, n, noise, seed, steps, beta)


def keep_toy_fit(settings: ToySettings, fit: ToyFit) -> None:
    """Keep the session's toy model (one at a time) with the settings it was trained on."""
    st.session_state[keys.TOY_FIT] = (settings, fit)


def toy_fit(settings: ToySettings) -> ToyFit | None:
    """The session's toy model if it was trained on ``settings``, else None."""
    kept = st.session_state.get(keys.TOY_FIT)
    return kept[1] if kept is not None and kept[0] == settings else None
