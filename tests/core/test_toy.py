"""The toy world: 2-D datasets generated in code, the small Gaussian VAE, its training loop,
generation, the whole fit the Toy world page runs, and the plane figures it draws."""

import numpy as np
import pytest
import torch

from vae_core.compare import nearest_distances
from vae_core.errors import ConfigError
from vae_core.toy import (NEAR_NOISE, TOY_DATASETS, build_toy_model, component_names, fit_toy, make_toy, mean_nn_distance,
                          toy_encode, toy_generate, toy_loss, train_toy)


@pytest.fixture(scope="module")
def trained():
    """A VAE per dataset, trained briefly (600 steps: about a second each on an idle core),
    with its full-data loss before and after, and what the untrained model generates."""
    out = {}
    for name in TOY_DATASETS:
        data = make_toy(name, 1000, 0.1, seed=0)
        model = build_toy_model(seed=0)
        before = full_loss(model, data.x)
        untrained = toy_generate(model, 1000, seed=1, noise=True)
        result = train_toy(model, data.x, steps=600, seed=0)
        out[name] = dict(data=data, model=model, result=result, before=before, after=full_loss(model, data.x),
                         untrained=untrained)
    return out


def full_loss(model, x) -> float:
    with torch.no_grad():
        return toy_loss(model, torch.as_tensor(x), 1.0, torch.Generator().manual_seed(0))[0].item()


def share_near(points, data, radius: float = 0.2) -> float:
    """Share of ``points`` within ``radius`` of some data point (the data span about 4 units)."""
    return float((nearest_distances(points, data) < radius).mean())


# --- the datasets ---

@pytest.mark.parametrize("name,components", [("moons", 2), ("ring", 8), ("pinwheel", 5)])
def test_datasets_have_the_promised_shape_and_components(name, components):
    data = make_toy(name, 3000, 0.1, seed=0)
    assert data.x.shape == (3000, 2) and data.x.dtype == np.float32
    assert data.components == components and set(np.unique(data.component)) == set(range(components))
    assert np.all(np.abs(data.x.mean(0)) < 0.5) and 0.5 < data.x.std() < 2.5  # centred, about unit spread


@pytest.mark.parametrize("name", list(TOY_DATASETS))
def test_datasets_are_reproducible_from_their_seed(name):
    a, b, c = make_toy(name, 200, 0.1, 5), make_toy(name, 200, 0.1, 5), make_toy(name, 200, 0.1, 6)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_without_noise_the_moons_lie_on_their_arcs_and_the_ring_on_eight_points():
    moons = make_toy("moons", 500, 0.0, seed=1)
    x = moons.x / 1.2 + [0.5, 0.25]  # undo the centring and scaling
    upper = np.hypot(x[:, 0], x[:, 1])
    lower = np.hypot(x[:, 0] - 1, x[:, 1] - 0.5)
    np.testing.assert_allclose(np.where(moons.component == 0, upper, lower), 1.0, atol=1e-5)
    ring = make_toy("ring", 400, 0.0, seed=1)
    angles = 2 * np.pi * ring.component / 8
    np.testing.assert_allclose(ring.x, 2 * np.stack([np.cos(angles), np.sin(angles)], 1), atol=1e-5)


def test_noise_widens_the_clusters():
    def radius_spread(noise: float) -> float:
        x = make_toy("ring", 2000, noise, 0).x
        return float(np.hypot(x[:, 0], x[:, 1]).std())

    assert radius_spread(0.3) > 3 * radius_spread(0.05)


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="spiral"), "unknown toy dataset"), (dict(name="moons", n=1), "number of points"),
    (dict(name="moons", n=10**7), "number of points"), (dict(name="moons", n=2.5), "whole number"),
    (dict(name="moons", noise=-0.1), "noise"), (dict(name="moons", noise=float("nan")), "noise"),
])
def test_bad_dataset_settings_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        make_toy(**kwargs)


# --- the model ---

def test_model_shapes_and_a_finite_loss():
    model = build_toy_model(seed=0)
    x = torch.as_tensor(make_toy("moons", 64, 0.1, 0).x)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (64, 2) and model.decode(mu).shape == (64, 2)
    loss, recon, kl = toy_loss(model, x, beta=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(loss) and kl >= 0 and loss.item() == pytest.approx((recon + kl).item())
    assert toy_loss(model, x, 0.0, torch.Generator().manual_seed(0))[0].item() == pytest.approx(recon.item())
    layers = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in layers] == [(2, 64), (64, 64), (64, 4)]


def test_models_are_reproducible_from_their_seed():
    a, b, c = build_toy_model(3), build_toy_model(3), build_toy_model(4)
    assert torch.equal(a.decoder[0].weight, b.decoder[0].weight)
    assert not torch.equal(a.decoder[0].weight, c.decoder[0].weight)


# --- training and generation ---

@pytest.mark.parametrize("name", list(TOY_DATASETS))
def test_training_reduces_the_loss(trained, name):
    t = trained[name]
    assert t["result"].status == "done" and t["result"].history[-1]["step"] == 600
    assert t["after"] < t["before"] - 0.4  # nats per point, on all the data
    assert t["result"].history[-1]["kl"] > 0.5  # the codes carry information: no posterior collapse


