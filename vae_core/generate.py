"""Class-true generation: "make a 4" makes a 4, in many styles.

A conditional checkpoint (``VAEConfig(num_classes=C)``) is told the class, so its 2-D z is
style alone: z ~ N(0, T^2 I) decoded with label K is a K in a random style. An unconditional
checkpoint has only its latent plane, where in 2-D the classes overlap (a 4 sits between 9s
and 6s); the best it allows is to sample near the test codes of that class that lie among
their own kind (see ``pure_codes``). Both take an explicit seed. A conditional model also
draws one image's own style as every class (``handwriting_in_every_class``).

``fidelity``, ``variety`` and ``prior_fidelity`` are the measurements the benchmark and the
model card report (judged by ``classifier``, a CNN trained for measurement only).
"""

from __future__ import annotations

import numpy as np
import torch

from .checkpoint import Checkpoint
from .classifier import Classifier, class_logits
from .config import DEFAULT_TEMPERATURE, IMAGE_SIZE
from .errors import ConfigError
from .inference import decode, encode, sample_prior

PURE_NEIGHBOURS, PURE_SHARE = 10, 0.9  # a code is "pure" when 9 of its 10 nearest codes share its class


def _check_label(ckpt: Checkpoint, label: int, n: int) -> None:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label < len(ckpt.classes):
        raise ConfigError(f"class {label!r} is not one of this model's classes (0 to {len(ckpt.classes) - 1})")
    if not 0 <= n <= 10_000:
        raise ConfigError(f"the number of images must be from 0 to 10,000, got {n}")


def pure_codes(z_mean, labels, label: int, k: int = PURE_NEIGHBOURS, share: float = PURE_SHARE) -> np.ndarray:
    """Indices of the class-``label`` codes whose ``k`` nearest other codes are at least ``share``
    of that class: the places on the plane that decode to that class, found from labels alone.
    Falls back to every code of the class when fewer than 20 are that pure."""
    z, y = torch.as_tensor(np.asarray(z_mean, np.float32)), torch.as_tensor(np.asarray(labels))
    members = torch.nonzero(y == label).flatten()
    if len(members) == 0:
        raise ConfigError(f"the model's test codes hold no image of class {label}")
    d = torch.cdist(z[members], z)
    d[torch.arange(len(members)), members] = float("inf")  # not its own neighbour
    near = d.topk(min(k, len(z) - 1), largest=False).indices
    purity = (y[near] == label).float().mean(1)
    pure = members[purity >= share]
    return (pure if len(pure) >= 20 else members).numpy()


def generate_class(ckpt: Checkpoint, label: int, n: int, seed: int = 0,
                   temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """``n`` new images of class ``label``: uint8 [n, 28, 28], the same for the same seed.

    ``temperature`` scales the randomness: lower is more typical, higher more varied.
    """
    _check_label(ckpt, label, n)
    model = ckpt.model
    if model.config.num_classes:
        z = sample_prior(n, model.config.latent_dim, temperature, seed)
        return decode(model, z, labels=np.full(n, label))
    if ckpt.latents is None or not len(ckpt.latents.labels):
        raise ConfigError("this model has neither class inputs nor test-set codes, so it cannot make a chosen class")
    lat = ckpt.latents
    pool = pure_codes(lat.z_mean, lat.labels, label)
    rng = np.random.default_rng(seed)
    picks = pool[rng.integers(0, len(pool), n)]
    sigma = np.exp(0.5 * np.asarray(lat.z_logvar, np.float32)[picks])
    z = np.asarray(lat.z_mean, np.float32)[picks] + temperature * sigma * rng.standard_normal(sigma.shape)
    return decode(model, z.astype(np.float32))


def style_in_every_class(ckpt: Checkpoint, z) -> np.ndarray:
    """One style code z [latent_dim] of a conditional model drawn as every class: uint8 [C, 28, 28]."""
    model = ckpt.model
    if not model.config.num_classes:
        raise ConfigError("only a conditional model separates style from class")
    c = model.config.num_classes
    return decode(model, np.repeat(np.asarray(z, np.float32).reshape(1, -1), c, axis=0), labels=np.arange(c))


def handwriting_in_every_class(ckpt: Checkpoint, image, label: int) -> np.ndarray:
    """One image's style drawn as every class by a conditional model: uint8 [C, 28, 28].

    ``image`` (uint8 [28, 28], prepared MNIST-style) is encoded as class ``label``, so the
    encoder's mean holds what the class does not explain (slant, width, stroke); that mean is
    decoded with each class in turn. Row ``label`` is then the model's reconstruction of the image.
    """
    if not ckpt.model.config.num_classes:
        raise ConfigError("only a conditional model separates style from class")
    _check_label(ckpt, label, 1)
    image = np.asarray(image)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE) or image.dtype != np.uint8:
        raise ConfigError(f"the image must be uint8 [{IMAGE_SIZE}, {IMAGE_SIZE}], got {image.dtype} "
                          f"{list(image.shape)}")
    style, _ = encode(ckpt.model, image[None], labels=np.array([label]))
    return style_in_every_class(ckpt, style[0])


def fidelity(predicted, label: int) -> float:
    """Share of images a classifier calls ``label``."""
    predicted = np.asarray(predicted)
    return float(np.mean(predicted == label)) if predicted.size else float("nan")


def variety(images, max_images: int = 200) -> float:
    """Mean pairwise Euclidean distance between images with pixels in [0, 1] (the first
    ``max_images``): 0 for copies of one image."""
    x = torch.as_tensor(np.asarray(images[:max_images], np.float32).reshape(min(len(images), max_images), -1) / 255.0)
    if len(x) < 2:
        return 0.0
    d = torch.cdist(x.double(), x.double())
    return float(d[torch.triu_indices(len(x), len(x), 1).unbind()].mean())


SURE = 0.9  # the judge's probability that counts as "clearly one class" in prior_fidelity


def sure_share(judge: Classifier, images, sure: float = SURE, batch_size: int = 2000) -> float:
    """Share of uint8 images [N, 28, 28] whose most likely class the judge gives a probability of at least ``sure``."""
    logits = class_logits(judge, images, batch_size)
    if not len(logits):
        return float("nan")
    return float((logits.softmax(1).amax(1) >= sure).double().mean())


def prior_fidelity(ckpt: Checkpoint, judge: Classifier, n: int = 1000, seed: int = 0, sure: float = SURE) -> float:
    """The fidelity of prior samples: the share of ``n`` decodes of z ~ N(0, I) (``sample_prior``
    with ``seed``) that the judge calls some class with probability >= ``sure``.

    Prior samples land anywhere the prior puts mass, including between the classes' regions,
    where a decode is a blend no judge is sure of; so this measures how much of the prior's
    space the decoder fills with clear images (1 = every sample a clear digit)."""
    model = ckpt.model
    if model.config.num_classes:
        raise ConfigError("a conditional model needs a class to draw from its prior; use generate_class")
    if not model.config.variational:
        raise ConfigError("an autoencoder has no prior to sample from")
    if not 1 <= n <= 100_000:
        raise ConfigError(f"the number of prior samples must be from 1 to 100,000, got {n}")
    return sure_share(judge, decode(model, sample_prior(n, model.config.latent_dim, seed=seed)), sure)
