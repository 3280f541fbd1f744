"""Plotly figures of a latent space: the class scatter, a picked point with its posterior
ellipse, score views, toy-world planes and training curves (the live latent plane draws
itself in the browser: ui/latent_plane).

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

from vae_core.images import PALETTE, latent_extent


PICK_COLOR = "#D55E00"  # vermillion: stands out against every class colour
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


def _latent_scatter_layout(fig: go.Figure, extent: float, height: int, **layout) -> None:
    """A latent scatter's layout: pan and click to select, square, over [-extent, extent]²."""
    fig.update_layout(height=height, margin=MARGIN, dragmode="pan", hovermode="closest", clickmode="event+select",
                      plot_bgcolor="white", uirevision="keep", **layout,
                      **square_axes((-extent, extent), (-extent, extent), ("z₁", "z₂")))


def scatter_figure(z_mean, labels, classes, extent: float | None = None, height: int = 640) -> go.Figure:
    """The test set's z_mean, one WebGL trace per class (the legend hides and shows classes).

    Each point's customdata is its test-set index. Picks are styled through each trace's
    selected/unselected settings, so the figure itself never depends on what is picked.
    """
    z = np.asarray(z_mean, np.float32)
    labels = np.asarray(labels)
    extent = extent or latent_extent(z)
    fig = go.Figure()
    for c, name in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        if not len(idx):
            continue
        fig.add_trace(go.Scattergl(
            x=z[idx, 0].round(4), y=z[idx, 1].round(4), customdata=idx, mode="markers", name=name,
            marker=dict(size=4, color=class_color(c), opacity=0.75),
            selected=dict(marker=dict(size=12, color="#000000", opacity=1.0)),
            unselected=dict(marker=dict(opacity=0.75)),
            hovertemplate=f"<b>{name}</b><br>test image #%{{customdata}}<br>z = (%{{x:.2f}}, %{{y:.2f}})"
                          "<extra></extra>"))
    _latent_scatter_layout(fig, extent, height,
                           legend=dict(title=dict(text="class (click to hide or show)", side="top"),
                                       itemsizing="constant", orientation="h", yanchor="top", y=-0.12,
                                       xanchor="center", x=0.5))
    return fig


def live_scatter_figure(z_mean, labels, classes, max_points: int = 3000) -> go.Figure:
    """A small scatter of the first ``max_points`` codes that follows a training job: redrawn
    every epoch (no kept zoom), not for clicking (no dragging)."""
    fig = scatter_figure(z_mean[:max_points], labels[:max_points], classes, height=360)
    fig.update_layout(dragmode=False, uirevision=None, legend=dict(title=None, font=dict(size=10), y=-0.18))
    return fig


def ellipse_points(center, sigma, n_sigma: float = 1.0, steps: int = 64) -> np.ndarray:
    """Points [steps, 2] on the axis-aligned ellipse center + n_sigma * sigma * (cos t, sin t)."""
    t = np.linspace(0, 2 * np.pi, steps)
    c, s = np.asarray(center, np.float64)[:2], np.asarray(sigma, np.float64)[:2]
    return np.stack([c[0] + n_sigma * s[0] * np.cos(t), c[1] + n_sigma * s[1] * np.sin(t)], axis=1)


def add_pick(fig: go.Figure, z, sigma=None, label: str = "picked", gl: bool = False) -> go.Figure:
    """Mark a picked location, with its posterior's 1- and 2-sigma ellipses when sigma is known.

    ``gl`` draws the marks with WebGL: on a WebGL scatter, SVG marks lie under the points.
    """
    kind = go.Scattergl if gl else go.Scatter
    if sigma is not None:
        for k, dash in ((1, "solid"), (2, "dot")):
            e = ellipse_points(z, sigma, k)
            fig.add_trace(kind(x=e[:, 0], y=e[:, 1], mode="lines", showlegend=False, hoverinfo="skip",
                               line=dict(color=PICK_COLOR, width=2, dash=dash)))
    fig.add_trace(kind(x=[z[0]], y=[z[1]], mode="markers", name=label, showlegend=False, hoverinfo="skip",
                       marker=dict(symbol="circle-open", size=22, color=PICK_COLOR,
                                   line=dict(width=3, color=PICK_COLOR))))
    return fig


def zoom_figure(z_mean, labels, center, sigma=None, height: int = 260) -> go.Figure:
    """A close-up of the latent plane around ``center``: the neighbouring test codes, the
    point, and its posterior's 1- and 2-sigma ellipses (too small to see at full scale)."""
    center = np.asarray(center, np.float64)[:2]
    half = 0.5 if sigma is None else float(max(0.25, 3.0 * np.max(sigma)))
    z, labels = np.asarray(z_mean)[:, :2], np.asarray(labels)
    near = np.flatnonzero(np.all(np.abs(z - center) <= half, axis=1))
    fig = go.Figure(go.Scatter(x=z[near, 0], y=z[near, 1], mode="markers", hoverinfo="skip", showlegend=False,
                               marker=dict(size=7, color=[class_color(int(c)) for c in labels[near]], opacity=0.8)))
    add_pick(fig, center, sigma)
    fig.update_layout(height=height, margin=MARGIN, plot_bgcolor="white",
                      **square_axes((center[0] - half, center[0] + half), (center[1] - half, center[1] + half),
                                    zero_lines=False))
    return fig


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


