"""The package itself (``import vae_core as vc``): names imported from their modules when first
used, and no name that is both a module and a function."""

import os
import subprocess
import sys
import types

import vae_core as vc
from vae_core import evaluation, training
from helpers.data import ROOT

# In a fresh interpreter: reading a checkpoint must not import torch, which training does.
LAZY_IMPORTS = """
import sys
import vae_core as vc

ckpt = vc.load_checkpoint("pretrained/mnist.safetensors")
assert len(ckpt.latents.z_mean) == 10_000
print("torch" in sys.modules)
vc.TrainConfig(epochs=1)
print("torch" in sys.modules)
"""


def test_reading_a_checkpoint_waits_for_no_torch_and_training_names_bring_it():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", LAZY_IMPORTS], capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_every_public_name_comes_from_its_module():
    assert vc.train is training.train and vc.TrainConfig is training.TrainConfig
    assert vc.evaluate is evaluation.evaluate and vc.negative_elbo is evaluation.negative_elbo
    # the modules are named apart from their functions: importing them changes no public name
    assert isinstance(vc.training, types.ModuleType) and isinstance(vc.evaluation, types.ModuleType)
    assert callable(vc.train) and callable(vc.evaluate)
    assert not set(vc.__all__) & {"training", "evaluation"}
    for name in vc.__all__:
        assert getattr(vc, name) is not None, name
