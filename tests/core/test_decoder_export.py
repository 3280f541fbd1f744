"""The decoder export for the browser: round trip, the NumPy reference against vae_core.decode,
the version check, and malformed exports refused with one sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save as np_save

import vae_core as vc
from vae_core.decoder_export import (FORMAT, FORMAT_VERSION, ExportError, export_decoder, read_decoder_export,
                                     run_decoder_export)
from vae_core.model import VAEConfig, build_model
from vae_core.toy import build_toy_model

Z = np.random.default_rng(0).uniform(-4, 4, (64, 2)).astype(np.float32)


def rewrite(data: bytes, spec=None, tensors=None, **metadata) -> bytes:
    """An export with its spec, tensors or metadata replaced."""
    export = read_decoder_export(data)
    meta = {"format": FORMAT, "version": FORMAT_VERSION,
            "spec": json.dumps(export.spec if spec is None else spec), **metadata}
    return np_save(export.tensors if tensors is None else tensors, metadata=meta)


@pytest.mark.parametrize("config", [
    VAEConfig(hidden=(32, 16)),
    VAEConfig(hidden=(24,), activation="relu", dropout=0.2),
    VAEConfig(hidden=(16,), activation="elu", latent_dim=3),
    VAEConfig(arch="conv", hidden=(4, 8, 16), activation="silu"),
    VAEConfig(arch="conv", hidden=(4, 8, 16), activation="tanh", variational=False),
], ids=["mlp-gelu", "mlp-relu-dropout", "mlp-elu-3d", "conv-silu", "conv-tanh-ae"])
def test_an_export_decodes_as_vae_core_decode(config):
    model = build_model(config, seed=3)
    export = read_decoder_export(export_decoder(model))
    z = np.zeros((len(Z), config.latent_dim), np.float32)
    z[:, :2] = Z
    ours, reference = run_decoder_export(export, z), vc.decode(model, z)
    assert ours.shape == reference.shape == (len(Z), 28, 28) and ours.dtype == np.uint8
    # float64 against float32 arithmetic: a pixel on a rounding edge may differ by one grey level
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1
    assert (ours == reference).mean() > 0.99
    assert not any(layer.get("kind") == "dropout" for layer in export.spec["layers"])


@pytest.mark.parametrize("config", [VAEConfig(hidden=(24,), activation="elu", dropout=0.2),
                                    VAEConfig(arch="conv", hidden=(4, 8, 16), activation="tanh", variational=False)],
                         ids=["mlp-elu-dropout", "conv-ae"])
def test_a_checkpoint_exports_without_torch_what_its_model_exports(config):
    """The checkpoint's path (its config's layer plan over its weight arrays, no torch module
    involved) gives the very bytes the module walk gives."""
    ckpt = vc.Checkpoint.from_model(build_model(config, seed=2), dataset="mnist", classes=tuple("0123456789"))
    loaded = vc.load_checkpoint(vc.checkpoint_bytes(ckpt))
    assert export_decoder(loaded) == export_decoder(ckpt.model)
    assert loaded._model is None  # the export built no model


def test_the_shipped_decoder_round_trips_exactly():
    ckpt = vc.load_checkpoint("pretrained/mnist.safetensors")
    data = export_decoder(ckpt)
    model = ckpt.model
    export = read_decoder_export(data)
    assert export.latent_dim == 2 and export.output == {"kind": "image", "height": 28, "width": 28}
    kinds = [layer["kind"] for layer in export.spec["layers"]]
    assert kinds == ["linear", "activation"] * 3 + ["linear"]  # 2 → 256 → 256 → 512 → 784
    state = {k: v.numpy() for k, v in model.decoder.state_dict().items()}
    # the export leaves out the dropout layers (training only): its linear layers are the model's, in order
    linear = [k[:-len(".weight")] for k in state if k.endswith(".weight")]
    exported = sorted((k[:-len(".weight")] for k in export.tensors if k.endswith(".weight")),
                      key=lambda k: int(k.split(".")[1]))
    assert len(linear) == len(exported) == 4
    for theirs, ours in zip(linear, exported):
        assert np.array_equal(export.tensors[f"{ours}.weight"], state[f"{theirs}.weight"])
        assert np.array_equal(export.tensors[f"{ours}.bias"], state[f"{theirs}.bias"])
    assert export_decoder(model) == export_decoder(ckpt) == data  # the same model, the same bytes (the browser caches by hash)
    assert len(data) < 2.45e6  # 600,336 float32 weights (2.40 MB) and a small header


def test_the_toy_decoder_exports_a_point():
    model = build_toy_model(seed=1)
    export = read_decoder_export(export_decoder(model))
    assert export.output == {"kind": "point", "dim": 2}
    with torch.no_grad():
        expected = model.decode(torch.from_numpy(Z)).numpy()
    np.testing.assert_allclose(run_decoder_export(export, Z), expected, atol=1e-5)


def test_a_decoder_too_large_for_a_browser_is_refused():
    model = build_model(VAEConfig(hidden=(64, 32)), seed=0)
    with pytest.raises(ExportError, match=r"MB of weights, more than the 0.00095 MB a browser decodes at frame rate"):
        export_decoder(model, max_bytes=1000)


def test_a_layer_without_a_browser_version_is_refused():
    model = build_model(VAEConfig(hidden=(8,)), seed=0)
    model.decoder.insert(1, torch.nn.LayerNorm(8))
    with pytest.raises(ExportError, match="the decoder's LayerNorm layer has no browser implementation"):
        export_decoder(model)


@pytest.fixture(scope="module")
def small_export() -> bytes:
    return export_decoder(build_model(VAEConfig(hidden=(8,)), seed=0))


def test_another_version_is_refused(small_export):
    with pytest.raises(ExportError, match=r"decoder export version '2' is not supported \(this reader knows "
                                          r"version 1\)"):
        read_decoder_export(rewrite(small_export, version="2"))


@pytest.mark.parametrize("break_it, message", [
    (lambda d, s, t: b"not a safetensors file at all", "not a decoder export (not a readable safetensors file)"),
    (lambda d, s, t: d[:len(d) // 2], "not a decoder export (not a readable safetensors file)"),
    (lambda d, s, t: np_save(t, metadata={"format": "something-else"}), "no 'vae-explorer-decoder' marker"),
    (lambda d, s, t: np_save(t, metadata={"format": FORMAT, "version": "1", "spec": "{"}), "spec is not valid JSON"),
    (lambda d, s, t: rewrite(d, spec={**s, "layers": []}), "has no list of layers"),
    (lambda d, s, t: rewrite(d, spec={**s, "latent_dim": 1000}), "latent size must be a whole number from 1 to 64"),
    (lambda d, s, t: rewrite(d, spec={**s, "output": {"kind": "sound"}}), "output must be an image or a point"),
    (lambda d, s, t: rewrite(d, spec={**s, "layers": [{"kind": "attention"}]}), "layer 0 is of unknown kind"),
    (lambda d, s, t: rewrite(d, spec={**s, "layers": [{**s["layers"][0], "weight": "missing"}, *s["layers"][1:]]}),
     "layer 0 (linear) names no tensor for its weight"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.0.weight": t["layers.0.weight"][:, :1].copy()}),
     "does not fit its input"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.2.bias": np.full_like(t["layers.2.bias"], np.nan)}),
     "layers.2.bias contains NaN or infinite values"),
    (lambda d, s, t: rewrite(d, spec={**s, "layers": [*s["layers"][:1], {"kind": "activation", "name": "swish2"},
                                                      *s["layers"][2:]]}), "unknown activation 'swish2'"),
    (lambda d, s, t: rewrite(d, spec={**s, "output": {"kind": "image", "height": 14, "width": 14}}),
     "the decoder's output [784] is not the image its spec describes"),
], ids=["garbage", "truncated", "no-marker", "bad-json", "no-layers", "latent-size", "output", "unknown-layer",
        "missing-tensor", "wrong-shape", "nan", "activation", "output-size"])
def test_a_malformed_export_is_refused_in_one_sentence(small_export, break_it, message):
    export = read_decoder_export(small_export)
    broken = break_it(small_export, export.spec, export.tensors)
    with pytest.raises(ExportError) as caught:
        read_decoder_export(broken)
    text = str(caught.value)
    assert message in text and "\n" not in text and "/" not in text.replace("1 to 64", "")