@pytest.mark.parametrize("name", list(TOY_DATASETS))
def test_generated_points_land_near_the_data_and_cover_it(trained, name):
    t = trained[name]
    data = t["data"].x
    generated = toy_generate(t["model"], 1000, seed=1, noise=True)
    assert generated.shape == (1000, 2) and np.isfinite(generated).all()
    # precision: most new points fall where data lives (the ring's others form thin bridges)
    assert share_near(generated, data) > 0.6 and mean_nn_distance(generated, data) < 0.2
    # recall: every part of the data has new points nearby
    assert mean_nn_distance(data, generated) < 0.075
    # and both far better than the untrained model's output
    assert share_near(generated, data) > share_near(t["untrained"], data)
    assert mean_nn_distance(data, generated) < mean_nn_distance(data, t["untrained"])


def test_codes_follow_the_prior(trained):
    data, model = trained["ring"]["data"], trained["ring"]["model"]
    mu, _ = toy_encode(model, data.x)
    assert mu.shape == (1000, 2) and np.all(np.abs(mu.mean(0)) < 0.5) and np.all(mu.std(0) < 1.5)
    # each Gaussian of the ring gets its own region of the latent plane
    centres = np.stack([mu[data.component == k].mean(0) for k in range(8)])
    spread = np.mean([mu[data.component == k].std(0).mean() for k in range(8)])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[~np.eye(8, dtype=bool)]
    assert np.median(gaps) > 2 * spread


def test_training_is_deterministic_stoppable_and_leaves_the_thread_count_alone():
    x = make_toy("moons", 300, 0.1, 0).x
    threads = torch.get_num_threads()
    a, b = build_toy_model(1), build_toy_model(1)
    train_toy(a, x, steps=60, seed=2, report_every=20)
    train_toy(b, x, steps=60, seed=2, report_every=20)
    assert torch.equal(a.decoder[-1].weight, b.decoder[-1].weight) and torch.get_num_threads() == threads
    seen = []
    result = train_toy(build_toy_model(1), x, steps=200, report_every=10,
                       callback=lambda step, total, loss: seen.append((step, total)) or step >= 30)
    assert result.status == "stopped" and seen == [(10, 200), (20, 200), (30, 200)]
    with pytest.raises(ConfigError):
        train_toy(build_toy_model(1), x, steps=0)


def test_mean_nn_distance():
    a = np.array([[0, 0], [3, 0]], np.float32)
    b = np.array([[0, 1], [3, 2], [10, 10]], np.float32)
    assert mean_nn_distance(a, b) == pytest.approx(1.5)  # (1 + 2) / 2
    assert mean_nn_distance(b, a) == pytest.approx((1 + 2 + np.hypot(7, 10)) / 3)  # not symmetric


def test_component_names():
    assert component_names("moons", 2) == ["moon 1", "moon 2"]
    assert component_names("pinwheel", 5)[-1] == "arm 5"


# --- the whole fit ---

def test_fit_toy_holds_the_data_its_codes_and_new_points():
    fit = fit_toy("ring", n=300, noise=0.1, seed=2, steps=100, beta=0.5)
    np.testing.assert_array_equal(fit.data.x, make_toy("ring", 300, 0.1, 2).x)
    assert fit.latents.shape == fit.samples.shape == fit.means.shape == (300, 2)
    assert all(a.dtype == np.float32 and np.isfinite(a).all() for a in (fit.latents, fit.samples, fit.means))
    assert fit.training.status == "done" and fit.training.history[-1]["step"] == 100
    assert fit.loss == fit.training.history[-1]["loss"]
    # the codes are the encoder's means of the data; the samples are the means plus the learned noise
    np.testing.assert_array_equal(fit.latents, toy_encode(fit.model, fit.data.x)[0])
    np.testing.assert_array_equal(fit.means, toy_generate(fit.model, 300, seed=3, noise=False))
    assert not np.allclose(fit.samples, fit.means)
    assert fit.generated_distance == pytest.approx(mean_nn_distance(fit.samples, fit.data.x))
    fresh = make_toy("ring", 300, 0.1, 3).x  # another sample of the same data: the yardstick
    assert fit.data_distance == pytest.approx(mean_nn_distance(fresh, fit.data.x))
    assert 0 < fit.data_distance < 0.2
    near = nearest_distances(fit.samples, fit.data.x) <= NEAR_NOISE * 0.1  # within 3 noise sigmas
    assert fit.near_share == pytest.approx(near.mean()) and 0 < fit.near_share < 1


def test_fit_toy_is_determined_by_its_seed_and_reports_progress():
    seen = []
    a = fit_toy("moons", n=200, seed=4, steps=100, callback=lambda step, total, loss: seen.append((step, total)))
    b = fit_toy("moons", n=200, seed=4, steps=100)
    c = fit_toy("moons", n=200, seed=5, steps=100)
    assert seen == [(50, 100), (100, 100)]
    for field in ("latents", "samples", "means"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert not np.array_equal(getattr(a, field), getattr(c, field))
    assert a.training.history == b.training.history and a.generated_distance == b.generated_distance
    with pytest.raises(ConfigError):
        fit_toy("spiral")
