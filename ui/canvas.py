"""The drawing canvas: streamlit-drawable-canvas with its stylesheet inline, in place before its script runs.

Why: the library links its stylesheet, and until that arrives the drawing surface lies clipped below
the square. Its script is still served from the library's build folder and its Python used as it is;
only the component it mounts is this one (ui/streamlit_hooks.py).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import streamlit as st
import streamlit_drawable_canvas as library

from ui.latent_plane.assets import PROJECT, declare_asset_folder
from ui.streamlit_hooks import mount_canvas_through

CANVAS = "drawing_canvas"
LIBRARY_DIR = Path(library.__file__).resolve().parent


@lru_cache(maxsize=1)
def _mount_through_this_component() -> None:
    (css,) = (LIBRARY_DIR / "frontend" / "build").glob("index-*.css")  # its name carries a hash
    mount_canvas_through(st.components.v2.component(f"{PROJECT}.{CANVAS}", html='<div class="canvas-root"></div>',
                                                     css=css.read_text(encoding="utf-8"), js="index-*.js",
                                                     isolate_styles=True))


def st_canvas(**kwargs) -> library.CanvasResult:
    """``streamlit_drawable_canvas.st_canvas``, mounting the inline-styled component."""
    declare_asset_folder(CANVAS, LIBRARY_DIR, "frontend/build")  # the script's folder, on this runtime
    _mount_through_this_component()
    return library.st_canvas(**kwargs)
