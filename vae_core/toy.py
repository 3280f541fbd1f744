"""A toy world where the data and the latent space are both 2-D: three generated datasets,
a small VAE with a Gaussian likelihood, a training loop that runs in seconds, and
``fit_toy``, which does it all (data, training, new points and how near the data they land).

It makes the VAE's two maps visible at once: the encoder sends each data point to a
region of the latent plane that is pulled towards N(0, I), and the decoder sends every
latent point (a fresh draw from the prior included) back to a place where data lives.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from .compare import nearest_distances
from .errors import ConfigError
from .model import kl_divergence, reparameterize

TOY_DATASETS = {"moons": "Two moons", "ring": "Ring of Gaussians", "pinwheel": "Pinwheel"}
COMPONENT_NAMES = {"moons": "moon", "ring": "Gaussian", "pinwheel": "arm"}  # what one component is called
MAX_POINTS = 100_000
NEAR_NOISE = 3  # a new point "on the data" lies within this many noise sigmas of a data point


@dataclass(frozen=True)
class ToyData:
    x: np.ndarray  # float32 [n, 2], roughly centred with unit spread
    component: np.ndarray  # int64 [n]: which moon, Gaussian or arm each point comes from
    components: int


def make_toy(name: str, n: int = 2000, noise: float = 0.1, seed: int = 0) -> ToyData:
    """``n`` points of a 2-D toy dataset; ``noise`` is the standard deviation of the Gaussian
    jitter (of each moon, of each Gaussian on the ring, across each pinwheel arm)."""
    if name not in TOY_DATASETS:
        raise ConfigError(f"unknown toy dataset {name!r}; choose one of: {', '.join(TOY_DATASETS)}")
    if type(n) is not int or not 2 <= n <= MAX_POINTS:
        raise ConfigError(f"the number of points must be a whole number from 2 to {MAX_POINTS:,}, got {n!r}")
    if not (math.isfinite(noise) and 0.0 <= noise <= 1.0):
        raise ConfigError(f"noise must be between 0 and 1, got {noise!r}")
    rng = np.random.default_rng(seed)
    if name == "moons":
        comp = rng.integers(0, 2, n)
        t = rng.uniform(0, np.pi, n)
        upper = np.stack([np.cos(t), np.sin(t)], 1)
        lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
        x = np.where(comp[:, None] == 0, upper, lower) - [0.5, 0.25]
        x = 1.2 * (x + noise * rng.standard_normal((n, 2)))
        k = 2
    elif name == "ring":
        k = 8
        comp = rng.integers(0, k, n)
        angle = 2 * np.pi * comp / k
        x = 2.0 * np.stack([np.cos(angle), np.sin(angle)], 1) + noise * rng.standard_normal((n, 2))
    else:  # five arms that bend outwards (Johnson et al., 2016)
        k = 5
        comp = rng.integers(0, k, n)
        radial = 1.0 + 0.3 * rng.standard_normal(n)
        tangential = noise * rng.standard_normal(n)
        angle = 2 * np.pi * comp / k + 0.25 * np.exp(radial)
        c, s = np.cos(angle), np.sin(angle)
        x = 1.6 * np.stack([c * radial - s * tangential, s * radial + c * tangential], 1)
    return ToyData(x.astype(np.float32), comp.astype(np.int64), k)


def component_names(name: str, components: int) -> list[str]:
    """What each component of a dataset is called, in order: "moon 1", "moon 2", ..."""
    return [f"{COMPONENT_NAMES[name]} {i + 1}" for i in range(components)]


class ToyVAE(nn.Module):
    """Encoder 2-64-64-(mu, logvar), decoder 2-64-64-2 (the mean of a Gaussian p(x|z)),
    and one learned log-variance per data dimension (the noise around the decoded mean)."""

    def __init__(self, hidden: int = 64, latent_dim: int = 2, data_dim: int = 2) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                     nn.Linear(hidden, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                     nn.Linear(hidden, data_dim))
        self.log_var_x = nn.Parameter(torch.zeros(data_dim))  # starts at variance 1, the data's spread

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 6.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)


def build_toy_model(seed: int = 0, hidden: int = 64) -> ToyVAE:
    """A fresh ToyVAE whose weights depend only on ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ToyVAE(hidden)