def pick_from_points(points: list[dict]) -> dict | None:
    """Turn a Plotly click selection into a pick: {"index": test index or None, "z": [z1, z2]}.

    Class traces carry the test index as customdata; a point without it is a location.
    """
    if not points:
        return None
    point = points[0]
    index = point.get("customdata")
    if isinstance(index, list):
        index = index[0] if index else None
    return {"index": int(index) if index is not None else None, "z": [float(point["x"]), float(point["y"])]}


def add_neighbours(fig: go.Figure, z, name: str = "nearest test images") -> go.Figure:
    """Mark test codes (a picked point's nearest neighbours) with crosses."""
    z = np.asarray(z, np.float64).reshape(-1, 2)
    fig.add_trace(go.Scatter(x=z[:, 0], y=z[:, 1], mode="markers", name=name, showlegend=False, hoverinfo="skip",
                             marker=dict(symbol="x-thin", size=11, line=dict(width=2, color="#000000"))))
    return fig


SCORE_COLORSCALE = "Viridis"  # perceptually uniform and readable with colour-vision deficiencies
ABOVE_TRACE = "above threshold"
ABOVE_COLOR = "#000000"  # outlines and bars over the threshold (the picked image keeps PICK_COLOR)


def score_color_range(scores) -> tuple[float, float]:
    """The colour scale's span for a per-image score: the 1st to 99th percentile, so a few extreme
    images do not wash out the rest."""
    s = np.asarray(scores, np.float64)
    lo, hi = np.percentile(s, [1, 99]) if len(s) else (0.0, 1.0)
    return float(lo), float(max(hi, lo + 1e-6))


def score_scatter_figure(z_mean, scores, label: str, threshold: float | None = None, extent: float | None = None,
                         height: int = 560) -> go.Figure:
    """The test codes coloured by a per-image score (bright = less typical; the histogram beside
    it, score_histogram with the same colours, is its colour scale). With a ``threshold`` the codes
    below it are faded and those above drawn on top, larger and outlined: however many there are,
    each stays visible (rings of their own merged into a dark blob). Each point's customdata is its
    test index, so clicks select images.
    """
    z, s = np.asarray(z_mean, np.float32), np.asarray(scores, np.float64)
    extent = extent or latent_extent(z)
    order = np.argsort(s, kind="stable")  # the least typical drawn last, on top
    lo, hi = score_color_range(s)
    colors = dict(colorscale=SCORE_COLORSCALE, cmin=lo, cmax=hi)
    fig = go.Figure(go.Scattergl(
        x=z[order, 0].round(4), y=z[order, 1].round(4), customdata=order, mode="markers", name="test images",
        marker=dict(size=4, color=s[order].round(2), opacity=0.25 if threshold is not None else 0.85, **colors),
        selected=dict(marker=dict(size=12, color="#000000", opacity=1.0)),
        hovertemplate=f"test image #%{{customdata}}<br>{label} %{{marker.color:.1f}}<extra></extra>",
        showlegend=False))
    if threshold is not None:
        hot = order[s[order] > threshold]
        fig.add_trace(go.Scattergl(
            x=z[hot, 0].round(4), y=z[hot, 1].round(4), customdata=hot, mode="markers", name=ABOVE_TRACE,
            marker=dict(size=7, color=s[hot].round(2), line=dict(width=0.8, color=ABOVE_COLOR), **colors),
            selected=dict(marker=dict(color="#000000")), unselected=dict(marker=dict(opacity=1.0)),
            hovertemplate=f"test image #%{{customdata}}: {label} %{{marker.color:.1f}}, above the threshold"
                          "<extra></extra>", showlegend=False))
    _latent_scatter_layout(fig, extent, height)
    return fig


def score_histogram(scores, label: str, threshold: float | None = None, value: float | None = None,
                    value_label: str = "your digit", bins: int = 60, height: int = 260,
                    colored: bool = False) -> go.Figure:
    """The distribution of a per-image score over the test set, with a threshold line (bars above
    it highlighted) and/or one image's score marked. ``colored``: each bar in the colour its images
    have on score_scatter_figure, faded below the threshold as there: the scatter's colour scale."""
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
        groups.append((ABOVE_TRACE, s[s > threshold], ABOVE_COLOR, 1.0))
    for name, values, color, opacity in groups:
        counts = np.histogram(values, edges)[0]
        marker = (dict(color=centres, colorscale=SCORE_COLORSCALE, cmin=c_lo, cmax=c_hi, opacity=opacity)
                  if colored else dict(color=color))
        fig.add_trace(go.Bar(x=centres, y=counts, width=size * 0.95, name=name, marker=marker, showlegend=False,
                             hovertemplate="%{x:.0f} nats: %{y} images" + (" above the threshold" if name == ABOVE_TRACE
                                                                            else "") + "<extra></extra>"))
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
