"""The decoder export for the browser: round trip, the NumPy reference against vae_core.decode,
float16 and int8 weights, conditional decoders, the version check, and malformed exports refused
with one sentence."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save as np_save

import vae_core as vc
from vae_core.decoder_export import (FORMAT, FORMAT_VERSION, ExportError, dequantize_int8, export_decoder,
                                     quantize_int8, read_decoder_export, run_decoder_export)
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
    with pytest.raises(ExportError, match=r"decoder export version '3' is not supported \(this reader knows "
                                          r"versions 1 and 2\)"):
        read_decoder_export(rewrite(small_export, version="3"))


def refusal(export_bytes: bytes, break_it) -> str:
    """What read_decoder_export says of ``export_bytes`` broken by ``break_it(data, spec, tensors)``."""
    export = read_decoder_export(export_bytes)
    with pytest.raises(ExportError) as caught:
        read_decoder_export(break_it(export_bytes, export.spec, export.tensors))
    return str(caught.value)


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
    text = refusal(small_export, break_it)
    assert message in text and "\n" not in text and "/" not in text.replace("1 to 64", "")


# --- float16 and int8 weights ------------------------------------------------------------------

def plane_grid(ckpt, n: int = 41) -> np.ndarray:
    """An n x n grid over the plane's extent (as the app and the room page draw it): float32 [n*n, 2]."""
    extent = vc.latent_extent(ckpt.latents.z_mean)
    axis = np.linspace(-extent, extent, n)
    return np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2).astype(np.float32)


def pearson(images, reference) -> np.ndarray:
    """Per-image Pearson correlation of two stacks of images."""
    a = images.reshape(len(images), -1).astype(np.float64)
    b = reference.reshape(len(reference), -1).astype(np.float64)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))


def header(data: bytes) -> dict:
    """The JSON header of safetensors bytes."""
    return json.loads(data[8:8 + int.from_bytes(data[:8], "little")])


def stored_dtypes(data: bytes) -> dict[str, str]:
    return {k: v["dtype"] for k, v in header(data).items() if k != "__metadata__"}


# The float32 exports' bytes before storage kinds existed: a version-1 file stays what it was, so the
# app's content-addressed copies (and browsers' caches of them) stay valid.
FLOAT32_SHA256 = {"mnist": "b88e40a53ac62bb45723b1eaa17f16868b669995deceef98ec99fa81e902fd6c",
                  "fashion-mnist": "dc1dd8c884ed25d84738a76be13bcf897319db72957826b3cafe41ac4d720e7c"}


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_the_shipped_decoders_in_float16_and_int8_decode_as_vae_core_decode(dataset, record_property):
    ckpt = vc.load_checkpoint(f"pretrained/{dataset}.safetensors")
    z = plane_grid(ckpt)
    reference = vc.decode(ckpt.model, z)
    float32 = export_decoder(ckpt)
    assert hashlib.sha256(float32).hexdigest() == FLOAT32_SHA256[dataset]
    assert header(float32)["__metadata__"]["version"] == "1"
    assert read_decoder_export(float32).weights_kind == "float32"
    # measured: min r 0.99999 (float16), 0.9990 / 0.9987 (int8); 1,205,576 and 614,696 bytes
    for weights, max_bytes in (("float16", 1_206_000), ("int8", 615_000)):
        data = export_decoder(ckpt, weights=weights)
        export = read_decoder_export(data)
        assert export.weights_kind == weights
        r = pearson(run_decoder_export(export, z), reference)
        record_property(f"{weights} min r", round(float(r.min()), 5))
        record_property(f"{weights} bytes", len(data))
        assert len(r) == 41 * 41 and r.min() >= 0.99, (weights, r.min())
        assert len(data) <= max_bytes


