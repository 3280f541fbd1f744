"""The drawing canvas: streamlit-drawable-canvas, its stylesheet sent with the element.

The library's component links its stylesheet from the server on every mount, and Streamlit runs
the component's script without waiting for that link. Until the sheet arrives, the drawing surface
lies below the black square, clipped away: on a busy server (8 visitors, one training) a visitor's
strokes fell on a dead square for seconds. Here the same script and stylesheet, read from the
installed library, travel inline: a <style> is in place before the script runs. The library's
own Python (its arguments, its result) is used unchanged; only the component it mounts is this one.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import streamlit as st
import streamlit_drawable_canvas as library

COMPONENT_NAME = "vae_explorer.drawing_canvas"


def _built(suffix: str) -> str:
    """The text of the library's one built file ending in ``suffix`` (its name carries a hash)."""
    (path,) = [p for p in (files(library) / "frontend" / "build").iterdir() if p.name.endswith(suffix)]
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _component():
    return st.components.v2.component(COMPONENT_NAME, html='<div class="canvas-root"></div>', css=_built(".css"),
                                      js=_built(".js"), isolate_styles=True)


def st_canvas(**kwargs) -> library.CanvasResult:
    """``streamlit_drawable_canvas.st_canvas``, mounting the inline-styled component."""
    library.out = _component()  # the library mounts whatever its module's `out` is
    return library.st_canvas(**kwargs)
