"""A Plotly figure that flips through precomputed images with a slider, in the browser.

Every frame travels once, as a small PNG data URI inside the figure; moving the slider
swaps the shown image with no round trip to the server (the app's interpolation walk).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .images import data_uri


def scrubber_figure(frames, titles: list[str], active: int = 0, height: int = 330) -> go.Figure:
    """Images ``frames`` [T, H, W] (uint8) above a slider of T steps.

    ``titles[k]`` is shown above the image while step k is active (the slider's own tick
    labels are hidden: with many steps they would overlap). Images are drawn pixelated:
    each pixel stays a crisp square.
    """
    frames = np.asarray(frames, np.uint8)
    if frames.ndim != 3 or not len(frames):
        raise ValueError(f"frames must be uint8 [T, H, W] with T >= 1, got shape {list(frames.shape)}")
    if len(titles) != len(frames):
        raise ValueError(f"{len(frames)} frames but {len(titles)} titles")
    active = int(np.clip(active, 0, len(frames) - 1))
    uris = [data_uri(f) for f in frames]
    h, w = frames.shape[1:]
    # A layout image, not an image trace: swapping its source is a cheap "arraydraw" relayout,
    # while restyling a trace replots the whole figure, slider included (~100 ms).
    fig = go.Figure()
    fig.add_layout_image(source=uris[active], xref="x", yref="y", x=-0.5, y=-0.5, sizex=w, sizey=h,
                         sizing="stretch", layer="above")
    steps = [dict(method="relayout", label=title, args=[{"images[0].source": uri, "title.text": title}])
             for uri, title in zip(uris, titles)]
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=36, b=10), dragmode=False,
        title=dict(text=titles[active], x=0.5, xanchor="center", font=dict(size=14)),
        xaxis=dict(visible=False, range=[-0.5, w - 0.5], constrain="domain"),
        yaxis=dict(visible=False, range=[h - 0.5, -0.5], scaleanchor="x", constrain="domain"),
        sliders=[dict(steps=steps, active=active, currentvalue=dict(visible=False), pad=dict(t=8, b=0),
                      len=1.0, x=0, ticklen=3, minorticklen=1, font=dict(color="rgba(0,0,0,0)"))])
    return fig
