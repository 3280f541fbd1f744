"""Plotly figures beside the latent plane: score histograms, toy-world planes and training
curves. Every latent scatter, with its picks and close-ups, is the live latent plane's, drawn in
the browser (ui/latent_plane).

Figures are plain Plotly objects (no Streamlit), so the app stays thin and this is tested here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
# Imported whole before any figure is built. Plotly looks pandas up in sys.modules, bypassing the
# import lock: while one thread was still importing it (ui.warmup's, or another visitor's), a
# chart found a half-made module ("partially initialized module 'pandas' has no attribute
# 'Series'"). An import statement waits for another thread's import to finish.
import pandas  # noqa: F401
import plotly.graph_objects as go

from vae_core.images import ABOVE_COLOR, PALETTE, PICK_COLOR, SCORE_SCALE


MARGIN = dict(l=10, r=10, t=10, b=10)


def class_color(label: int) -> str:
    return PALETTE[label % len(PALETTE)]


def square_axes(x_range, y_range, titles: tuple[str, str] | None = None, zero_lines: bool = True) -> dict:
    """Layout of a square plane (one scale for x and y) over the given ranges, in the scatter's
    style: ``fig.update_layout(**square_axes(...))``."""
    style = dict(gridcolor="#f0f0f0", constrain="domain")
    if zero_lines:
        style.update(zeroline=True, zerolinecolor="#ddd")
    xaxis = dict(range=list(x_range), **style)
    yaxis = dict(range=list(y_range), scaleanchor="x", scaleratio=1, **style)
    if titles:
        xaxis["title"], yaxis["title"] = titles
    return dict(xaxis=xaxis, yaxis=yaxis)


def history_figure(history: list[dict], height: int = 320) -> go.Figure:
    """Train and test loss (negative ELBO, nats per image) per epoch."""
    fig = go.Figure()
    epochs = [h["epoch"] for h in history]
    for key, name, dash in (("train_loss", "train", "solid"), ("test_loss", "test", "dash")):
        values = [h.get(key) for h in history]
        if any(v is not None for v in values):
            fig.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=name, line=dict(dash=dash)))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis=dict(title="epoch", tickformat="d", dtick=max(1, len(epochs) // 8)),
                      yaxis_title="negative ELBO (nats / image)", legend=dict(orientation="h", y=1.1))
    return fig


def score_color_range(scores) -> tuple[float, float]:
    """The colour scale's span for a per-image score (SCORE_SCALE's ends, on the Anomalies plane and
    its histogram): the 1st to 99th percentile, so a few extreme images do not wash out the rest."""
    s = np.asarray(scores, np.float64)
    lo, hi = np.percentile(s, [1, 99]) if len(s) else (0.0, 1.0)
    return float(lo), float(max(hi, lo + 1e-6))


def score_histogram(scores, label: str, threshold: float | None = None, value: float | None = None,
                    value_label: str = "your digit", bins: int = 60, height: int = 260,
                    colored: bool = False) -> go.Figure:
    """The distribution of a per-image score over the test set, with a threshold line (bars above
    it highlighted) and/or one image's score marked. ``colored``: each bar in the colour its images
    have on the Anomalies plane (SCORE_SCALE over score_color_range), faded below the threshold as
    there: the plane's colour scale."""
    s = np.asarray(scores, np.float64)
    shown = np.append(s, [] if value is None else [value])  # the range holds every bar and the mark
    lo, hi = float(shown.min()), float(shown.max())
    size = max((hi - lo) / bins, 1e-6)
    edges = lo + size * np.arange(bins + 2)
    centres = (edges[:-1] + edges[1:]) / 2
    c_lo, c_hi = score_color_range(s)
    fig = go.Figure()
    groups = [("test images", s if threshold is None else s[s <= threshold], "#88CCEE", 1.0 if threshold is None else 0.45)]
    if threshold is not None:
        groups.append(("above threshold", s[s > threshold], ABOVE_COLOR, 1.0))
    for name, values, color, opacity in groups:
        counts = np.histogram(values, edges)[0]
        marker = (dict(color=centres, colorscale=SCORE_SCALE, cmin=c_lo, cmax=c_hi, opacity=opacity)
                  if colored else dict(color=color))
        where = " above the threshold" if name == "above threshold" else ""
        fig.add_trace(go.Bar(x=centres, y=counts, width=size * 0.95, name=name, marker=marker, showlegend=False,
                             hovertemplate=f"%{{x:.0f}} nats: %{{y}} images{where}<extra></extra>"))
    if threshold is not None:
        fig.add_vline(x=threshold, line=dict(color=ABOVE_COLOR, width=2, dash="dash"),
                      annotation=dict(text="threshold"), annotation_position="top")
    if value is not None:
        fig.add_vline(x=value, line=dict(color=PICK_COLOR, width=3),
                      annotation=dict(text=value_label, font=dict(color=PICK_COLOR)), annotation_position="top")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), barmode="overlay",
                      plot_bgcolor="white", xaxis=dict(title=f"{label} (nats)", range=[lo, hi + size]),
                      yaxis=dict(title="test images", gridcolor="#f0f0f0"))
    return fig