def toy_loss(model: ToyVAE, x: torch.Tensor, beta: float = 1.0,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(recon + beta * KL, recon, KL): batch means in nats per point, with
    recon = -log N(x; decoder(z), diag exp(log_var_x)) for one z ~ q(z|x)."""
    mu, logvar = model.encode(x)
    mean = model.decode(reparameterize(mu, logvar, generator))
    lv = model.log_var_x.clamp(-12.0, 6.0)
    recon = 0.5 * ((x - mean).pow(2) / lv.exp() + lv + math.log(2 * math.pi)).sum(-1).mean()
    kl = kl_divergence(mu, logvar).mean()
    return recon + beta * kl, recon, kl


@dataclass
class ToyResult:
    history: list[dict]  # {"step", "loss", "recon", "kl"} every ``report_every`` steps
    status: Literal["done", "stopped"]
    seconds: float


# Receives (step, total, loss); return True to stop.
ToyCallback = Callable[[int, int, float], "bool | None"]


def train_toy(model: ToyVAE, x, steps: int = 1000, batch_size: int = 512, lr: float = 2e-2, beta: float = 1.0,
              kl_warmup: float = 0.2, seed: int = 0, callback: ToyCallback | None = None,
              report_every: int = 50) -> ToyResult:
    """Adam on random batches of the points (drawn with replacement), a cosine-decayed
    learning rate, and β ramped up from 0 over the first ``kl_warmup`` of the steps, so the
    decoder learns to use z before the KL term pulls every code onto the prior.
    Deterministic for a given seed; a few seconds on one CPU core."""
    if type(steps) is not int or steps < 1 or type(batch_size) is not int or batch_size < 1:
        raise ConfigError("steps and batch size must be whole numbers >= 1")
    if not (math.isfinite(lr) and lr > 0 and math.isfinite(beta) and beta >= 0):
        raise ConfigError("the learning rate must be > 0 and beta >= 0")
    x = torch.as_tensor(np.asarray(x, np.float32))
    gen = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    warm = max(1, round(kl_warmup * steps))
    history, status, start = [], "done", time.perf_counter()
    model.train()
    with _one_thread():
        for step in range(1, steps + 1):
            for group in optimizer.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * (step - 1) / steps))
            batch = x[torch.randint(0, len(x), (batch_size,), generator=gen)] if batch_size < len(x) else x
            loss, recon, kl = toy_loss(model, batch, beta * min(1.0, step / warm), gen)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if step % report_every == 0 or step == steps:
                recon, kl = recon.item(), kl.item()
                history.append({"step": step, "loss": recon + beta * kl, "recon": recon, "kl": kl})
                if callback and callback(step, steps, history[-1]["loss"]):
                    status = "stopped"
                    break
    model.eval()
    return ToyResult(history, status, time.perf_counter() - start)


@contextlib.contextmanager
def _one_thread():
    """Matrices this small gain nothing from more threads, and on a busy CPU the idle ones spin:
    2 threads measured 10x slower than 1. The setting is the calling thread's own (OpenMP)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@torch.no_grad()
def toy_encode(model: ToyVAE, x) -> tuple[np.ndarray, np.ndarray]:
    """(mu, logvar) of each point: float32 [n, 2] each."""
    mu, logvar = model.encode(torch.as_tensor(np.asarray(x, np.float32)))
    return mu.numpy(), logvar.numpy()


@torch.no_grad()
def toy_generate(model: ToyVAE, n: int, seed: int = 0, noise: bool = False) -> np.ndarray:
    """n new points: z ~ N(0, I) decoded to the mean of p(x|z) (plus its learned noise when
    ``noise``): float32 [n, 2]."""
    gen = torch.Generator().manual_seed(seed)
    mean = model.decode(torch.randn(n, model.latent_dim, generator=gen))
    if noise:
        mean = mean + torch.exp(0.5 * model.log_var_x) * torch.randn(mean.shape, generator=gen)
    return mean.numpy()


def mean_nn_distance(a, b) -> float:
    """Mean over the points of ``a`` of the distance to their nearest point of ``b``."""
    return float(nearest_distances(a, b).mean())


@dataclass(frozen=True)
class ToyFit:
    """A toy VAE fitted to a dataset, with what it makes of it (see fit_toy)."""

    data: ToyData
    model: ToyVAE
    training: ToyResult
    latents: np.ndarray  # mu(x) of every data point, float32 [n, 2]
    samples: np.ndarray  # n new points x ~ p(x | z), z ~ N(0, I): float32 [n, 2]
    means: np.ndarray  # the decoder's means of the same z (no noise): float32 [n, 2]
    generated_distance: float  # mean distance from a new point to its nearest data point
    data_distance: float  # the same for a fresh sample of the dataset: what a perfect model would score
    near_share: float  # the share of new points within NEAR_NOISE noise sigmas of a data point

    @property
    def loss(self) -> float:
        """The final training loss, nats per point."""
        return self.training.history[-1]["loss"]


def fit_toy(dataset: str, n: int = 2000, noise: float = 0.1, seed: int = 0, steps: int = 1000, beta: float = 1.0,
            callback: ToyCallback | None = None) -> ToyFit:
    """Make ``n`` points of ``dataset`` (``make_toy``), train a fresh ToyVAE on them
    (``train_toy``: ``steps``, ``beta``, ``callback``), and generate as many new points.

    Everything follows from ``seed``: the data and the initial weights use it, the new points
    and the fresh sample of data they are measured against use ``seed + 1``.
    """
    data = make_toy(dataset, n, noise, seed)
    model = build_toy_model(seed)
    training = train_toy(model, data.x, steps=steps, beta=beta, seed=seed, callback=callback)
    samples = toy_generate(model, n, seed=seed + 1, noise=True)
    near = nearest_distances(samples, data.x)
    return ToyFit(data, model, training, latents=toy_encode(model, data.x)[0], samples=samples,
                  means=toy_generate(model, n, seed=seed + 1, noise=False),
                  generated_distance=float(near.mean()),
                  data_distance=mean_nn_distance(make_toy(dataset, n, noise, seed + 1).x, data.x),
                  near_share=float((near <= NEAR_NOISE * max(noise, 0.05)).mean()))
