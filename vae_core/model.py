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

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError

IMAGE_SIZE = 28
PIXELS = IMAGE_SIZE * IMAGE_SIZE

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU}
ARCHITECTURES = ("mlp", "conv")
MAX_CONDITION_CLASSES = 100


@dataclass
class VAEConfig:
    """Everything needed to rebuild a model's layers (saved in every checkpoint)."""

    arch: str = "mlp"  # "mlp" or "conv"
    latent_dim: int = 2
    # mlp: encoder layer widths, the decoder mirrors them (784-512-256-z-256-512-784).
    # conv: channels of the two stride-2 convolutions, then the width of one dense layer.
    hidden: tuple[int, ...] = (512, 256)
    activation: str = "gelu"
    dropout: float = 0.0  # on hidden layers of the encoder and decoder, training only
    # False: a deterministic autoencoder (checkpoints written before this field load as True)
    variational: bool = True
    # C > 0: a conditional VAE given the one-hot class (mlp only); 0: unconditional
    num_classes: int = 0

    def __post_init__(self) -> None:
        self.hidden = tuple(int(h) for h in self.hidden)
        self.validate()

    def validate(self) -> None:
        """Reject settings that make no sense, or that a hostile checkpoint could use to exhaust memory."""
        if self.arch not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {self.arch!r}; choose one of: {', '.join(ARCHITECTURES)}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {self.activation!r}; choose one of: {', '.join(ACTIVATIONS)}")
        if type(self.latent_dim) is not int or not 1 <= self.latent_dim <= 64:
            raise ConfigError(f"latent size must be an integer from 1 to 64, got {self.latent_dim!r}")
        need = 3 if self.arch == "conv" else 1
        if not need <= len(self.hidden) <= 8 or any(not 1 <= h <= 4096 for h in self.hidden):
            raise ConfigError(f"hidden sizes {list(self.hidden)} are out of range: "
                              f"{need} to 8 layers of 1 to 4096 units" + (" (conv: ch1, ch2, dense)" if need == 3 else ""))
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if type(self.variational) is not bool:
            raise ConfigError(f"variational must be true or false, got {self.variational!r}")
        if type(self.num_classes) is not int or not 0 <= self.num_classes <= MAX_CONDITION_CLASSES:
            raise ConfigError(f"the number of classes a conditional model is given must be an integer from 0 to "
                              f"{MAX_CONDITION_CLASSES}, got {self.num_classes!r}")
        if self.num_classes and (self.arch != "mlp" or not self.variational):
            raise ConfigError("a conditional model is an mlp VAE (not conv, not an autoencoder)")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "VAEConfig":
        if not isinstance(d, dict):
            raise ConfigError("model config must be a mapping")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ConfigError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        try:
            return cls(**d)
        except OverflowError:  # e.g. "hidden": [1e400], which int() cannot convert
            raise ConfigError("the model config holds a number too large to be a layer size") from None
        except (TypeError, ValueError) as e:
            raise ConfigError(f"invalid model config: {e}") from e


def parse_layer_sizes(text: str) -> tuple[int, ...]:
    """Layer sizes typed as text, e.g. "512, 256" -> (512, 256); their range is VAEConfig's to check."""
    bad = ConfigError(f"{text!r} is not a comma-separated list of layer sizes, e.g. 512,256")
    try:
        sizes = tuple(int(s) for s in text.replace(" ", "").split(",") if s)
    except ValueError:
        raise bad from None
    if not sizes:
        raise bad
    return sizes


class LossTerms(NamedTuple):
    """Mean negative ELBO of a batch and its two parts, in nats per image."""

    loss: torch.Tensor  # recon + beta * kl (what is minimised)
    recon: torch.Tensor  # -E_q[log p(x|z)], one sample
    kl: torch.Tensor  # KL(q(z|x) || N(0, I)), analytic


def _mlp(sizes: list[int], act: type[nn.Module], dropout: float) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), act()]
        if dropout:
            layers.append(nn.Dropout(dropout))
    return layers


# An autoencoder's code is a point: encode() reports it with the smallest variance a VAE
# can express (the clamp below), so code written for (mu, logvar) sees a point mass.
LOGVAR_MIN, LOGVAR_MAX = -20.0, 20.0


class VAE(nn.Module):
    def __init__(self, config: VAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or VAEConfig()
        act = ACTIVATIONS[config.activation]
        # the encoder's head: (mu, logvar) for a VAE, the code z alone for an autoencoder
        d, p = config.latent_dim, config.dropout
        stats = 2 * d if config.variational else d
        c = config.num_classes  # a conditional model's layers also take the one-hot class
        if config.arch == "mlp":
            enc = [PIXELS, *config.hidden]
            self.encoder = nn.Sequential(nn.Flatten(), *_mlp([PIXELS + c, *config.hidden], act, p))
            self.to_stats = nn.Linear(enc[-1], stats)
            self.decoder = nn.Sequential(*_mlp([d + c, *enc[::-1][:-1]], act, p), nn.Linear(enc[1], PIXELS))
        else:
            c1, c2, dense = config.hidden[:3]
            self.encoder = nn.Sequential(
                nn.Unflatten(1, (1, IMAGE_SIZE, IMAGE_SIZE)),
                nn.Conv2d(1, c1, 4, stride=2, padding=1), act(),  # 14x14
                nn.Conv2d(c1, c2, 4, stride=2, padding=1), act(),  # 7x7
                nn.Flatten(), *_mlp([c2 * 49, dense], act, p))
            self.to_stats = nn.Linear(dense, stats)
            self.decoder = nn.Sequential(
                *_mlp([d, dense, c2 * 49], act, p), nn.Unflatten(1, (c2, 7, 7)),
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), act(),  # 14x14
                nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # 28x28
                nn.Flatten())

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

