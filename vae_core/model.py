"""The VAE: an encoder q(z|x) = N(mu, diag(exp(logvar))), a decoder p(x|z) of Bernoulli
logits, and the loss (negative ELBO) in nats per image.

``VAEConfig(variational=False)`` builds a plain autoencoder of the same architecture
instead: the encoder outputs the code z itself (no sampling) and the loss is the
reconstruction alone, so its latent space is not pulled towards N(0, I).

Two architectures share one interface: ``"mlp"`` (fully connected layers) and
``"conv"`` (strided convolutions down to 7x7 and transposed convolutions back).

``VAEConfig(num_classes=C)`` builds a conditional VAE (Sohn et al., 2015): the encoder and
the decoder are also given the image's class as a one-hot vector, so z no longer has to say
which class an image is and becomes its style (slant, width, stroke). Decoding z with the
label K then draws a K in that style: class-true generation (``generate.generate_class``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import PIXELS, Layer, VAEConfig, layer_plan
from .errors import ConfigError

# torch's module for each activation name of the config
TORCH_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU}


class LossTerms(NamedTuple):
    """Mean negative ELBO of a batch and its two parts, in nats per image."""

    loss: torch.Tensor  # recon + beta * kl (what is minimised)
    recon: torch.Tensor  # -E_q[log p(x|z)], one sample
    kl: torch.Tensor  # KL(q(z|x) || N(0, I)), analytic


def build_layers(layers: list[Layer]) -> nn.Sequential:
    """torch modules for a list of layers of ``config.layer_plan``."""
    modules: list[nn.Module] = []
    for layer in layers:
        kind = layer["kind"]
        if kind == "linear":
            modules.append(nn.Linear(layer["in"], layer["out"]))
        elif kind in ("conv2d", "conv_transpose2d"):
            conv = nn.Conv2d if kind == "conv2d" else nn.ConvTranspose2d
            modules.append(conv(layer["in"], layer["out"], layer["kernel"], stride=layer["stride"],
                                padding=layer["padding"]))
        elif kind == "activation":
            modules.append(TORCH_ACTIVATIONS[layer["name"]]())
        elif kind == "dropout":
            modules.append(nn.Dropout(layer["p"]))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        else:
            modules.append(nn.Unflatten(1, tuple(layer["shape"])))
    return nn.Sequential(*modules)


# An autoencoder's code is a point: encode() reports it with the smallest variance a VAE
# can express (the clamp below), so code written for (mu, logvar) sees a point mass.
LOGVAR_MIN, LOGVAR_MAX = -20.0, 20.0


class VAE(nn.Module):
    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or VAEConfig()
        plan = layer_plan(config)  # the layers as data: the checkpoint reader and the decoder export use it too
        self.encoder = build_layers(plan["encoder"])
        self.to_stats = build_layers(plan["to_stats"])[0]
        self.decoder = build_layers(plan["decoder"])

    def condition(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """``t`` with the one-hot class ``y`` [B] appended (a conditional model), else ``t``."""
        c = self.config.num_classes
        if not c:
            return t
        if y is None:
            raise ConfigError("this is a conditional model: it needs the class of each image")
        y = torch.as_tensor(y, device=t.device).long().reshape(-1)
        if len(y) != len(t) or bool(((y < 0) | (y >= c)).any()):
            raise ConfigError(f"a conditional model needs one class from 0 to {c - 1} per image")
        return torch.cat([t.reshape(len(t), -1), F.one_hot(y, c).to(t.dtype)], dim=1)

    def encode(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, 784] floats in [0, 1] -> (mu, logvar), each [B, latent_dim]; ``y``: the classes
        [B] for a conditional model.

        An autoencoder returns its code as mu and logvar = LOGVAR_MIN (a point mass).
        """
        stats = self.to_stats(self.encoder(self.condition(x, y)))
        if not self.config.variational:
            return stats, torch.full_like(stats, LOGVAR_MIN)
        mu, logvar = stats.chunk(2, dim=-1)
        # Bounding logvar keeps exp() finite early in training without limiting the model:
        # sigma stays within [4.5e-5, 2.2e4].
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def decode(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        """z: [B, latent_dim] (and the classes [B] for a conditional model) -> Bernoulli logits [B, 784]."""
        return self.decoder(self.condition(z, y))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, y: torch.Tensor | None = None):
        """Encode, sample z with the reparameterization trick, decode: (logits, mu, logvar).

        An autoencoder decodes its code directly. It has no posterior, so it returns empty
        [B, 0] tensors as (mu, logvar): their KL term in ``vae_loss`` is exactly 0 and the
        loss is the reconstruction alone, with the trainer unchanged.
        """
        mu, logvar = self.encode(x, y)
        if not self.config.variational:
            none = mu.new_empty(mu.shape[0], 0)
            return self.decode(mu), none, none
        z = reparameterize(mu, logvar, generator)
        return self.decode(z, y), mu, logvar


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = mu + sigma * eps with eps ~ N(0, I): a sample whose gradient flows to mu and logvar."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per image, summed over latent dimensions."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(-1)