def test_int8_is_symmetric_per_output_channel():
    w = np.random.default_rng(0).normal(0, 1, (6, 40)).astype(np.float32) * np.arange(6, dtype=np.float32)[:, None]
    q, scale = quantize_int8(w)
    assert q.dtype == np.int8 and scale.dtype == np.float32 and scale.shape == (6,)
    assert scale[0] == 0 and not q[0].any()  # a row of zeros: scale 0, and 0 again after dequantizing
    assert (np.abs(q[1:]).max(1) == 127).all() and q.min() >= -127
    back = dequantize_int8(q, scale)
    assert back.dtype == np.float32 and (np.abs(back - w) <= scale[:, None] / 2 * (1 + 1e-6)).all()
    # a transposed convolution's output channels are its axis 1
    conv = np.random.default_rng(1).normal(0, 1, (3, 5, 4, 4)).astype(np.float32)
    q, scale = quantize_int8(conv, axis=1)
    assert scale.shape == (5,) and (np.abs(q).max(axis=(0, 2, 3)) == 127).all()
    assert np.allclose(dequantize_int8(q, scale, axis=1), conv, atol=float(scale.max()) / 2 + 1e-7)


def dequantized_model(model, export):
    """A copy of ``model`` whose decoder holds the export's float32 (dequantized) weights."""
    import copy

    twin = copy.deepcopy(model)
    weighted = [m for m in twin.decoder if hasattr(m, "weight")]
    layers = [layer for layer in export.spec["layers"] if "weight" in layer]
    assert len(weighted) == len(layers)
    with torch.no_grad():
        for module, layer in zip(weighted, layers):
            module.weight.copy_(torch.from_numpy(export.weight(layer)))
    return twin


@pytest.mark.parametrize("config", [VAEConfig(hidden=(32, 16)),
                                    VAEConfig(arch="conv", hidden=(4, 8, 16), activation="silu"),
                                    VAEConfig(hidden=(24,), num_classes=10)], ids=["mlp", "conv", "conditional"])
@pytest.mark.parametrize("weights", ["float16", "int8"])
def test_run_decoder_export_computes_with_the_dequantized_float32_weights(config, weights):
    """The NumPy reference is the model with its weights replaced by float32(q * scale) (or the
    float16 values): the very numbers the browser computes with."""
    model = build_model(config, seed=4)
    data = export_decoder(model, weights=weights)
    export = read_decoder_export(data)
    dtypes = stored_dtypes(data)
    weight_names = [layer["weight"] for layer in export.spec["layers"] if "weight" in layer]
    assert {dtypes[n] for n in weight_names} == {"I8" if weights == "int8" else "F16"}
    assert all(dtypes[layer["bias"]] == "F32" for layer in export.spec["layers"] if "bias" in layer)
    if weights == "int8":
        assert all(dtypes[layer["scale"]] == "F32" for layer in export.spec["layers"] if "weight" in layer)
    labels = np.arange(len(Z)) % 10 if config.num_classes else None
    ours = run_decoder_export(export, Z, labels)
    reference = vc.decode(dequantized_model(model, export), Z, labels=labels)
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1 and (ours == reference).mean() > 0.99


def test_a_conditional_decoder_takes_z_then_the_one_hot_class():
    model = build_model(VAEConfig(hidden=(24,), num_classes=10), seed=5)
    ckpt = vc.Checkpoint.from_model(model, dataset="mnist", classes=tuple("0123456789"))
    data = export_decoder(vc.load_checkpoint(vc.checkpoint_bytes(ckpt)))
    assert data == export_decoder(model)  # without torch, from the checkpoint's weights: the same bytes
    assert header(data)["__metadata__"]["version"] == "2"
    export = read_decoder_export(data)
    assert export.spec["condition"] == {"classes": 10} and export.classes == 10 and export.input_size == 12
    labels = np.arange(len(Z)) % 10
    ours = run_decoder_export(export, Z, labels)
    reference = vc.decode(model, Z, labels=labels)
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1 and (ours == reference).mean() > 0.99
    # what a browser feeds: [z1, z2, onehot(k)]
    assert np.array_equal(run_decoder_export(export, np.concatenate([Z, np.eye(10)[labels]], 1)), ours)
    with pytest.raises(ExportError, match=r"^a conditional decoder needs one class from 0 to 9 per point$"):
        run_decoder_export(export, Z[:2], [3, 10])
    with pytest.raises(ExportError, match="^this decoder takes no class$"):
        run_decoder_export(read_decoder_export(export_decoder(build_model(VAEConfig(hidden=(8,)), seed=0))), Z[:1], [1])


