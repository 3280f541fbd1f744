"""The live latent plane: a Streamlit Components v2 element that draws a 2-D latent space and runs
the model's decoder in the browser, so every gesture answers in the same frame.

Python sends what to draw (a payload of payloads.py, as small JSON: model, pin, endpoints); the
browser fetches the heavy parts once per model from the app's own server (the decoder export,
the test-set codes, and plotly.min.js, see assets.py) and keeps them. Hovering never talks to the
server; a click, a placed or dragged endpoint reaches Python as one event, handled by the
``on_*`` callbacks.

The browser code is vae_core/web (the plane itself, which the room page runs too) and, here,
component.js (the Streamlit entry) and plotly.js (the plane's Plotly upgrade).
"""

from __future__ import annotations

import functools
import math
import os
from typing import Callable

import numpy as np
import streamlit as st
from safetensors.numpy import save as np_save

from vae_core.decoder_export import MAX_EXPORT_BYTES, ExportError, canonical_safetensors, export_decoder
from ui.link_format import MAX_COORDINATE
from ui.latent_plane.assets import PLANE_NAME, WEB_DIR, publish, register_assets
from ui.latent_plane.payloads import (CloseupPayload, ComparePayload, ExplorePayload, InterpolatePayload, Payload,
                                      PlaneModel, PreviewPayload, ScoresPayload, ToyPayload, ToyWorld)

__all__ = ["CloseupPayload", "ComparePayload", "ExplorePayload", "InterpolatePayload", "PlaneModel", "PreviewPayload",
           "ScoresPayload", "ToyPayload", "ToyWorld", "decoder_asset", "event", "latent_plane", "parse_endpoints",
           "parse_pick", "plane_model", "points_asset", "scores_asset"]


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


def scores_asset(scores) -> bytes:
    """One score per test point, in the points file's order, as a small safetensors file: scores
    float32 [N] (a scores plane's, see ScoresPayload)."""
    return canonical_safetensors(np_save({"scores": np.ascontiguousarray(np.asarray(scores, np.float32).ravel())}))


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


STYLESHEET = WEB_DIR / "plane.css"


@functools.lru_cache(maxsize=2)
def _stylesheet(mtime: int) -> str:
    """The plane's CSS, read again only when the file was edited (``mtime`` says when)."""
    return STYLESHEET.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=2)
def _component(css: str):
    # The script is a served file (ui/latent_plane/web/component.js, see assets.py), so its ES imports
    # load vae_core/web beside it; the CSS travels inline, applied as the element mounts.
    # isolate_styles=False: Plotly styles its mode bar through the page's own stylesheet.
    return st.components.v2.component(PLANE_NAME, css=css, js="component.js", isolate_styles=False)


def latent_plane(key: str, payload: Payload, *, on_pick: Callable[[], None] | None = None,
                 on_endpoints: Callable[[], None] | None = None):
    """Mount the plane drawing ``payload`` (its mode's dataclass, see payloads.py). The result's
    ``pick`` / ``endpoints`` hold the event of this run, or None."""
    register_assets()
    callbacks = {}
    if on_pick is not None:
        callbacks["on_pick_change"] = on_pick
    if on_endpoints is not None:
        callbacks["on_endpoints_change"] = on_endpoints
    # the stylesheet is registered again only when edited (a stat per mount, no read)
    mount = _component(_stylesheet(STYLESHEET.stat().st_mtime_ns))
    # As JSON bytes, which Streamlit forwards as they are: a dict's values, or a string, it first
    # checks for being a dataframe, importing pandas and pyarrow (0.5 s of a server's first page).
    return mount(key=key, data=payload.to_json().encode(), **callbacks)


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
