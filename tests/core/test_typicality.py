"""Typicality: per-image scores, percentiles, rankings and thresholds; encoding a user's image;
the scores a checkpoint carries; and the figures of the anomaly view."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw

import vae_core as vc
from helpers.data import ROOT
from vae_core.checkpoint import Checkpoint, Latents, checkpoint_bytes, load_checkpoint
from vae_core.data import Dataset
from vae_core.errors import CheckpointError, ImageError
from vae_core.evaluation import image_scores
from vae_core.model import VAEConfig, build_model
from vae_core.pipeline import evaluated_checkpoint
from vae_core.training import TrainConfig, train
from vae_core.typicality import (SCORE_KINDS, above, default_threshold, least_typical, percentile, rank,
                                 score_images, verdict)

CLASSES = tuple(str(i) for i in range(10))


@pytest.fixture(scope="module")
def trained(digits):
    """A tiny VAE trained for a few epochs: enough to tell digits from noise."""
    model = build_model(VAEConfig(hidden=(64,)), seed=0)
    train(model, digits["train_x"], None, TrainConfig(epochs=4, batch_size=100, lr=3e-3, seed=0))
    return model.eval()


def seven_png(size=(200, 200), ink=0, paper=255, mode="L") -> bytes:
    image = Image.new(mode, size, paper)
    w, h = size
    ImageDraw.Draw(image).line([(0.3 * w, 0.2 * h), (0.7 * w, 0.2 * h), (0.4 * w, 0.85 * h)], fill=ink,
                               width=max(2, w // 12))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- scores ---------------------------------------------------------------------------------------

def test_score_images_are_reproducible_float32_and_match_image_scores(tiny_model, digits):
    x = digits["test_x"][:50]
    scores = score_images(tiny_model, x)
    assert set(scores) == set(SCORE_KINDS)
    for name, values in scores.items():
        assert values.dtype == np.float32 and values.shape == (50,) and np.isfinite(values).all()
        assert (values > 0).all()  # nats of a Bernoulli likelihood
    again = score_images(tiny_model, x)
    assert all(np.array_equal(scores[k], again[k]) for k in SCORE_KINDS)
    reference = image_scores(tiny_model, x, seed=0)
    assert np.allclose(scores["neg_elbo"], reference["neg_elbo"]) and np.allclose(
        scores["recon_error"], reference["recon_error"])
    other_seed = score_images(tiny_model, x, seed=1)
    assert not np.array_equal(other_seed["neg_elbo"], scores["neg_elbo"])  # sampled
    assert np.array_equal(other_seed["recon_error"], scores["recon_error"])  # decoded at mu: no noise
    single = score_images(tiny_model, x[3])  # one image [28, 28]
    assert single["neg_elbo"].shape == (1,)
    assert np.isclose(single["recon_error"][0], scores["recon_error"][3], rtol=1e-5)


def test_noise_scores_far_worse_than_digits(trained, digits):
    noise = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    images = np.concatenate([digits["test_x"][:200], noise])
    scores = score_images(trained, images)
    for kind in SCORE_KINDS:
        assert set(least_typical(scores[kind], 20)) == set(range(200, 220))  # the 20 noise images rank first
        assert percentile(scores[kind][:200], scores[kind][200]) == 100.0


# --- percentile, ranking, thresholds --------------------------------------------------------------

def test_percentile():
    ref = np.arange(1, 101, dtype=np.float32)  # 1 .. 100
    assert percentile(ref, 0.5) == 0.0 and percentile(ref, 1000) == 100.0
    assert percentile(ref, 50.5) == 50.0
    assert percentile(ref, 50) == 49.5  # a tie counts half
    assert percentile([3.0, 3.0, 3.0, 3.0], 3.0) == 50.0
    with pytest.raises(ValueError, match="at least one"):
        percentile([], 1.0)


@pytest.mark.parametrize("pct, words", [(99.5, "very unusual"), (95, "unusual: in the least typical tenth"),
                                        (50, "typical: like most"), (3, "very typical")])
def test_verdict(pct, words):
    assert verdict(pct).startswith(words)


def test_least_typical_orders_highest_first_with_stable_ties():
    scores = np.array([5.0, 9.0, 1.0, 9.0, 7.0])
    assert least_typical(scores, 3).tolist() == [1, 3, 4]
    assert least_typical(scores, 10).tolist() == [1, 3, 4, 0, 2]  # k beyond N: all of them
    assert least_typical(scores, 0).tolist() == []


def test_rank_counts_from_the_least_typical():
    scores = np.array([5.0, 9.0, 1.0, 9.0, 7.0])
    assert [rank(scores, i) for i in range(5)] == [4, 1, 5, 1, 3]  # a tie shares the better rank


def test_thresholds():
    scores = np.arange(100, dtype=np.float64)
    t = default_threshold(scores)  # the 99th percentile
    assert t == pytest.approx(98.01)
    assert above(scores, t).tolist() == [99]
    assert above(scores, 94.5).tolist() == [95, 96, 97, 98, 99]
    assert above(scores, 99).size == 0  # strictly above
    assert default_threshold(scores, 0.5) == pytest.approx(49.5)
    with pytest.raises(ValueError):
        default_threshold(scores, 1.5)


# --- encode_image ---------------------------------------------------------------------------------

def test_encode_image_matches_the_pieces(tiny_model, digits):
    z_mean, _ = vc.encode(tiny_model, digits["test_x"])
    reference = score_images(tiny_model, digits["test_x"])
    data = seven_png()
    result = vc.encode_image(tiny_model, data, z_mean, reference)
    prepared = vc.prepare_image(data)
    assert np.array_equal(result.image, prepared)
    mu, logvar = vc.encode(tiny_model, prepared)
    assert np.allclose(result.mu, mu[0]) and np.allclose(result.logvar, logvar[0])
    assert np.allclose(result.sigma, np.exp(0.5 * logvar[0]))
    assert np.array_equal(result.reconstruction, vc.decode(tiny_model, mu)[0])
    assert result.reconstruction.shape == (28, 28) and result.reconstruction.dtype == np.uint8
    assert result.nearest.tolist() == vc.nearest(z_mean, mu[0], 5).tolist()
    own = score_images(tiny_model, prepared)
    assert result.scores == {k: float(own[k][0]) for k in SCORE_KINDS}
    assert result.percentiles == {k: percentile(reference[k], result.scores[k]) for k in SCORE_KINDS}


def test_encode_image_without_reference_or_latents(tiny_model):
    result = vc.encode_image(tiny_model, seven_png())
    assert result.nearest is None and result.percentiles is None
    assert set(result.scores) == set(SCORE_KINDS)
    # the same image as an array, a PIL image or bytes is the same digit
    as_array = vc.encode_image(tiny_model, np.asarray(Image.open(io.BytesIO(seven_png()))))
    assert np.allclose(as_array.mu, result.mu)


def test_a_digit_is_more_typical_than_a_scribble(trained, digits):
    z_mean, _ = vc.encode(trained, digits["test_x"])
    reference = score_images(trained, digits["test_x"])
    digit = digits["test_x"][7]
    scribble = Image.new("L", (200, 200), 255)
    rng = np.random.default_rng(3)
    ImageDraw.Draw(scribble).line([tuple(p) for p in rng.integers(0, 200, (40, 2))], fill=0, width=6)
    ok = vc.encode_image(trained, digit, z_mean, reference)
    odd = vc.encode_image(trained, scribble, z_mean, reference)
    assert odd.percentiles["neg_elbo"] > 90 > ok.percentiles["neg_elbo"]
    assert 7 in ok.nearest  # a test image lands next to itself


def test_encode_image_refuses_what_is_not_a_digit(tiny_model):
    with pytest.raises(ImageError, match="not an image"):
        vc.encode_image(tiny_model, b"not a picture at all")
    with pytest.raises(ImageError, match="no digit found"):
        vc.encode_image(tiny_model, Image.new("L", (50, 50), 255))


# --- scores in checkpoints ------------------------------------------------------------------------

def checkpoint(n=8, scores=True, seed=0) -> Checkpoint:
    rng = np.random.default_rng(seed)
    lat = Latents(rng.normal(size=(n, 2)).astype(np.float32), rng.normal(-2, 0.3, (n, 2)).astype(np.float32),
                  rng.integers(0, 10, n).astype(np.int64),
                  rng.gamma(20, 7, n).astype(np.float32) if scores else None,
                  rng.gamma(18, 7, n).astype(np.float32) if scores else None)
    return Checkpoint.from_model(build_model(VAEConfig(hidden=(4,)), seed=0), dataset="mnist", classes=CLASSES,
                      latents=lat)


def test_scores_round_trip_and_old_files_load_without_them():
    ckpt = checkpoint()
    back = load_checkpoint(checkpoint_bytes(ckpt)).latents
    assert np.array_equal(back.neg_elbo, ckpt.latents.neg_elbo) and back.neg_elbo.dtype == np.float32
    assert np.array_equal(back.recon_error, ckpt.latents.recon_error)
    old = load_checkpoint(checkpoint_bytes(checkpoint(scores=False))).latents
    assert old.neg_elbo is None and old.recon_error is None and len(old.labels) == 8


def test_the_shipped_pretrained_files_still_load():
    for path in ("pretrained/mnist.safetensors", "pretrained/fashion-mnist.safetensors"):
        latents = load_checkpoint(ROOT / path).latents
        assert latents is not None and len(latents.labels) == 10_000


@pytest.mark.parametrize("break_it, message", [
    (lambda lat: setattr(lat, "recon_error", None), "need neg_elbo and recon_error together"),
    (lambda lat: setattr(lat, "neg_elbo", lat.neg_elbo[:5]), "each float32 [8]"),
    (lambda lat: setattr(lat, "neg_elbo", np.zeros((8, 2), np.float32)), "each float32 [8]"),
    (lambda lat: setattr(lat, "recon_error", np.where(np.arange(8) == 3, np.nan, 1.0).astype(np.float32)),
     "NaN or infinite"),
    (lambda lat: setattr(lat, "neg_elbo", np.full(8, np.inf, np.float32)), "NaN or infinite"),
])
def test_broken_scores_are_refused(break_it, message):
    ckpt = checkpoint()
    break_it(ckpt.latents)
    with pytest.raises(CheckpointError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_checkpoint(checkpoint_bytes(ckpt))


def test_scores_of_another_dtype_are_refused():
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    data = checkpoint_bytes(checkpoint())
    tensors = st_load(data)
    tensors["latents.neg_elbo"] = tensors["latents.neg_elbo"].double()
    (n,) = struct.unpack("<Q", data[:8])
    meta = json.loads(data[8:8 + n])["__metadata__"]
    with pytest.raises(CheckpointError, match="float32"):
        load_checkpoint(st_save(tensors, meta))
    del tensors["latents.z_mean"], tensors["latents.z_logvar"], tensors["latents.labels"]
    tensors["latents.neg_elbo"] = tensors["latents.neg_elbo"].float()
    with pytest.raises(CheckpointError, match="z_mean, z_logvar and labels together"):
        load_checkpoint(st_save(tensors, meta))


def test_evaluated_checkpoint_stores_the_test_scores(tiny_model, digits):
    test = Dataset("mnist", "test", digits["test_x"][:60], digits["test_y"][:60], CLASSES)
    train_set = Dataset("mnist", "train", digits["train_x"][:60], digits["train_y"][:60], CLASSES)
    ckpt = evaluated_checkpoint(tiny_model, train_set, test, iwae_k=0)
    expected = score_images(tiny_model, test.images)
    assert np.array_equal(ckpt.latents.neg_elbo, expected["neg_elbo"])
    assert np.array_equal(ckpt.latents.recon_error, expected["recon_error"])
    back = load_checkpoint(checkpoint_bytes(ckpt)).latents
    assert np.array_equal(back.neg_elbo, expected["neg_elbo"])


def test_a_header_length_starting_like_a_pickle_still_loads():
    """A safetensors header length whose first byte is 0x80 (a pickle's first byte) is no pickle."""
    ckpt = checkpoint()
    for pad in range(256):
        ckpt.metrics = {"note": "x" * pad}
        data = checkpoint_bytes(ckpt)
        if data[0] == 0x80:
            break
    assert data[0] == 0x80
    assert load_checkpoint(data).metrics["note"] == "x" * pad
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(b"\x80\x04\x95" + bytes(100))  # a real pickle's start is still named as one
