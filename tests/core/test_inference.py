from statistics import NormalDist

import numpy as np
import pytest
import torch

from vae_core.inference import (decode, decode_grid, encode, fit_class_gaussians, grid_points, interpolate, interpolate_at, nearest,
                                sample_class, sample_posterior, sample_prior)
from vae_core.model import to_input


def test_encode_returns_numpy_codes_that_match_the_model(tiny_model, digits):
    mu, logvar = encode(tiny_model, digits["test_x"][:10])
    assert mu.shape == logvar.shape == (10, 2) and mu.dtype == np.float32
    with torch.no_grad():
        ref_mu, ref_logvar = tiny_model.encode(to_input(torch.from_numpy(digits["test_x"][:10])))
    np.testing.assert_allclose(mu, ref_mu.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logvar, ref_logvar.numpy(), rtol=1e-5, atol=1e-6)
    single, _ = encode(tiny_model, digits["test_x"][3])  # one image [28, 28]
    np.testing.assert_allclose(single[0], mu[3], rtol=1e-5, atol=1e-6)
    batched, _ = encode(tiny_model, digits["test_x"][:10], batch_size=3)
    np.testing.assert_allclose(batched, mu, rtol=1e-5, atol=1e-6)


def test_decode_gives_uint8_images_of_the_bernoulli_means(tiny_model):
    z = np.array([[0.0, 0.0], [1.5, -2.0]], np.float32)
    images = decode(tiny_model, z)
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    with torch.no_grad():
        probs = torch.sigmoid(tiny_model.decode(torch.from_numpy(z))).numpy().reshape(2, 28, 28)
    assert np.abs(images.astype(int) - np.round(probs * 255)).max() <= 1
    assert decode(tiny_model, [0.0, 0.0]).shape == (1, 28, 28)
    assert np.array_equal(decode(tiny_model, z, batch_size=1), images)
    assert not torch.is_grad_enabled() or all(p.grad is None for p in tiny_model.parameters())


def test_grid_points_ppf_cover_the_prior_evenly():
    points = grid_points(5, "ppf")
    assert points.shape == (5, 5, 2)
    expected = [NormalDist().inv_cdf(q) for q in np.linspace(0.05, 0.95, 5)]
    np.testing.assert_allclose(points[0, :, 0], expected, atol=1e-5)  # z1 grows left to right
    np.testing.assert_allclose(points[:, 0, 1], expected[::-1], atol=1e-5)  # z2 grows bottom to top
    linear = grid_points(3, "linear", extent=2.0)
    np.testing.assert_allclose(linear[1, :, 0], [-2, 0, 2])
    with pytest.raises(ValueError, match="unknown grid method"):
        grid_points(3, "polar")


def test_decode_grid_tiles_the_decodes_in_grid_order(tiny_model):
    grid = decode_grid(tiny_model, n=4)
    assert grid.shape == (4 * 28, 4 * 28) and grid.dtype == np.uint8
    points = grid_points(4, "ppf")
    top_right = decode(tiny_model, points[0, 3][None])[0]
    assert np.array_equal(grid[:28, 3 * 28:], top_right)


def test_linear_interpolation_runs_from_a_to_b_evenly():
    path = interpolate([0, 0], [4, -2], steps=5)
    assert path.shape == (5, 2) and path.dtype == np.float32
    np.testing.assert_allclose(path[[0, -1]], [[0, 0], [4, -2]])
    np.testing.assert_allclose(np.diff(path, axis=0), np.tile([1.0, -0.5], (4, 1)), atol=1e-6)


def test_slerp_keeps_the_norm_on_the_circle_between_directions():
    a, b = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    path = interpolate(a, b, steps=9, method="slerp")
    np.testing.assert_allclose(path[[0, -1]], [a, b], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 2.0, atol=1e-5)  # linear would dip to 1.41
    assert np.linalg.norm(interpolate(a, b, 9)[4]) == pytest.approx(np.sqrt(2), abs=1e-5)
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 16, atol=1e-5)
    # opposite endpoints and zero endpoints do not break it
    opposite = interpolate([1.0, 0.0], [-1.0, 0.0], 5, "slerp")
    np.testing.assert_allclose(np.linalg.norm(opposite, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(interpolate([0, 0], [1, 1], 4, "slerp")).all()
    with pytest.raises(ValueError, match="unknown interpolation"):
        interpolate(a, b, 3, "cubic")


def test_sample_prior_is_reproducible_and_scaled_by_temperature():
    a = sample_prior(20_000, 2, temperature=1.0, seed=5)
    assert a.shape == (20_000, 2) and a.dtype == np.float32
    assert np.array_equal(a, sample_prior(20_000, 2, 1.0, seed=5))
    assert not np.array_equal(a, sample_prior(20_000, 2, 1.0, seed=6))
    np.testing.assert_allclose(a.std(0), 1.0, atol=0.02)
    np.testing.assert_allclose(sample_prior(20_000, 2, 0.5, seed=5), 0.5 * a, rtol=1e-6)


def test_class_conditional_sampling_follows_each_class_gaussian():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal([3, 0], [0.5, 0.1], (500, 2)), rng.normal([-2, 2], 0.3, (500, 2))])
    labels = np.repeat([0, 1], 500)
    gaussians = fit_class_gaussians(z, labels)
    np.testing.assert_allclose(gaussians.means, [[3, 0], [-2, 2]], atol=0.06)
    samples = sample_class(gaussians, 0, 5000, seed=1)
    assert samples.shape == (5000, 2)
    np.testing.assert_allclose(samples.mean(0), gaussians.means[0], atol=0.03)
    np.testing.assert_allclose(samples.std(0), [0.5, 0.1], rtol=0.08)
    assert np.array_equal(samples, sample_class(gaussians, 0, 5000, seed=1))
    assert np.ptp(sample_class(gaussians, 0, 50, temperature=0.0, seed=1), axis=0).max() == 0
    with pytest.raises(ValueError, match="out of range"):
        sample_class(gaussians, 7, 3)


