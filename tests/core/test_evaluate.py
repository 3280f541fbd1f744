import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from vae_core.data import Dataset
from vae_core.evaluation import evaluate, image_scores, iwae_nll, knn_accuracy, negative_elbo
from vae_core.model import VAEConfig, build_model, iwae_loss, reconstruction_nll, to_input
from vae_core.pipeline import evaluated_checkpoint
from vae_core.training import TrainConfig, train


@pytest.fixture(scope="module")
def trained(digits):
    model = build_model(VAEConfig(hidden=(64,)), seed=0)
    train(model, digits["train_x"], None, TrainConfig(epochs=3, batch_size=100, lr=3e-3, device="cpu"))
    return model


def test_negative_elbo_is_the_bernoulli_cross_entropy_plus_the_closed_form_kl(tiny_model, digits):
    """Recon and KL computed here from their definitions, on the same draws of z (one seeded
    ε ~ N(0, I) per image), not through the library's loss functions."""
    images = digits["test_x"][:50]
    x = torch.from_numpy(images).reshape(50, 784).double() / 255
    with torch.no_grad():
        mu, logvar = (v.double() for v in tiny_model.encode(x.float()))
        sigma = torch.exp(0.5 * logvar)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(3), dtype=torch.float32).double()
        logits = tiny_model.decode((mu + sigma * eps).float()).double()
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)  # summed over the 784 pixels
    kl = kl_divergence(Normal(mu, sigma), Normal(torch.zeros_like(mu), torch.ones_like(sigma))).sum(1)
    result = negative_elbo(tiny_model, images, seed=3)
    assert result["recon"] == pytest.approx(recon.mean().item(), rel=1e-5)
    assert result["kl"] == pytest.approx(kl.mean().item(), rel=1e-5)
    assert result["loss"] == pytest.approx((recon + kl).mean().item(), rel=1e-5)
    assert tiny_model.training  # the model's mode is left as it was


def test_negative_elbo_is_reproducible_by_seed_and_independent_of_batching(trained, digits):
    result = negative_elbo(trained, digits["test_x"], seed=0)
    assert negative_elbo(trained, digits["test_x"], seed=0) == result
    # each batch draws in turn from one generator: other batches, the same draws (summed in another order)
    by_64 = negative_elbo(trained, digits["test_x"], batch_size=64, seed=0)
    assert by_64 == pytest.approx(result, rel=1e-6)
    assert negative_elbo(trained, digits["test_x"], seed=1)["recon"] != result["recon"]
    assert trained.training is False


def test_iwae_bound_is_tighter_than_the_elbo_and_reproducible(trained, digits):
    x = digits["test_x"][:100]
    elbo = np.mean([negative_elbo(trained, x, seed=s)["loss"] for s in range(5)])
    nll_100 = iwae_nll(trained, x, k=100, seed=0)
    nll_5 = iwae_nll(trained, x, k=5, seed=0)
    assert nll_100 < nll_5 < elbo + 0.5  # more samples, tighter bound
    assert elbo - nll_100 < 15  # but a bound of the same quantity
    assert iwae_nll(trained, x, k=100, seed=0) == nll_100


def test_iwae_memory_bound_does_not_change_the_estimate(trained, digits):
    x = digits["test_x"][:60]
    small_chunks = iwae_nll(trained, x, k=50, max_rows=500, seed=0)  # 10 images per chunk
    odd_chunks = iwae_nll(trained, x, k=50, max_rows=350, seed=0)  # 7, 7, ..., 4
    one_chunk = iwae_nll(trained, x, k=50, max_rows=10_000, seed=0)
    # the same draws for every image, summed in another order
    assert small_chunks == pytest.approx(one_chunk, rel=1e-6) and odd_chunks == pytest.approx(one_chunk, rel=1e-6)


def test_iwae_with_one_sample_is_an_elbo_estimate(trained, digits):
    x = digits["test_x"][:200]
    k1 = iwae_nll(trained, x, k=1, seed=0)
    elbo = negative_elbo(trained, x, seed=0)["loss"]
    assert k1 == pytest.approx(elbo, rel=0.02)