def test_an_unknown_weight_storage_is_refused():
    with pytest.raises(ExportError, match=r"^unknown weight storage 'int4'; choose one of: float32, float16, int8$"):
        export_decoder(build_model(VAEConfig(hidden=(8,)), seed=0), weights="int4")


@pytest.fixture(scope="module")
def int8_export() -> bytes:
    return export_decoder(build_model(VAEConfig(hidden=(8,)), seed=0), weights="int8")


@pytest.mark.parametrize("break_it, message", [
    (lambda d, s, t: rewrite(d, spec={**s, "layers": [{k: v for k, v in s["layers"][0].items() if k != "scale"},
                                                      *s["layers"][1:]]}),
     "layer 0 (linear) names no tensor for its scale"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.0.scale": t["layers.0.scale"][:3].copy()}),
     "layer 0 (linear): its scale has 3 values for 8 output channels"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.0.scale": np.full_like(t["layers.0.scale"], np.inf)}),
     "layer 0 (linear): layers.0.scale contains NaN or infinite values"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.2.weight": np.full_like(t["layers.2.weight"], -128)}),
     "layers.2.weight holds -128, outside the symmetric -127..127 of int8 weights"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.0.weight": t["layers.0.weight"].astype(np.int16)}),
     "layers.0.weight must be a float32, float16 or int8 array with 2 dimensions"),
    (lambda d, s, t: rewrite(d, version="1"), "layers.0.weight must be a float32 array with 2 dimensions"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.0.weight": dequantize_int8(t["layers.0.weight"],
                                                                                 t["layers.0.scale"])}),
     "layer 0 (linear) has a scale, but its weight is not int8"),
    (lambda d, s, t: rewrite(d, tensors={**t, "layers.0.weight": np.full(t["layers.0.weight"].shape, np.nan,
                                                                         np.float16)},
                             spec={**s, "layers": [{k: v for k, v in s["layers"][0].items() if k != "scale"},
                                                   *s["layers"][1:]]}),
     "layers.0.weight contains NaN or infinite values"),
    (lambda d, s, t: rewrite(d, spec={**s, "condition": {"classes": 10}}),
     "the decoder's layer 0 (linear) of shape [8, 2] does not fit its input [12]"),
    (lambda d, s, t: rewrite(d, spec={**s, "condition": {"classes": 1}}),
     'condition must be {"classes": C} with C a whole number from 2 to 100'),
    (lambda d, s, t: rewrite(d, spec={**s, "condition": [10]}), 'condition must be {"classes": C}'),
    (lambda d, s, t: rewrite(d, spec={**s, "condition": {"classes": 10, "extra": 1}}), 'condition must be'),
], ids=["no-scale", "scale-length", "scale-inf", "minus-128", "int16", "int8-in-version-1", "scale-on-float",
        "float16-nan", "condition-misfit", "condition-1", "condition-list", "condition-extra"])
def test_a_malformed_quantized_or_conditional_export_is_refused_in_one_sentence(int8_export, break_it, message):
    text = refusal(int8_export, break_it)
    assert message.replace("the decoder's ", "") in text and "\n" not in text


def test_a_version_1_export_cannot_hold_a_condition():
    model = build_model(VAEConfig(hidden=(8,), num_classes=10), seed=0)
    data = export_decoder(model)
    with pytest.raises(ExportError, match=r"^a version-1 decoder export cannot have a condition \(a conditional "
                                          r"decoder is version 2\)$"):
        read_decoder_export(rewrite(data, version="1"))