def test_sample_posterior_draws_around_mu_with_sigma():
    mu, logvar = np.array([[1.0, -2.0]]), np.log(np.array([[0.25, 4.0]]))
    draws = np.concatenate([sample_posterior(mu, logvar, seed=s) for s in range(3000)])
    np.testing.assert_allclose(draws.mean(0), [1.0, -2.0], atol=0.1)
    np.testing.assert_allclose(draws.std(0), [0.5, 2.0], rtol=0.06)
    assert np.array_equal(sample_posterior(mu, logvar, seed=4), sample_posterior(mu, logvar, seed=4))


def test_nearest_returns_closest_rows_in_order():
    points = np.array([[0, 0], [5, 5], [1, 0], [0, 2], [-3, 0]], np.float32)
    assert nearest(points, [0.9, 0.1], k=3).tolist() == [2, 0, 3]
    assert nearest(points, [4, 4]).tolist() == [1]
    assert len(nearest(points, [0, 0], k=50)) == 5


def _endpoint_pairs(n: int = 20):
    """Random endpoints in 2 and 8 dimensions, of different lengths and directions."""
    rng = np.random.default_rng(0)
    return [(rng.normal(size=d) * rng.uniform(0.2, 3), rng.normal(size=d) * rng.uniform(0.2, 3))
            for d in (2, 8) for _ in range(n // 2)]


def _angle(u: np.ndarray, v: np.ndarray) -> float:
    """The angle between two vectors, accurate near 0 and pi too (where arccos is not)."""
    u, v = u / np.linalg.norm(u), v / np.linalg.norm(v)
    return float(2 * np.arctan2(np.linalg.norm(u - v), np.linalg.norm(u + v)))


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolate_at_starts_at_a_and_ends_at_b(method):
    for a, b in _endpoint_pairs():
        ends = interpolate_at(a, b, [0.0, 1.0], method)
        assert ends.shape == (2, len(a)) and ends.dtype == np.float32
        np.testing.assert_allclose(ends, [a, b], rtol=1e-6, atol=1e-6)
    one = interpolate_at([1.0, 2.0], [-2.0, 0.5], 0.3, method)  # a number: one point
    assert one.shape == (1, 2)


def test_linear_interpolate_at_moves_along_the_segment_at_constant_speed():
    t = np.sort(np.random.default_rng(1).uniform(0, 1, 15))
    for a, b in _endpoint_pairs():
        path = interpolate_at(a, b, t).astype(np.float64)
        # the distance from a is t times the length of the segment, and the points stay on it
        np.testing.assert_allclose(np.linalg.norm(path - a, axis=1), t * np.linalg.norm(b - a), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.linalg.norm(path - a, axis=1) + np.linalg.norm(b - path, axis=1),
                                   np.linalg.norm(b - a), rtol=1e-5, atol=1e-5)


def test_slerp_interpolate_at_turns_at_constant_speed_while_the_length_changes_linearly():
    t = np.sort(np.random.default_rng(2).uniform(0, 1, 15))
    for a, b in _endpoint_pairs():
        path = interpolate_at(a, b, t, "slerp").astype(np.float64)
        np.testing.assert_allclose(np.linalg.norm(path, axis=1),
                                   (1 - t) * np.linalg.norm(a) + t * np.linalg.norm(b), rtol=1e-5)
        # the direction turns from a's to b's on the great circle between them: a constant angular speed
        omega = _angle(a, b)
        np.testing.assert_allclose([_angle(p, a) for p in path], t * omega, atol=1e-5)
        np.testing.assert_allclose([_angle(p, b) for p in path], (1 - t) * omega, atol=1e-5)
        # in the plane of a and b
        basis, _ = np.linalg.qr(np.stack([a, b], axis=1))
        np.testing.assert_allclose(path - path @ basis @ basis.T, 0.0, atol=1e-5)


def test_slerp_interpolate_at_between_opposite_or_zero_endpoints():
    t = np.linspace(0, 1, 9)
    a = np.array([1.5, -0.5, 2.0])
    path = interpolate_at(a, -2 * a, t, "slerp").astype(np.float64)  # opposite: any great circle, half a turn
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), (1 - t) * np.linalg.norm(a) + t * 2 * np.linalg.norm(a),
                               rtol=1e-5)
    np.testing.assert_allclose([_angle(p, a) for p in path], t * np.pi, atol=1e-5)
    # a zero endpoint has no direction: the path is the straight one
    np.testing.assert_allclose(interpolate_at([0.0, 0.0], [3.0, -1.0], t, "slerp"),
                               interpolate_at([0.0, 0.0], [3.0, -1.0], t, "linear"), atol=1e-6)
    with pytest.raises(ValueError, match="endpoints differ in size"):
        interpolate_at([0.0, 1.0], [1.0, 2.0, 3.0], 0.5)