# --- Plain 2-D planes: the toy world's data, codes and samples, and random points on a scatter ---

@dataclass(frozen=True)
class PointGroups:
    """How a plane colours points: a group per point, and each group's colour and legend name."""

    labels: np.ndarray  # int [N]
    colors: tuple[str, ...]
    names: tuple[str, ...]


def component_groups(component, names) -> PointGroups:
    """Points coloured by the component they come from, in the class colours."""
    return PointGroups(np.asarray(component), tuple(PALETTE), tuple(names))


def angle_groups(points, bins: int = 12) -> PointGroups:
    """Points coloured by their direction from the centre, in ``bins`` bins of a hue wheel (cyclic,
    like the angle) at even lightness; each bin is named by its range, so the legend is the scale."""
    p = np.asarray(points)
    angle = np.arctan2(p[:, 1], p[:, 0])
    labels = np.floor((angle + np.pi) / (2 * np.pi) * bins).astype(int) % bins
    colors = []
    for k in range(bins):
        h = k / bins * 6
        x = 1 - abs(h % 2 - 1)
        r, g, b = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(h) % 6]
        colors.append("#%02X%02X%02X" % tuple(int(40 + 175 * c) for c in (r, g, b)))
    step = 360 // bins
    names = tuple(f"{-180 + k * step}°…{-180 + (k + 1) * step}°" for k in range(bins))
    return PointGroups(labels, tuple(colors), names)


def plane_figure(extent: float, axes: tuple[str, str] = ("x₁", "x₂"), height: int = 400) -> go.Figure:
    """An empty square view of [-extent, extent]² in the scatter's style."""
    fig = go.Figure()
    fig.update_layout(height=height, margin=MARGIN, plot_bgcolor="white", hovermode=False, dragmode="pan",
                      uirevision="keep",
                      legend=dict(orientation="h", yanchor="top", y=-0.14, xanchor="center", x=0.5,
                                  itemsizing="constant"),
                      **square_axes((-extent, extent), (-extent, extent), axes))
    return fig


def add_points(fig: go.Figure, points, groups=None, names=None, name: str = "points",
               color: str = "#000000", size: int = 4, opacity: float = 0.75, symbol: str = "circle",
               showlegend: bool = True) -> go.Figure:
    """Points [N, 2] in one colour, or one trace per group (``groups``: ints, coloured and named
    like classes)."""
    p = np.asarray(points, np.float32)
    style = dict(mode="markers", hoverinfo="skip")
    if groups is not None:
        groups = np.asarray(groups)
        for g in np.unique(groups):
            idx = groups == g
            label = names[int(g)] if names is not None else f"{name} {int(g) + 1}"
            fig.add_trace(go.Scattergl(x=p[idx, 0], y=p[idx, 1], name=label, showlegend=showlegend, **style,
                                       marker=dict(size=size, color=class_color(int(g)), opacity=opacity,
                                                   symbol=symbol)))
    else:
        fig.add_trace(go.Scattergl(x=p[:, 0], y=p[:, 1], name=name, showlegend=showlegend, **style,
                                   marker=dict(size=size, color=color, opacity=opacity, symbol=symbol)))
    return fig