def reconstruction_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-log p(x|z) per image: Bernoulli cross-entropy summed over the 784 pixels."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def vae_loss(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             beta: float = 1.0) -> LossTerms:
    """Batch means of recon + beta * KL, recon and KL, in nats per image (an autoencoder's
    empty mu and logvar give KL = 0: its loss is the reconstruction alone)."""
    recon = reconstruction_nll(logits, x).mean()
    kl = kl_divergence(mu, logvar).mean()
    return LossTerms(recon + beta * kl, recon, kl)


LOG_2PI = math.log(2 * math.pi)


def log_importance_weights(model: "VAE", x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor,
                           y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x) for z_k = mu + sigma * eps_k, and
    -log p(x|z_k): each [K, B] for ``eps`` [K, B, d] (x [B, 784], mu and logvar [B, d])."""
    k = len(eps)
    z = mu + torch.exp(0.5 * logvar) * eps
    log_q = (-0.5 * (eps.pow(2) + logvar + LOG_2PI)).sum(-1)
    log_prior = (-0.5 * (z.pow(2) + LOG_2PI)).sum(-1)
    logits = model.decode(z.reshape(-1, mu.shape[1]), None if y is None else y.repeat(k)).reshape(k, len(x), -1)
    recon = reconstruction_nll(logits.float(), x.expand(k, -1, -1))
    return -recon + log_prior - log_q, recon


def iwae_loss(model: "VAE", x: torch.Tensor, k: int, generator: torch.Generator | None = None,
              y: torch.Tensor | None = None) -> LossTerms:
    """The importance-weighted bound with K samples (Burda et al., 2016), negated and averaged
    over the batch, as ``loss``: -log (1/K) sum_k w_k, tighter than the ELBO for K > 1 (and equal
    to it for K = 1). ``recon`` and ``kl`` are the ELBO's two parts at the same samples, for the log.

    Training on it optimises -log p(x) more directly; q(z|x) no longer has to be the posterior's
    best single-Gaussian fit, only a good proposal for it.
    """
    mu, logvar = model.encode(x, y)
    mu, logvar = mu.float(), logvar.float()
    eps = torch.randn((k, *mu.shape), generator=generator, device=mu.device, dtype=mu.dtype)
    log_w, recon = log_importance_weights(model, x, mu, logvar, eps, y)
    loss = -(torch.logsumexp(log_w, dim=0) - math.log(k)).mean()
    return LossTerms(loss, recon.mean(), kl_divergence(mu, logvar).mean())


def posterior_sample(model: "VAE", mu: torch.Tensor, logvar: torch.Tensor,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One z ~ q(z|x) and KL(q(z|x) || N(0, I)) per image; an autoencoder's z is its code and
    its KL is 0 (it has no prior, so its "ELBO" is the reconstruction term alone)."""
    if not model.config.variational:
        return mu, mu.new_zeros(mu.shape[0])
    return reparameterize(mu, logvar, generator), kl_divergence(mu, logvar)


def to_input(images: torch.Tensor) -> torch.Tensor:
    """uint8 images [B, 28, 28] (or floats already in [0, 1]) -> float inputs [B, 784]."""
    x = images.reshape(images.shape[0], PIXELS)
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def build_model(config: VAEConfig | None = None, seed: int = 0) -> VAE:
    """A freshly initialised model whose weights depend only on ``config`` and ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return VAE(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