def test_knn_accuracy_on_known_points():
    train_z = np.array([[0, 0], [0.1, 0], [0, 0.1], [5, 5], [5.1, 5], [5, 5.1]], np.float32)
    train_y = np.array([0, 0, 0, 1, 1, 1])
    test_z = np.array([[0.05, 0.05], [5.05, 5.0], [4.9, 5.0]], np.float32)
    assert knn_accuracy(train_z, train_y, test_z, np.array([0, 1, 1]), k=3) == 1.0
    assert knn_accuracy(train_z, train_y, test_z, np.array([1, 1, 0]), k=3) == pytest.approx(1 / 3)
    # a 2-2 tie goes to the class of the nearest neighbour
    tie_z = np.array([[0, 0], [3, 0], [0.5, 0], [3.2, 0]], np.float32)
    assert knn_accuracy(tie_z, np.array([0, 1, 0, 1]), np.array([[1.0, 0]], np.float32), np.array([0]), k=4) == 1.0


def test_image_scores_rank_an_odd_image_as_least_typical(trained, digits):
    images = digits["test_x"][:50].copy()
    rng = np.random.default_rng(0)
    images[17] = rng.integers(0, 256, (28, 28), dtype=np.uint8)  # noise, nothing like a digit
    scores = image_scores(trained, images)
    assert scores["neg_elbo"].shape == scores["recon_error"].shape == (50,)
    assert np.argmax(scores["neg_elbo"]) == 17 and np.argmax(scores["recon_error"]) == 17
    x = to_input(torch.from_numpy(images[:3]))
    with torch.no_grad():
        direct = reconstruction_nll(trained.decode(trained.encode(x)[0]), x).numpy()
    np.testing.assert_allclose(scores["recon_error"][:3], direct, rtol=1e-5)


def test_evaluate_reports_every_metric(trained, digits):
    metrics = evaluate(trained, digits["test_x"][:100], digits["test_y"][:100],
                       digits["train_x"], digits["train_y"], k=10)
    assert set(metrics) == {"neg_elbo", "recon", "kl", "iwae_nll", "iwae_k", "test_images", "knn_accuracy"}
    assert metrics["iwae_nll"] < metrics["neg_elbo"] + 1
    assert 0.2 < metrics["knn_accuracy"] <= 1.0  # ten classes: chance is 0.1
    assert all(math.isfinite(v) for v in metrics.values())
    assert "knn_accuracy" not in evaluate(trained, digits["test_x"][:50], k=2)


def test_evaluation_reports_its_stages_in_order(trained, digits):
    """The Train page shows these, so a long evaluation never looks stuck at "100 %, ETA 0 s"."""
    heard = []
    train_set = Dataset("mnist", "train", digits["train_x"][:300], digits["train_y"][:300], tuple("0123456789"))
    test_set = Dataset("mnist", "test", digits["test_x"][:100], digits["test_y"][:100], tuple("0123456789"))
    ckpt = evaluated_checkpoint(trained, train_set, test_set, iwae_k=3,
                                progress=lambda stage, f: heard.append((stage, f)))
    assert [stage for stage, _ in heard] == ["the negative ELBO", "−log p(x) with K = 3",
                                             "the k-NN accuracy of the codes",
                                             "the test set's codes and per-image scores"]
    fractions = [f for _, f in heard]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] < 1.0
    assert {"neg_elbo", "iwae_nll", "knn_accuracy"} <= set(ckpt.metrics)


def test_the_iwae_objective_is_the_bound_that_iwae_nll_estimates(trained, digits):
    x = to_input(torch.from_numpy(digits["test_x"][:100]))
    with torch.no_grad():
        one = np.mean([iwae_loss(trained, x, 1, torch.Generator().manual_seed(s)).loss.item() for s in range(20)])
        fifty = iwae_loss(trained, x, 50, torch.Generator().manual_seed(0))
    elbo = np.mean([negative_elbo(trained, digits["test_x"][:100], seed=s)["loss"] for s in range(20)])
    assert one == pytest.approx(elbo, rel=0.01)  # K = 1: the ELBO, its KL sampled instead of exact
    assert fifty.loss.item() == pytest.approx(iwae_nll(trained, digits["test_x"][:100], k=50, seed=3), abs=0.5)
    assert fifty.loss.item() < one - 0.5  # tighter
    # the logged parts are the ELBO's, at the same samples
    assert fifty.recon.item() + fifty.kl.item() == pytest.approx(elbo, rel=0.01)
