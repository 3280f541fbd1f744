"""Small Streamlit pieces the pages share."""

from __future__ import annotations

import re
import sys

import numpy as np
import streamlit as st

import vae_core as vc
from ui.export import data_uri
from ui.latent_plane import PlaneModel, plane_model
from ui.state import LatentView, ModelEntry, current_entry, latent_view
from ui.streamlit_hooks import leave_pages_folder_mode


def require_model() -> ModelEntry:
    """The model the view shows, or a friendly stop when there is none."""
    ensure_shell()
    entry = current_entry()
    if entry is None:
        st.info("There is no model yet. Train one on the **Train** page or upload a checkpoint in the sidebar.")
        st.stop()
    return entry


def require_view(entry: ModelEntry, warning: str) -> LatentView:
    """The model's test-set codes, or ``warning`` and a stop when it has none (and the test set is not on disk)."""
    view = latent_view(entry, entry.id)
    if view is None:
        st.warning(warning)
        st.stop()
    return view


def plane_model_of(entry: ModelEntry, view: LatentView, extent: float | None = None) -> PlaneModel:
    """A picker model on the live latent plane: its decoder and test-set codes, served once."""
    return plane_model(entry.ckpt, entry.id, entry.ckpt.classes, vc.PALETTE, extent or view.extent, view.z_mean,
                       view.labels, view.z_logvar)


def plane_points(points, labels) -> dict:
    """Points [N, 2] and their groups as a latent plane takes them (flat coordinates, to 4 decimals)."""
    return {"z": np.asarray(points, np.float32).ravel().round(4).tolist(), "labels": np.asarray(labels).tolist()}


def reseed(key: str) -> None:
    """A "new ..." button's callback: the seed widget ``key`` moves on to the next seed."""
    st.session_state[key] = st.session_state.get(key, 0) + 1


# All images of the app are pixel art (digits, grids of digits): the browser scales them up
# nearest-neighbour, so a digit travels as a 28x28 PNG (~0.3 KB, ~0.1 ms to encode) instead
# of an upscaled one (~7 ms), inline as a data URI: no media file, no second request to the
# server before it appears. A fixed-width image still shrinks to fit a narrow column.
PIXELATED_CSS = ("<style>[data-testid='stImage'] img { image-rendering: pixelated; } "
                 "[data-testid='stImageContainer'] { max-width: 100%; }</style>")


def grid_columns(n: int, most: int = 10, fewest: int = 4) -> int:
    """Columns for a grid of ``n`` images with no empty cell where possible (36 -> 9, 40 -> 10),
    else the fewest empty cells."""
    if n <= most:
        return max(n, 1)
    return min(range(fewest, most + 1), key=lambda c: ((-n) % c, -c))


def image_grid(images, cols: int) -> np.ndarray:
    """Images [N, H, W] in rows of ``cols``, apart by thin dark gaps: one picture."""
    return vc.tile(images, cols=cols, pad=2, pad_value=40)


def pixel_image(container, image, caption: str, scale: int = 6) -> None:
    """A digit or a grid of digits, crisp at ``scale`` times its size and sent inline.

    st.image would smooth a raw array as JPEG and keep it as a media file, which a browser
    busy with another rerun can ask for after the server has already dropped it (a 404).
    """
    image = np.asarray(image)
    container.image(data_uri(image), caption=caption, width=scale * image.shape[1])


def png_download(container, images, file_name: str, label: str = "Download (PNG)", scale: int = 4,
                 key: str | None = None) -> None:
    """A button that saves ``images`` (one image, or several side by side) as a PNG, made on click."""
    images = np.asarray(images)
    picture = image_grid(images, len(images)) if images.ndim == 3 else images
    container.download_button(label, lambda: vc.png_bytes(picture, scale=scale), file_name=file_name,
                              mime="image/png", on_click="ignore", icon=":material/download:", key=key)


def plain_markdown(text: str) -> str:
    """Text that markdown shows as itself (an uploaded file's name becomes part of a model's label)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", text)


def canvas_png(result) -> bytes | None:
    """A drawable canvas's drawing as PNG bytes, or None while it is empty."""
    if not (result.json_data or {}).get("objects"):
        return None
    try:
        return result.image_bytes
    except ValueError:  # a malformed data URL from the browser: treat as no drawing
        return None


def ensure_shell() -> None:
    """Make sure this page runs inside app.py (navigation and sidebar).

    While no run has called st.navigation yet, Streamlit treats a top-level pages/ folder
    the old way and runs a requested page's script on its own: on a fresh server when the
    first request is for a sub-page URL (and in AppTest, which starts every run fresh).
    Turning that mode off and rerunning goes through app.py to the same page.
    """
    if leave_pages_folder_mode():
        st.rerun()
    # One torch thread per script run: a click decodes a handful of images, which more threads
    # do not speed up, while on a busy machine every extra thread makes each operation wait for
    # a core (measured on 2 busy cores: a 20x20 grid decode 8 ms with 1 thread, 100+ ms with 2).
    # Concurrent visitors still run in parallel, each in their own thread. Set per run: each
    # run is a new thread, and a training job may have changed torch's default meanwhile.
    # (Until torch is imported, which the first screen does without, there is nothing to set;
    # while the warm-up thread imports it, the module is there but partly built.)
    torch = sys.modules.get("torch")
    if hasattr(torch, "set_num_threads"):
        torch.set_num_threads(1)
    st.html(PIXELATED_CSS)
