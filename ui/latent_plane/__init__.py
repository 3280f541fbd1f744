"""The live latent plane: a Streamlit Components v2 element that draws a 2-D latent space with
Plotly.js and runs the model's decoder in the browser, so every gesture answers in the same frame.

Python sends what to draw (small JSON: model, pin, endpoints); the browser fetches the heavy
parts once per model from the app's own server (the decoder export, the test-set codes, and
plotly.min.js, see assets.py) and keeps them. Hovering never talks to the server; a click, a
placed or dragged endpoint reaches Python as one event, handled by the ``on_*`` callbacks.

The browser code is decoder.js (the decoder export, mirroring vae_core.decoder_export) and
plane.js (the plane and its modes), with plane.css.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import streamlit as st
from safetensors.numpy import save as np_save

from vae_core.decoder_export import MAX_EXPORT_BYTES, ExportError, canonical_safetensors, export_decoder
from ui.link_format import MAX_COORDINATE
from ui.latent_plane.assets import PLANE_NAME, plotly_url, publish, register_assets

HERE = Path(__file__).resolve().parent
Mode = Literal["explore", "preview", "interpolate", "compare", "toy"]


@dataclass(frozen=True)
class PlaneModel:
    """What the browser needs of one model: where to fetch its decoder and its points."""

    id: str
    decoder_url: str | None  # None: the browser cannot run this decoder (see fallback)
    fallback: str | None  # why not, in one sentence
    points_url: str | None
    classes: tuple[str, ...]
    colors: tuple[str, ...]
    extent: float

    def as_data(self) -> dict:
        return {"id": self.id, "decoder": self.decoder_url, "fallback": self.fallback, "points": self.points_url,
                "classes": list(self.classes), "colors": list(self.colors), "extent": self.extent}


def browser_limit() -> int:
    """The largest decoder export sent to browsers, in bytes (VAE_BROWSER_DECODER_MB overrides)."""
    try:
        return int(float(os.environ["VAE_BROWSER_DECODER_MB"]) * 2**20)
    except (KeyError, ValueError):
        return MAX_EXPORT_BYTES


def decoder_asset(source) -> tuple[bytes | None, str | None]:
    """(export bytes, None), or (None, why the browser cannot run this decoder); ``source`` is a
    checkpoint (exported without torch) or a model (see vae_core.export_decoder)."""
    try:
        return export_decoder(source, max_bytes=browser_limit()), None
    except ExportError as e:
        return None, f"This model's decoder runs on the server ({e}): click the plane to decode a spot."


def points_asset(z_mean, labels, z_logvar=None) -> bytes:
    """The codes the plane draws as one small safetensors file: z [N, 2], labels uint8 [N] and,
    when known, the encoder's sigma [N, 2] (for the close-up's ellipses)."""
    tensors = {"z": np.ascontiguousarray(np.asarray(z_mean, np.float32)[:, :2]),
               "labels": np.asarray(labels).astype(np.uint8)}
    if z_logvar is not None:
        tensors["sigma"] = np.ascontiguousarray(np.exp(0.5 * np.asarray(z_logvar, np.float32)[:, :2]))
    return canonical_safetensors(np_save(tensors))


@st.cache_resource(show_spinner=False, max_entries=32)
def _model_files(_source, _z_mean, _labels, _z_logvar, model_id: str) -> tuple[bytes | None, str | None, bytes | None]:
    decoder, why = decoder_asset(_source)
    points = points_asset(_z_mean, _labels, _z_logvar) if _z_mean is not None else None
    return decoder, why, points


def plane_model(source, model_id: str, classes, colors, extent: float, z_mean=None, labels=None,
                z_logvar=None) -> PlaneModel:
    """A model for the plane (a checkpoint, or the toy world's model): its files built once
    (cached by ``model_id``) and served by hash."""
    decoder, why, points = _model_files(source, z_mean, labels, z_logvar, model_id)
    return PlaneModel(model_id, publish(decoder) if decoder is not None else None, why,
                      publish(points) if points is not None else None, tuple(classes), tuple(colors), float(extent))


SOURCES = ("plane.css", "decoder.js", "plane.js")


@functools.lru_cache(maxsize=2)
def _sources(mtimes: tuple[int, ...]) -> tuple[str, str]:
    """(css, js), read again only when a file was edited (``mtimes`` says when)."""
    css, decoder, plane = ((HERE / name).read_text(encoding="utf-8") for name in SOURCES)
    return css, decoder + "\n" + plane


@functools.lru_cache(maxsize=2)
def _component(css: str, js: str):
    # isolate_styles=False: Plotly styles its mode bar through the page's own stylesheet
    return st.components.v2.component(PLANE_NAME, css=css, js=js, isolate_styles=False)


def latent_plane(key: str, mode: Mode, model: PlaneModel, *, on_pick: Callable[[], None] | None = None,
                 on_endpoints: Callable[[], None] | None = None, height: int = 560, **data):
    """Mount the plane. ``data`` adds the mode's own fields (pin, manifold, endpoints, marks, ...,
    see plane.js). The result's ``pick`` / ``endpoints`` hold the event of this run, or None."""
    register_assets()
    payload = {"mode": mode, "model": model.as_data(), "plotly": plotly_url(), "height": height, **data}
    callbacks = {}
    if on_pick is not None:
        callbacks["on_pick_change"] = on_pick
    if on_endpoints is not None:
        callbacks["on_endpoints_change"] = on_endpoints
    # the sources are registered again only when edited (a stat per file and mount, no reads)
    mount = _component(*_sources(tuple((HERE / name).stat().st_mtime_ns for name in SOURCES)))
    # As JSON bytes, which Streamlit forwards as they are: a dict's values, or a string, it first
    # checks for being a dataframe, importing pandas and pyarrow (0.5 s of a server's first page).
    return mount(key=key, data=json.dumps(payload).encode(), **callbacks)


def parse_pick(value, z_mean) -> dict | None:
    """A pick the browser sent, checked (it comes from a visitor's browser, so anything may arrive):
    {"index": i, "z": the server's own z_mean[i]} for a test point, {"index": None, "z": [z1, z2]}
    for a spot, or None when ``value`` is neither."""
    if not isinstance(value, dict):
        return None
    index = value.get("index")
    if index is not None:
        if type(index) is not int or not 0 <= index < len(z_mean):
            return None
        return {"index": index, "z": [float(v) for v in z_mean[index][:2]]}
    z = value.get("z")
    if not (isinstance(z, list) and len(z) == 2 and all(type(v) in (int, float) for v in z)):
        return None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in z):
        return None
    return {"index": None, "z": [float(v) for v in z]}


def parse_endpoints(value, z_mean) -> tuple[dict, str] | None:
    """Both endpoints of an interpolation and which one a click sets next, checked as parse_pick."""
    if not isinstance(value, dict):
        return None
    ends = {which: parse_pick(value.get(which), z_mean) for which in ("a", "b")}
    if None in ends.values():
        return None
    return ends, "b" if value.get("next") == "b" else "a"


def event(key: str, name: str):
    """The value an event of the plane ``key`` carries in this run (None when there is none)."""
    value = st.session_state.get(key)
    if value is None:
        return None
    return value.get(name) if hasattr(value, "get") else getattr(value, name, None)
