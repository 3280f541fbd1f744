"""Shareable links: a view of the app (model, picked point, interpolation endpoints) as
URL query parameters, and back.

A point is either a test image, written as its index (``pick=123``), or a location in
the latent space, written as two coordinates (``pick=0.53,-1.20``). Parameters come from
whoever wrote the link, so parsing never raises: anything malformed is left out and
named in ``LinkedView.problems``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping, TypedDict

import numpy as np

MAX_COORDINATE = 1e3  # far beyond any code a model produces, small enough to decode safely
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class Point(TypedDict):
    """A point as the pages keep picks and endpoints."""

    index: int | None  # a test image's index, or None for a location
    z: list[float]  # [z1, z2]


@dataclass
class LinkedView:
    model: str | None = None  # a pretrained model's name, e.g. "mnist"
    pick: Point | None = None
    endpoints: dict[str, Point] = field(default_factory=dict)  # "a" and/or "b"
    problems: list[str] = field(default_factory=list)  # what was left out, one phrase each


def format_point(point: Point) -> str:
    """A point as a URL value: its test index, else its two coordinates."""
    if point.get("index") is not None:
        return str(int(point["index"]))
    z1, z2 = point["z"]
    return f"{z1:.3f},{z2:.3f}"


def parse_point(text: str, z_mean: np.ndarray) -> Point | None:
    """The point a URL value names (None if it names none): an index into ``z_mean``
    (the test codes) or two finite coordinates."""
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) < 10:  # ("¹" is a digit to isdigit, not to int)
        index = int(text)
        return {"index": index, "z": [float(v) for v in z_mean[index]]} if index < len(z_mean) else None
    parts = text.split(",")
    if len(parts) != 2 or len(text) > 64:
        return None
    try:
        z = [float(p) for p in parts]
    except ValueError:
        return None
    if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in z):
        return None
    return {"index": None, "z": z}


def view_params(model: str | None, pick: Point | None = None,
                endpoints: Mapping[str, Point] | None = None) -> dict[str, str]:
    """Query parameters for a view; only what is set appears."""
    params = {}
    if model:
        params["model"] = model
    if pick:
        params["pick"] = format_point(pick)
    for which in ("a", "b"):
        if endpoints and endpoints.get(which):
            params[which] = format_point(endpoints[which])
    return params


def parse_view(params: Mapping[str, str], models: list[str], z_means: Mapping[str, np.ndarray]) -> LinkedView:
    """Read a view from query parameters.

    ``models`` are the names a link may select; ``z_means`` gives each model's test codes
    (points are read against the linked model, or the first one when none is linked).
    """
    view = LinkedView()
    model = params.get("model")
    if model is not None:
        if _MODEL_NAME.fullmatch(model) and model in models:
            view.model = model
        else:
            view.problems.append(f"model {model[:40]!r} is not one of this app's models")
    target = view.model or (models[0] if models else None)
    z_mean = z_means.get(target) if target else None
    for key in ("pick", "a", "b"):
        text = params.get(key)
        if text is None:
            continue
        point = parse_point(text, z_mean) if z_mean is not None else None
        if point is None:
            view.problems.append(f"{key}={text[:40]!r} is neither a test image's number nor two coordinates")
        elif key == "pick":
            view.pick = point
        else:
            view.endpoints[key] = point
    return view
