import numpy as np
import plotly.colors
import pytest

from ui.figures import (PALETTE, add_points, angle_groups, component_groups, history_figure, plane_figure,
                        score_color_range, score_histogram, square_axes)
from vae_core.images import ABOVE_COLOR, PICK_COLOR, SCORE_SCALE, latent_extent
from vae_core.toy import make_toy


def test_palette_is_ten_distinct_colours():
    assert len(set(PALETTE)) == 10


def test_latent_extent_covers_the_prior_and_the_points():
    assert latent_extent(np.zeros((10, 2))) == 3.0
    assert latent_extent(np.array([[5.0, 0], [-1, 1]])) == pytest.approx(5.5, abs=0.02)


def test_square_axes_share_one_scale_over_their_ranges():
    axes = square_axes((-2, 2), (0, 1), titles=("x", "y"))
    assert axes["xaxis"]["range"] == [-2, 2] and axes["yaxis"]["range"] == [0, 1]
    assert (axes["xaxis"]["title"], axes["yaxis"]["title"]) == ("x", "y")
    assert axes["yaxis"]["scaleanchor"] == "x" and axes["xaxis"]["zeroline"] is True
    bare = square_axes((0, 1), (0, 1), zero_lines=False)
    assert "zeroline" not in bare["xaxis"] and "title" not in bare["yaxis"]


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

def test_the_score_colour_range_leaves_out_the_extreme_percent():
    s = np.arange(1001, dtype=np.float64)
    assert score_color_range(s) == (10.0, 990.0)  # the 1st to 99th percentile
    assert score_color_range(np.full(5, 7.0)) == (7.0, pytest.approx(7.0 + 1e-6))  # never an empty span


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
    assert [shape.line.color for shape in fig.layout.shapes] == [ABOVE_COLOR, PICK_COLOR]


def test_a_colored_histogram_is_the_planes_colour_scale():
    s = np.random.default_rng(2).gamma(5, 20, 500)
    bars = score_histogram(s, "x", threshold=150.0, colored=True)
    for trace in bars.data:
        assert list(trace.marker.color) == list(trace.x)  # each bar coloured by its own score
        assert (trace.marker.colorscale, (trace.marker.cmin, trace.marker.cmax)) == (SCORE_SCALE, score_color_range(s))
    assert bars.data[0].marker.opacity < bars.data[1].marker.opacity  # faded below the threshold, as the points
    assert len(score_histogram(s, "x").data) == 1 and not score_histogram(s, "x").layout.shapes
    # the scores plane's scale (vae_core/web/colors.js) is Plotly's own Viridis, stop for stop
    assert SCORE_SCALE == tuple((float(stop), color) for stop, color in plotly.colors.PLOTLY_SCALES["Viridis"])


# --- the toy world's planes ---

def test_plane_figures_for_the_toy_world():
    data = make_toy("pinwheel", 100, 0.1, 0)
    fig = add_points(plane_figure(3.0), data.x, groups=data.component, names=[f"arm {i + 1}" for i in range(5)])
    assert [t.name for t in fig.data] == [f"arm {i + 1}" for i in range(5)]
    assert sum(len(t.x) for t in fig.data) == 100 and list(fig.layout.xaxis.range) == [-3, 3]
    fig = add_points(plane_figure(2.0, axes=("z₁", "z₂")), data.x, name="codes", color="#123456")
    assert fig.data[0].name == "codes" and fig.data[0].marker.color == "#123456"
    assert fig.layout.yaxis.title.text == "z₂"
