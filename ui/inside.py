"""The pieces of the page "Inside the VAE" (pages/inside.py): the shipped beta family and the
latent-size models (pretrained/beta/, pretrained/latent/), their plane payload, and the per-pixel
heat map of the reconstruction error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, sequential

from ui.latent_plane.payloads import BetaModel, BetaPayload
from ui.scores import metric
from ui.state import PRETRAINED_DIR, ModelEntry, latent_view, load_pretrained
from ui.widgets import plane_model_of

BETA_DIR = PRETRAINED_DIR / "beta"
LATENT_DIR = PRETRAINED_DIR / "latent"
BETA_FILE = re.compile(r"^mnist-beta-(\d+(?:\.\d+)?)\.safetensors$")
LATENT_FILE = re.compile(r"^mnist-(\d+)d\.safetensors$")


@dataclass(frozen=True)
class FamilyMember:
    beta: float
    entry: ModelEntry


def _entry(path: Path, label: str) -> ModelEntry | None:
    """A shipped model, loaded once per server by the app's one loader of pretrained files; None
    when it cannot be read (the page then goes on without it)."""
    ckpt = load_pretrained(path)
    return None if isinstance(ckpt, str) else ModelEntry(f"pretrained/{path.parent.name}/{path.name}", label,
                                                          "pretrained", ckpt)


def beta_family() -> list[FamilyMember]:
    """The shipped MNIST models of one architecture trained with different beta, smallest first."""
    members = []
    for path in BETA_DIR.glob("mnist-beta-*.safetensors") if BETA_DIR.is_dir() else ():
        match = BETA_FILE.match(path.name)
        entry = _entry(path, f"MNIST, beta = {match.group(1)}") if match else None
        if entry is not None and metric(entry, "recon") is not None and metric(entry, "kl") is not None:
            members.append(FamilyMember(float(match.group(1)), entry))
    return sorted(members, key=lambda m: m.beta)


def latent_sizes(family: list[FamilyMember]) -> list[ModelEntry]:
    """The models of the latent-size comparison, smallest code first: the family's beta = 1 model
    (2-D) and the shipped 8- and 32-D ones (beta = 1, the same architecture)."""
    entries = [m.entry for m in family if m.beta == 1.0]
    for path in LATENT_DIR.glob("mnist-*d.safetensors") if LATENT_DIR.is_dir() else ():
        if LATENT_FILE.match(path.name) and (entry := _entry(path, path.stem)) is not None:
            entries.append(entry)
    return sorted(entries, key=lambda e: e.ckpt.config.latent_dim)


def beta_payload(family: list[FamilyMember], start: int) -> BetaPayload | None:
    """The family on one plane, ``start`` shown first; None when a member has no test-set codes."""
    models = []
    for member in family:
        view = latent_view(member.entry, member.entry.id)
        if view is None:
            return None
        models.append(BetaModel(member.beta, metric(member.entry, "recon"), metric(member.entry, "kl"),
                                plane_model_of(member.entry, view)))
    return BetaPayload(model=models[start].model, models=tuple(models), start=start, height=480)


def loss_heatmap(bce_map: np.ndarray) -> go.Figure:
    """Each pixel's reconstruction error in nats (its share of the BCE sum), as a heat map."""
    # as rgb() strings: Streamlit's frontend recolours the hex black that Plotly's Inferno starts with
    steps = sequential.Inferno
    inferno = [[k / (len(steps) - 1), "rgb({}, {}, {})".format(*hex_to_rgb(c))] for k, c in enumerate(steps)]
    figure = go.Figure(go.Heatmap(z=np.asarray(bce_map)[::-1], colorscale=inferno, zmin=0,
                                  colorbar={"title": {"text": "nats"}, "thickness": 12},
                                  hovertemplate="row %{customdata[0]}, column %{x}: %{z:.3f} nats<extra></extra>",
                                  customdata=np.repeat(np.arange(27, -1, -1)[:, None, None], 28, axis=1)))
    figure.update_layout(width=300, height=270, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"})
    return figure
