"""The live latent plane's Python side: what a browser may send is checked, and the files it
fetches are served by hash."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load as np_load

from ui.latent_plane import decoder_asset, parse_endpoints, parse_pick, points_asset, scores_asset
from ui.latent_plane import assets
from vae_core.model import VAEConfig, build_model

Z_MEAN = np.array([[0.5, -1.0], [2.0, 3.0], [-0.25, 0.75]], np.float32)


def test_a_point_pick_takes_the_servers_own_code():
    assert parse_pick({"index": 1, "z": [9.0, 9.0]}, Z_MEAN) == {"index": 1, "z": [2.0, 3.0]}


def test_a_location_pick_is_kept_exactly():
    assert parse_pick({"index": None, "z": [3.5, -3.5]}, Z_MEAN) == {"index": None, "z": [3.5, -3.5]}


@pytest.mark.parametrize("value", [
    None, "pick", [1, 2], {"index": 3, "z": [0, 0]}, {"index": -1, "z": [0, 0]}, {"index": True, "z": [0, 0]},
    {"index": 1.5, "z": [0, 0]}, {"index": None, "z": [1.0]}, {"index": None, "z": ["1", "2"]},
    {"index": None, "z": [float("nan"), 0.0]}, {"index": None, "z": [1e9, 0.0]}, {"index": None},
], ids=["none", "string", "list", "index-too-large", "negative", "bool", "float-index", "one-coordinate",
        "strings", "nan", "far-away", "no-z"])
def test_anything_else_a_browser_sends_is_ignored(value):
    assert parse_pick(value, Z_MEAN) is None


def test_endpoints_arrive_together_with_the_next_one_to_place():
    ends, next_end = parse_endpoints({"a": {"index": 0, "z": [0, 0]}, "b": {"index": None, "z": [1.0, 2.0]},
                                      "next": "b"}, Z_MEAN)
    assert ends == {"a": {"index": 0, "z": [0.5, -1.0]}, "b": {"index": None, "z": [1.0, 2.0]}} and next_end == "b"
    assert parse_endpoints({"a": {"index": 0, "z": [0, 0]}, "next": "a"}, Z_MEAN) is None
    assert parse_endpoints({"a": {"index": 0}, "b": {"index": 2}, "next": "c"}, Z_MEAN)[1] == "a"


def test_points_travel_as_float32_codes_uint8_labels_and_sigma():
    tensors = np_load(points_asset(Z_MEAN, np.array([0, 9, 3]), np.zeros((3, 2), np.float32)))
    assert tensors["z"].dtype == np.float32 and np.array_equal(tensors["z"], Z_MEAN)
    assert tensors["labels"].tolist() == [0, 9, 3] and tensors["labels"].dtype == np.uint8
    assert np.array_equal(tensors["sigma"], np.ones((3, 2), np.float32))
    assert points_asset(Z_MEAN, [0, 1, 2]) == points_asset(Z_MEAN, [0, 1, 2])  # same codes, same file


def test_scores_travel_as_float32_one_per_point():
    scores = np.array([150.25, 98.5, 301.0])
    tensors = np_load(scores_asset(scores))
    assert list(tensors) == ["scores"] and tensors["scores"].dtype == np.float32
    assert tensors["scores"].tolist() == [150.25, 98.5, 301.0]
    assert scores_asset(scores) == scores_asset(scores.astype(np.float32))  # same scores, same file


def test_a_decoder_too_large_for_browsers_falls_back_to_the_server(monkeypatch):
    model = build_model(VAEConfig(hidden=(64,)), seed=0)
    data, why = decoder_asset(model)
    assert data is not None and why is None
    monkeypatch.setenv("VAE_BROWSER_DECODER_MB", "0.01")
    data, why = decoder_asset(model)
    assert data is None
    assert why.startswith("This model's decoder runs on the server (the decoder has 0.2 MB of weights")
    assert why.endswith("click the plane to decode a spot.")


def test_served_files_are_named_by_their_hash_and_pruned(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_ASSET_DIR", str(tmp_path))
    monkeypatch.setattr(assets, "MAX_FILES", 3)
    first = assets.publish(b"one")
    assert first == assets.publish(b"one") and first.startswith("/_stcore/bidi-components/vae_explorer.latent_plane_data/")
    name = first.rsplit("/", 1)[1]
    assert (tmp_path / name).read_bytes() == b"one"
    for k in range(5):
        assets.publish(f"file {k}".encode())
    assert len([p for p in tmp_path.iterdir()]) == 3 and not (tmp_path / name).exists()
    assert assets.publish(b"one") == first and (tmp_path / name).read_bytes() == b"one"  # written again
