import numpy as np
import plotly.graph_objects as go
import pytest

from ui.figures import (ABOVE_TRACE, PALETTE, PICK_COLOR, add_neighbours, add_pick, add_points,
                        angle_groups, component_groups, ellipse_points, history_figure, latent_extent,
                        live_scatter_figure, pick_from_points, plane_figure, scatter_figure, score_histogram,
                        score_scatter_figure, square_axes, zoom_figure)
from vae_core.toy import make_toy
from vae_core.typicality import above


@pytest.fixture
def codes():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 2)).astype(np.float32), rng.integers(0, 3, 300)


def test_scatter_has_one_webgl_trace_per_class_with_indices(codes):
    z, labels = codes
    fig = scatter_figure(z, labels, ["a", "b", "c"])
    assert [t.name for t in fig.data] == ["a", "b", "c"]  # the classes, and nothing under them
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    for c, trace in enumerate(fig.data):
        idx = np.asarray(trace.customdata)
        assert (labels[idx] == c).all() and trace.marker.color == PALETTE[c]
        np.testing.assert_allclose(trace.x, z[idx, 0], atol=1e-4)
    assert sum(len(t.x) for t in fig.data) == 300
    extent = latent_extent(z)
    assert tuple(fig.layout.xaxis.range) == (-extent, extent) and fig.layout.yaxis.scaleanchor == "x"


def test_palette_is_ten_distinct_colours():
    assert len(set(PALETTE)) == 10


def test_latent_extent_covers_the_prior_and_the_points():
    assert latent_extent(np.zeros((10, 2))) == 3.0
    assert latent_extent(np.array([[5.0, 0], [-1, 1]])) == pytest.approx(5.5, abs=0.02)


def test_pick_from_points_reads_a_test_point_or_a_location():
    assert pick_from_points([]) is None
    assert pick_from_points([{"x": 1.5, "y": -2, "customdata": 17}]) == {"index": 17, "z": [1.5, -2.0]}
    assert pick_from_points([{"x": 1.5, "y": -2, "customdata": [4]}])["index"] == 4
    assert pick_from_points([{"x": 0.25, "y": 0.5, "curve_number": 0}]) == {"index": None, "z": [0.25, 0.5]}


def test_ellipses_and_overlays():
    e = ellipse_points([1, 2], [0.5, 0.1], n_sigma=2)
    np.testing.assert_allclose(((e[:, 0] - 1) / 1.0) ** 2 + ((e[:, 1] - 2) / 0.2) ** 2, 1.0, atol=1e-9)
    fig = add_pick(go.Figure(), [1, 2], [0.5, 0.1])
    assert len(fig.data) == 3  # 1-sigma, 2-sigma and the point
    assert len(add_pick(go.Figure(), [1, 2]).data) == 1


def test_zoom_shows_only_the_neighbourhood(codes):
    z, labels = codes
    fig = zoom_figure(z, labels, z[0], sigma=[0.1, 0.1])
    shown = np.stack([fig.data[0].x, fig.data[0].y], axis=1)
    assert len(shown) < 300 and np.all(np.abs(shown - z[0]) <= 0.3 + 1e-6)
    assert fig.layout.xaxis.range[1] - fig.layout.xaxis.range[0] == pytest.approx(0.6)


def test_square_axes_share_one_scale_over_their_ranges():
    axes = square_axes((-2, 2), (0, 1), titles=("x", "y"))
    assert axes["xaxis"]["range"] == [-2, 2] and axes["yaxis"]["range"] == [0, 1]
    assert (axes["xaxis"]["title"], axes["yaxis"]["title"]) == ("x", "y")
    assert axes["yaxis"]["scaleanchor"] == "x" and axes["xaxis"]["zeroline"] is True
    bare = square_axes((0, 1), (0, 1), zero_lines=False)
    assert "zeroline" not in bare["xaxis"] and "title" not in bare["yaxis"]


def test_live_scatter_shows_the_first_codes_and_is_not_for_clicking(codes):
    z, labels = codes
    fig = live_scatter_figure(z, labels, ["a", "b", "c"], max_points=100)
    assert sum(len(t.x) for t in fig.data) == 100 and [t.name for t in fig.data] == ["a", "b", "c"]
    assert fig.layout.dragmode is False and fig.layout.height == 360


def test_angle_groups_bin_directions_and_name_their_ranges():
    directions = np.radians([-179, -91, -1, 1, 89, 179])
    points = np.stack([np.cos(directions), np.sin(directions)], axis=1).astype(np.float32)
    groups = angle_groups(points)
    assert groups.labels.tolist() == [0, 2, 5, 6, 8, 11]  # 30° bins from -180°
    assert groups.names[0] == "-180°…-150°" and groups.names[6] == "0°…30°" and len(groups.names) == 12
    assert len(set(groups.colors)) == 12
    named = component_groups(np.array([1, 0]), ["moon 1", "moon 2"])
    assert named.names == ("moon 1", "moon 2") and named.colors[:2] == tuple(PALETTE[:2])


