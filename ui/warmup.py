"""After a server's first page: what the first screen did without, made ready in the background.

Explore's first screen needs neither torch nor pandas (2-3 s of imports on 2 cores): the
checkpoints are read, their latents drawn and their decoders exported with NumPy alone. Right
after that first run, one thread per process imports them and builds the pretrained models,
so the first click, which decodes with torch, finds everything loaded; then it settles the
process (ui.process). This thread never calls Streamlit.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence

import streamlit as st

from ui.process import settle_process


def _warm_up(checkpoints: Sequence) -> None:
    importlib.import_module("pandas")  # whole (see ui.figures)
    importlib.import_module("vae_core.inference")  # and with it torch

    for ckpt in checkpoints:
        ckpt.model  # noqa: B018  (built once, on first use)
    settle_process()


@st.cache_resource(show_spinner=False)
def warm_up_in_background(_checkpoints: Sequence) -> threading.Thread:
    """Once per process: start the warm-up of these checkpoints' models; returns its thread."""
    thread = threading.Thread(target=_warm_up, args=(tuple(_checkpoints),), name="vae-explorer-warm-up", daemon=True)
    thread.start()
    return thread
