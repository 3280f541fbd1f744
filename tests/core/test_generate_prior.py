"""The fidelity of prior samples (vae_core.generate.prior_fidelity, sure_share): exact shares
against the judge's own probabilities, seeds, and the models it refuses."""

import numpy as np
import pytest
import torch

from vae_core.checkpoint import Checkpoint
from vae_core.classifier import load_classifier
from vae_core.errors import ConfigError
from vae_core.generate import prior_fidelity, sure_share
from vae_core.inference import decode, sample_prior
from vae_core.model import VAEConfig, build_model
from vae_core.training import TrainConfig, train

from helpers.data import ROOT

CLASSES = tuple(str(i) for i in range(10))


@pytest.fixture(scope="module")
def judged(digits):
    """A small VAE trained briefly on 1,200 images, and the project's shipped MNIST judge."""
    model = build_model(VAEConfig(hidden=(128,)), seed=0)
    train(model, digits["train_x"], None, TrainConfig(epochs=20, batch_size=64, lr=3e-3))
    judge, _ = load_classifier(ROOT / "pretrained" / "classifier" / "mnist.safetensors")
    return Checkpoint.from_model(model, dataset="mnist", classes=CLASSES), judge


def test_sure_share_counts_the_images_the_judge_is_sure_of(judged, digits):
    judge, images = judged[1], digits["test_x"][:200]
    with torch.no_grad():
        top = judge(torch.as_tensor(images)).softmax(1).amax(1).numpy()
    for sure in (0.5, 0.9, 0.99):
        assert sure_share(judge, images, sure) == pytest.approx(np.mean(top >= sure))
    assert sure_share(judge, images, 0.0) == 1.0 and sure_share(judge, images, 1.01) == 0.0
    assert sure_share(judge, images, batch_size=7) == sure_share(judge, images)  # batching changes nothing
    assert np.isnan(sure_share(judge, images[:0]))


def test_prior_fidelity_is_the_sure_share_of_decoded_prior_samples(judged):
    ckpt, judge = judged
    share = prior_fidelity(ckpt, judge, n=300, seed=3)
    assert 0.0 < share < 1.0 and share == prior_fidelity(ckpt, judge, n=300, seed=3)
    assert share == sure_share(judge, decode(ckpt.model, sample_prior(300, 2, seed=3)))
    assert prior_fidelity(ckpt, judge, n=300, seed=3, sure=0.0) == 1.0
    assert prior_fidelity(ckpt, judge, n=300, seed=4) != share  # another seed, other samples


def test_prior_fidelity_refuses_models_without_a_plain_prior(judged):
    ckpt, judge = judged
    conditional = Checkpoint.from_model(build_model(VAEConfig(hidden=(16,), num_classes=10), seed=0),
                                        dataset="mnist", classes=CLASSES)
    with pytest.raises(ConfigError, match="a conditional model needs a class to draw from its prior"):
        prior_fidelity(conditional, judge)
    autoencoder = Checkpoint.from_model(build_model(VAEConfig(hidden=(16,), variational=False), seed=0),
                                        dataset="mnist", classes=CLASSES)
    with pytest.raises(ConfigError, match="an autoencoder has no prior to sample from"):
        prior_fidelity(autoencoder, judge)
    with pytest.raises(ConfigError, match="from 1 to 100,000, got 0"):
        prior_fidelity(ckpt, judge, n=0)
