"""A visitor's first page load: get the browser loading Plotly while the server imports torch.

The first script run spends most of its time importing torch (1-2 s on 2 cores), and the
browser only starts fetching and compiling Plotly's JavaScript (~4.7 MB) when the first chart
arrives, after that. An empty chart sent before the import, and removed right after it,
lets the two overlap. This module must not import torch (or anything that does).
"""

from __future__ import annotations

import streamlit as st

from ui.session_keys import PLOTLY_WARMED_UP


def start_plotly_download():
    """Once per session: an empty, invisible chart now; returns a placeholder to clear later (or None)."""
    if st.session_state.get(PLOTLY_WARMED_UP):
        return None
    st.session_state[PLOTLY_WARMED_UP] = True
    placeholder = st.sidebar.empty()
    placeholder.plotly_chart({"data": [{"type": "scatter", "x": [], "y": []}],
                              "layout": {"height": 10, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
                                         "xaxis": {"visible": False}, "yaxis": {"visible": False}}},
                             config={"staticPlot": True}, height=10, key="plotly_warm_up")
    return placeholder
