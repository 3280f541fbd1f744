"""Plotly figures of a latent space: the class scatter, the manifold layer, a picked point
with its posterior ellipse, interpolation paths, and training curves.

Figures are plain Plotly objects (no Streamlit), so the app stays thin and this is tested here.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

from .images import png_bytes

# Paul Tol's "muted" scheme (designed to stay distinct under colour-vision deficiencies),
# with its pale grey swapped for a darker one so the tenth class stays visible on white.
PALETTE = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
           "#DDCC77", "#CC6677", "#882255", "#AA4499", "#777777")

GRID_TRACE = "location"
PICK_COLOR = "#D55E00"  # vermillion: stands out against every class colour  # name of the invisible trace that makes empty space clickable


def class_color(label: int) -> str:
    return PALETTE[label % len(PALETTE)]


def latent_extent(z, margin: float = 0.5, floor: float = 3.0) -> float:
    """Half-width of a square view that holds nearly all points: max(|z|) at the 99.9th
    percentile plus a margin, at least ``floor`` (the prior's +-3 sigma)."""
    z = np.asarray(z, np.float64)
    if z.size == 0:
        return floor
    return float(max(floor, np.percentile(np.abs(z[:, :2]), 99.9) + margin))


def manifold_image(grid: np.ndarray, n: int, extent: float) -> dict:
    """A Plotly layout image placing a linear-method decode grid (n x n cells whose centres
    run from -extent to +extent) exactly under the axes it was decoded at."""
    cell = 2 * extent / (n - 1) if n > 1 else 2 * extent
    uri = "data:image/png;base64," + base64.b64encode(png_bytes(255 - grid)).decode()
    return dict(source=uri, xref="x", yref="y", x=-extent - cell / 2, y=extent + cell / 2,
                sizex=n * cell, sizey=n * cell, sizing="stretch", layer="below", opacity=0.45)


def scatter_figure(z_mean, labels, classes, extent: float | None = None, grid_points: int = 61,
                   manifold: dict | None = None, height: int = 640) -> go.Figure:
    """The test set's z_mean, one WebGL trace per class (the legend hides and shows classes).

    Each point's customdata is its test-set index. An invisible trace of grid_points^2
    locations lies underneath so a click on empty space also selects a position.
    Picks are styled through each trace's selected/unselected settings, so the figure
    itself never depends on what is picked.
    """
    z = np.asarray(z_mean, np.float32)
    labels = np.asarray(labels)
    extent = extent or latent_extent(z)
    fig = go.Figure()
    axis = np.linspace(-extent, extent, grid_points)
    gx, gy = np.meshgrid(axis, axis)
    fig.add_trace(go.Scattergl(
        x=gx.ravel().round(3), y=gy.ravel().round(3), mode="markers", name=GRID_TRACE,
        marker=dict(size=6, color="rgba(0,0,0,0)"), hoverinfo="none", showlegend=False,
        selected=dict(marker=dict(color="rgba(0,0,0,0)")), unselected=dict(marker=dict(opacity=0))))
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
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=10, b=10), dragmode="pan", hovermode="closest",
        clickmode="event+select", plot_bgcolor="white", uirevision="keep",
        legend=dict(title=dict(text="class (click to hide or show)", side="top"), itemsizing="constant",
                    orientation="h", yanchor="top", y=-0.12, xanchor="center", x=0.5),
        # a square plot whose ranges stay at +-extent (the clickable grid covers exactly that)
        xaxis=dict(title="z₁", range=[-extent, extent], zeroline=True, zerolinecolor="#ddd", gridcolor="#f0f0f0",
                   constrain="domain"),
        yaxis=dict(title="z₂", range=[-extent, extent], zeroline=True, zerolinecolor="#ddd", gridcolor="#f0f0f0",
                   scaleanchor="x", scaleratio=1, constrain="domain"))
    if manifold:
        fig.add_layout_image(manifold)
    return fig


def ellipse_points(center, sigma, n_sigma: float = 1.0, steps: int = 64) -> np.ndarray:
    """Points [steps, 2] on the axis-aligned ellipse center + n_sigma * sigma * (cos t, sin t)."""
    t = np.linspace(0, 2 * np.pi, steps)
    c, s = np.asarray(center, np.float64)[:2], np.asarray(sigma, np.float64)[:2]
    return np.stack([c[0] + n_sigma * s[0] * np.cos(t), c[1] + n_sigma * s[1] * np.sin(t)], axis=1)


def add_pick(fig: go.Figure, z, sigma=None, label: str = "picked") -> go.Figure:
    """Mark a picked location, with its posterior's 1- and 2-sigma ellipses when sigma is known."""
    if sigma is not None:
        for k, dash in ((1, "solid"), (2, "dot")):
            e = ellipse_points(z, sigma, k)
            fig.add_trace(go.Scatter(x=e[:, 0], y=e[:, 1], mode="lines", showlegend=False, hoverinfo="skip",
                                     line=dict(color=PICK_COLOR, width=2, dash=dash)))
    fig.add_trace(go.Scatter(x=[z[0]], y=[z[1]], mode="markers", name=label, showlegend=False, hoverinfo="skip",
                             marker=dict(symbol="circle-open", size=22, line=dict(width=3, color=PICK_COLOR))))
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
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="white",
                      xaxis=dict(range=[center[0] - half, center[0] + half], gridcolor="#f0f0f0", constrain="domain"),
                      yaxis=dict(range=[center[1] - half, center[1] + half], gridcolor="#f0f0f0", scaleanchor="x",
                                 scaleratio=1, constrain="domain"))
    return fig


def add_path(fig: go.Figure, path, current=None) -> go.Figure:
    """Draw an interpolation path (and the current position on it)."""
    path = np.asarray(path)
    fig.add_trace(go.Scatter(x=path[:, 0], y=path[:, 1], mode="lines+markers", showlegend=False, hoverinfo="skip",
                             line=dict(color="#000000", width=2), marker=dict(size=4, color="#000000")))
    for point, symbol in ((path[0], "circle-open"), (path[-1], "square-open")):
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(symbol=symbol, size=16, line=dict(width=3, color="#000000"))))
    if current is not None:
        fig.add_trace(go.Scatter(x=[current[0]], y=[current[1]], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(symbol="diamond", size=14, color="#D55E00",
                                             line=dict(width=1, color="#000000"))))
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

    Class traces carry the test index as customdata; the invisible location grid does not.
    """
    if not points:
        return None
    point = points[0]
    index = point.get("customdata")
    if isinstance(index, list):
        index = index[0] if index else None
    return {"index": int(index) if index is not None else None, "z": [float(point["x"]), float(point["y"])]}
