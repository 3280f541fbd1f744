"""The share-link format (ui/link_format.py): views to query parameters and back, never raising."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from ui.link_format import format_point, parse_point, parse_view, view_params

Z = np.array([[0.5, -1.25], [2.0, 3.0], [-0.125, 0.0]], np.float32)


def test_a_view_round_trips_through_its_parameters():
    pick = {"index": 1, "z": [2.0, 3.0]}
    ends = {"a": {"index": None, "z": [0.25, -1.5]}, "b": {"index": 2, "z": [-0.125, 0.0]}}
    params = view_params("fashion-mnist", pick, ends)
    assert params == {"model": "fashion-mnist", "pick": "1", "a": "0.250,-1.500", "b": "2"}
    view = parse_view(params, ["mnist", "fashion-mnist"], {"fashion-mnist": Z})
    assert view.model == "fashion-mnist" and view.problems == []
    assert view.pick == pick and view.endpoints == ends


def test_only_what_is_set_appears():
    assert view_params(None) == {}
    assert view_params("mnist", None, {"a": None}) == {"model": "mnist"}
    assert format_point({"index": None, "z": [1 / 3, -2.0]}) == "0.333,-2.000"


def test_points_are_read_against_the_first_model_when_none_is_linked():
    view = parse_view({"pick": "0"}, ["mnist"], {"mnist": Z})
    assert view.model is None and view.pick == {"index": 0, "z": [0.5, -1.25]}


@pytest.mark.parametrize("params, fragment", [
    ({"model": "../../etc/passwd"}, "is not one of this app's models"),
    ({"model": "other"}, "is not one of this app's models"),
    ({"pick": "3"}, "pick='3' is neither"),  # beyond the 3 test codes
    ({"pick": "-1"}, "neither"),
    ({"a": "1,2,3"}, "a='1,2,3'"),
    ({"b": "nan,0"}, "b='nan,0'"),
    ({"pick": "1e9,0"}, "neither"),
    ({"pick": "x" * 500}, "neither"),
    ({"pick": "99999999999999999999"}, "neither"),
])
def test_malformed_parameters_are_left_out_and_named(params, fragment):
    view = parse_view(params, ["mnist"], {"mnist": Z})
    assert view.model is None and view.pick is None and view.endpoints == {}
    assert len(view.problems) == 1 and fragment in view.problems[0]
    assert len(view.problems[0]) < 120  # a long hostile value is cut short in the message


@given(st.text(max_size=80))
def test_any_text_parses_to_a_valid_point_or_none(text):
    point = parse_point(text, Z)
    if point is not None:
        assert len(point["z"]) == 2 and all(np.isfinite(point["z"]))
        assert point["index"] is None or 0 <= point["index"] < len(Z)