def test_history_figure_plots_train_and_test_curves():
    history = [{"epoch": e, "train_loss": 200 - e, "test_loss": 201 - e} for e in range(1, 6)]
    fig = history_figure(history)
    assert [t.name for t in fig.data] == ["train", "test"] and list(fig.data[1].y) == [200, 199, 198, 197, 196]
    assert [t.name for t in history_figure([{"epoch": 1, "train_loss": 3.0}]).data] == ["train"]


# --- the anomaly view ---

def test_score_scatter_colours_by_score_and_brings_out_points_above_the_threshold():
    rng = np.random.default_rng(0)
    z, s = rng.normal(size=(300, 2)).astype(np.float32), rng.gamma(5, 20, 300)
    fig = score_scatter_figure(z, s, "negative ELBO", threshold=150.0)
    points, hot = fig.data
    assert sorted(points.customdata.tolist()) == list(range(300))
    assert np.allclose(points.marker.color, s[points.customdata].round(2))
    assert list(points.marker.color) == sorted(points.marker.color)  # the least typical drawn last, on top
    assert np.allclose(points.x, z[points.customdata, 0], atol=1e-4)
    assert hot.name == ABOVE_TRACE and sorted(hot.customdata.tolist()) == above(s, 150.0).tolist()
    assert points.marker.cmin == hot.marker.cmin == pytest.approx(np.percentile(s, 1))
    assert points.marker.cmax == hot.marker.cmax == pytest.approx(np.percentile(s, 99))
    # the others faded; those above in their own colours, larger, outlined (not open rings, which merged)
    assert points.marker.opacity < 0.5 and hot.marker.size > points.marker.size and hot.marker.line.width > 0
    assert np.allclose(hot.marker.color, s[hot.customdata].round(2))
    assert not points.marker.showscale  # the histogram beside it is its colour scale
    assert len(score_scatter_figure(z, s, "x").data) == 1  # no threshold, nothing brought out


def test_score_histogram_splits_at_the_threshold_and_marks_a_value():
    s = np.random.default_rng(1).gamma(5, 20, 500)
    fig = score_histogram(s, "negative ELBO", threshold=150.0, value=900.0)
    below, over = fig.data
    assert sum(below.y) + sum(over.y) == 500 and sum(over.y) == (s > 150).sum()
    assert all(x + below.width >= 150 for x, n in zip(over.x, over.y) if n)  # no bar of them wholly below it
    lines = [shape.x0 for shape in fig.layout.shapes]
    assert 150.0 in lines and 900.0 in lines
    assert fig.layout.xaxis.range[1] > 900.0  # the mark is in view, however far out
    assert [a.text for a in fig.layout.annotations] == ["threshold", "your digit"]


def test_a_colored_histogram_is_the_score_scatters_colour_scale():
    s = np.random.default_rng(2).gamma(5, 20, 500)
    scatter, bars = score_scatter_figure(np.zeros((500, 2)), s, "x", threshold=150.0), score_histogram(
        s, "x", threshold=150.0, colored=True)
    for trace in bars.data:
        assert list(trace.marker.color) == list(trace.x)  # each bar coloured by its own score
        assert (trace.marker.colorscale, trace.marker.cmin, trace.marker.cmax) == (
            scatter.data[0].marker.colorscale, scatter.data[0].marker.cmin, scatter.data[0].marker.cmax)
    assert bars.data[0].marker.opacity < bars.data[1].marker.opacity  # faded below the threshold, as the points
    assert len(score_histogram(s, "x").data) == 1 and not score_histogram(s, "x").layout.shapes


def test_pick_ring_and_neighbour_crosses():
    fig = add_neighbours(add_pick(score_scatter_figure(np.zeros((3, 2)), np.ones(3), "x"), [1.0, 2.0],
                                  [0.1, 0.2], label="your digit"), np.array([[0.0, 1.0], [2.0, 3.0]]))
    ring = next(t for t in fig.data if t.name == "your digit")
    assert (ring.x[0], ring.y[0]) == (1.0, 2.0) and ring.marker.color == PICK_COLOR
    assert ring.type == "scatter"  # SVG by default (close-ups)
    crosses = fig.data[-1]
    assert list(crosses.x) == [0.0, 2.0] and list(crosses.y) == [1.0, 3.0]
    # On a WebGL scatter the marks are WebGL too, drawn after (over) the points.
    fig = add_pick(score_scatter_figure(np.zeros((3, 2)), np.ones(3), "x"), [1.0, 2.0], [0.1, 0.2], gl=True)
    assert [t.type for t in fig.data] == ["scattergl"] * 4 and fig.data[-1].name == "picked"


# --- the toy world's planes ---

def test_plane_figures_for_the_toy_world():
    data = make_toy("pinwheel", 100, 0.1, 0)
    fig = add_points(plane_figure(3.0), data.x, groups=data.component, names=[f"arm {i + 1}" for i in range(5)])
    assert [t.name for t in fig.data] == [f"arm {i + 1}" for i in range(5)]
    assert sum(len(t.x) for t in fig.data) == 100 and list(fig.layout.xaxis.range) == [-3, 3]
    fig = add_points(plane_figure(2.0, axes=("z₁", "z₂")), data.x, name="codes", color="#123456")
    assert fig.data[0].name == "codes" and fig.data[0].marker.color == "#123456"
    assert fig.layout.yaxis.title.text == "z₂"
