"""ui/scores.py and ui/state.py's latent_view: the stored latents and scores, else the test set's on disk."""

import numpy as np

import vae_core as vc
from helpers.data import MNIST_DIR, ROOT, needs_mnist
from ui import scores as ui_scores  # (its test_* functions are not tests)
from ui.state import ModelEntry, latent_view
from vae_core.typicality import score_images


@needs_mnist
def test_codes_of_a_slice_without_scores_are_scored_from_the_test_set_on_disk(monkeypatch):
    monkeypatch.setenv("VAE_DATA_DIR", str(MNIST_DIR))
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
    stored = ckpt.latents
    ckpt.latents = vc.Latents(stored.z_mean[:400], stored.z_logvar[:400], stored.labels[:400])  # an older kind
    entry = ModelEntry("session/slice-without-scores", "a slice", "uploaded", ckpt)
    view = latent_view(entry, entry.id)
    np.testing.assert_array_equal(view.z_mean, stored.z_mean[:400])  # the stored codes, not recomputed
    images = ui_scores.test_images(entry, view)
    test = vc.load_dataset("mnist", "test", root=MNIST_DIR, download=False)
    np.testing.assert_array_equal(images, test.images[:400])
    scores = ui_scores.test_scores(entry, view)
    expected = score_images(ckpt.model, test.images[:400])
    np.testing.assert_array_equal(scores["neg_elbo"], expected["neg_elbo"])
    np.testing.assert_array_equal(scores["recon_error"], expected["recon_error"])
    np.testing.assert_allclose(scores["neg_elbo"], stored.neg_elbo[:400], rtol=1e-5)  # what training stored
