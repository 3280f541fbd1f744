"""The drawing canvas: streamlit-drawable-canvas, its stylesheet sent with the element.

The library's component links its stylesheet from the server on every mount, and Streamlit runs
the component's script without waiting for that link. Until the sheet arrives, the drawing surface
lies below the black square, clipped away: on a busy server (8 visitors, one training) a visitor's
strokes fell on a dead square for seconds. This component is the library's own, with its
stylesheet inline (a <style> is in place before the script runs) and its script still served from
the library's build folder, so the browser loads it once. The library's Python (its arguments, its
result) is used unchanged; only the component it mounts is this one.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st
import streamlit_drawable_canvas as library

from ui.latent_plane.assets import PROJECT, declare_asset_folder

CANVAS = "drawing_canvas"
LIBRARY_DIR = Path(library.__file__).resolve().parent


@lru_cache(maxsize=1)
def _mount_through_this_component() -> None:
    (css,) = (LIBRARY_DIR / "frontend" / "build").glob("index-*.css")  # its name carries a hash
    library.out = st.components.v2.component(f"{PROJECT}.{CANVAS}", html='<div class="canvas-root"></div>',
                                             css=css.read_text(encoding="utf-8"), js="index-*.js",
                                             isolate_styles=True)


def st_canvas(**kwargs) -> library.CanvasResult:
    """``streamlit_drawable_canvas.st_canvas``, mounting the inline-styled component."""
    declare_asset_folder(CANVAS, LIBRARY_DIR, "frontend/build")  # the script's folder, on this runtime
    _mount_through_this_component()
    return library.st_canvas(**kwargs)
