"""vae_core.latents: a checkpoint's stored test-set latents and scores, else computed from the test set."""

import numpy as np
import pytest

from vae_core.checkpoint import Checkpoint, Latents
from vae_core.config import VAEConfig
from vae_core.data import Dataset
from vae_core.inference import encode
from vae_core.latents import checkpoint_latents, compute_latents, images_behind, score_arrays
from vae_core.model import build_model
from vae_core.typicality import score_images

CLASSES = tuple(str(d) for d in range(10))


@pytest.fixture
def test_split(digits) -> Dataset:
    return Dataset("mnist", "test", digits["test_x"][:120], digits["test_y"][:120], CLASSES)


def checkpoint(model, latents: Latents | None = None) -> Checkpoint:
    return Checkpoint.from_model(model.eval(), dataset="mnist", classes=CLASSES, latents=latents)


def no_test_set():
    raise AssertionError("the test set was loaded although the checkpoint's latents suffice")


def test_stored_latents_with_scores_come_back_as_stored_without_reading_the_test_set(tiny_model):
    stored = Latents(np.zeros((3, 2), np.float32), np.ones((3, 2), np.float32), np.array([4, 1, 7]),
                     np.array([90.0, 80.0, 70.0], np.float32), np.array([60.0, 50.0, 40.0], np.float32))
    assert checkpoint_latents(checkpoint(tiny_model, stored), no_test_set) is stored
    unscored = Latents(stored.z_mean, stored.z_logvar, stored.labels)
    assert checkpoint_latents(checkpoint(tiny_model, unscored), no_test_set, scores=False) is unscored


def test_without_stored_latents_they_are_computed_from_the_test_set(tiny_model, test_split):
    latents = checkpoint_latents(checkpoint(tiny_model), test_split)
    z_mean, z_logvar = encode(tiny_model, test_split.images)
    scores = score_images(tiny_model, test_split.images)
    np.testing.assert_array_equal(latents.z_mean, z_mean)
    np.testing.assert_array_equal(latents.z_logvar, z_logvar)
    np.testing.assert_array_equal(latents.labels, test_split.labels)
    np.testing.assert_array_equal(latents.neg_elbo, scores["neg_elbo"])
    np.testing.assert_array_equal(latents.recon_error, scores["recon_error"])
    assert latents.z_mean.shape == (120, 2) and latents.neg_elbo.shape == (120,)
    codes_only = checkpoint_latents(checkpoint(tiny_model), lambda: test_split, scores=False)
    np.testing.assert_array_equal(codes_only.z_mean, z_mean)
    assert codes_only.neg_elbo is None and score_arrays(codes_only) is None


def test_without_stored_latents_or_a_test_set_there_are_none(tiny_model):
    assert checkpoint_latents(checkpoint(tiny_model), None) is None
    assert checkpoint_latents(checkpoint(tiny_model), lambda: None) is None
    empty = Latents(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32), np.zeros(0, np.int64))
    assert checkpoint_latents(checkpoint(tiny_model, empty), None) is None  # empty latents count as none


def test_stored_codes_of_a_slice_get_the_scores_of_the_images_behind_them(tiny_model, test_split):
    z_mean, z_logvar = encode(tiny_model, test_split.images[:50])
    stored = Latents(z_mean + 1.0, z_logvar, test_split.labels[:50])  # stored codes are kept as they are
    latents = checkpoint_latents(checkpoint(tiny_model, stored), test_split)
    np.testing.assert_array_equal(latents.z_mean, z_mean + 1.0)
    np.testing.assert_array_equal(score_arrays(latents)["neg_elbo"],
                                  score_images(tiny_model, test_split.images[:50])["neg_elbo"])
    assert stored.neg_elbo is None  # the checkpoint's own latents are not changed


def test_stored_codes_of_other_images_come_back_unscored(tiny_model, test_split):
    z_mean, z_logvar = encode(tiny_model, test_split.images[:50])
    other_labels = (test_split.labels[:50] + 1) % 10
    stored = Latents(z_mean, z_logvar, other_labels)
    assert checkpoint_latents(checkpoint(tiny_model, stored), test_split) is stored
    assert images_behind(other_labels, test_split) is None
    more_codes = np.concatenate([test_split.labels, test_split.labels[:1]])
    assert images_behind(more_codes, test_split) is None  # more codes than test images
    assert images_behind(test_split.labels[:50], None) is None
    np.testing.assert_array_equal(images_behind(test_split.labels[:50], test_split), test_split.images[:50])


def test_a_conditional_model_is_given_each_test_image_s_label(test_split):
    model = build_model(VAEConfig(hidden=(32,), num_classes=10), seed=0).eval()
    latents = compute_latents(model, test_split)
    np.testing.assert_array_equal(latents.z_mean, encode(model, test_split.images, labels=test_split.labels)[0])
    np.testing.assert_array_equal(latents.neg_elbo,
                                  score_images(model, test_split.images, labels=test_split.labels)["neg_elbo"])
    unconditioned = encode(model, test_split.images, labels=np.zeros(len(test_split), np.int64))[0]
    assert not np.allclose(latents.z_mean, unconditioned)
