"""Small Streamlit pieces the pages share."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

import vae_core as vc
from ui.state import LatentView, ModelEntry
from vae_core.figures import manifold_image, scatter_figure

MANIFOLD_CELLS = 25


def require_model() -> ModelEntry:
    """The selected model, or a friendly stop when there is none."""
    ensure_shell()
    entry = st.session_state.get("current_entry")
    if entry is None:
        st.info("There is no model yet. Train one on the **Train** page or upload a checkpoint in the sidebar.")
        st.stop()
    return entry


@st.cache_resource(show_spinner=False, max_entries=32)
def _scatter_json(_entry: ModelEntry, _view: LatentView, entry_id: str, manifold: bool) -> dict:
    layer = None
    if manifold:
        grid = vc.decode_grid(_entry.ckpt.model, MANIFOLD_CELLS, method="linear", extent=_view.extent)
        layer = manifold_image(grid, MANIFOLD_CELLS, _view.extent)
    return scatter_figure(_view.z_mean, _view.labels, _entry.ckpt.classes, _view.extent, manifold=layer).to_dict()


def base_scatter(entry: ModelEntry, view: LatentView, manifold: bool = False) -> go.Figure:
    """The model's scatter (built once per model and cached), as a fresh figure to draw on."""
    return go.Figure(_scatter_json(entry, view, entry.id, manifold))


def selected_points(key: str) -> list[dict]:
    """The points of a plotly_chart selection stored under ``key`` (empty when none)."""
    event = st.session_state.get(key)
    if not event:
        return []
    selection = event.get("selection") if hasattr(event, "get") else getattr(event, "selection", None)
    return list((selection or {}).get("points", []))


def digit_image(container, image, caption: str, scale: int = 6) -> None:
    """A crisp digit: nearest-neighbour upscaled PNG bytes (st.image would smooth a raw array as JPEG)."""
    container.image(vc.png_bytes(image, scale=scale), caption=caption, output_format="PNG")


def ensure_shell() -> None:
    """Make sure this page runs inside app.py (navigation and sidebar).

    While no run has called st.navigation yet, Streamlit treats a top-level pages/ folder
    the old way and runs a requested page's script on its own: on a fresh server when the
    first request is for a sub-page URL (and in AppTest, which starts every run fresh).
    Turning that mode off and rerunning goes through app.py to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
