"""vae_core.pipeline: the training flow the CLI and the app share."""

import re

import pytest

from vae_core.config import VAEConfig
from vae_core.data import Dataset
from vae_core.errors import DivergedError
from vae_core.pipeline import train_checkpoint
from vae_core.training import TrainConfig

CLASSES = tuple(str(d) for d in range(10))


def splits(digits) -> tuple[Dataset, Dataset]:
    return (Dataset("mnist", "train", digits["train_x"][:300], digits["train_y"][:300], CLASSES),
            Dataset("mnist", "test", digits["test_x"][:60], digits["test_y"][:60], CLASSES))


def test_a_divergence_before_any_epoch_raises_one_sentence_and_packages_nothing(digits):
    stages = []
    with pytest.raises(DivergedError) as caught:
        train_checkpoint(*splits(digits), VAEConfig(hidden=(32,)),
                         TrainConfig(epochs=2, lr=1e4, warmup_epochs=0, batch_size=100, device="cpu"),
                         iwae_k=5, progress=lambda stage, fraction: stages.append(stage))
    assert re.fullmatch(r"training diverged: the loss became \S+ nats per image at epoch 1, step \d+; the weights were "
                        r"rolled back to their initial values\. Try a lower learning rate \(now 10000\)\. "
                        r"No epoch completed, so there is no model\.", str(caught.value)), str(caught.value)
    assert stages == []  # an untrained model is neither evaluated nor encoded


def test_a_finished_training_stores_the_test_set_s_latents_and_scores(digits):
    train_set, test_set = splits(digits)
    ckpt, result = train_checkpoint(train_set, test_set, VAEConfig(hidden=(32,)),
                                    TrainConfig(epochs=1, batch_size=100, device="cpu"), iwae_k=0)
    assert result.status == "done" and len(ckpt.history) == 1
    assert ckpt.latents.z_mean.shape == (60, 2) and ckpt.latents.neg_elbo.shape == (60,)
    assert (ckpt.latents.labels == test_set.labels).all()
