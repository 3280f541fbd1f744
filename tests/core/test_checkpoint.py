"""Checkpoints: exact round trips, no unpickling ever, every hostile or broken file refused
with a CheckpointError that says what is wrong, and saves that are atomic."""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import struct
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import save as st_save

import vae_core.checkpoint as ckpt_mod
import vae_core.model
from vae_core.checkpoint import FORMAT, Checkpoint, Latents, checkpoint_bytes, load_checkpoint, save_checkpoint
from vae_core.config import parameter_shapes
from vae_core.errors import CheckpointError
from vae_core.model import VAEConfig, build_model

from helpers.data import FUZZ, ROOT
from helpers.safetensors_bytes import join, split

CLASSES = tuple(str(i) for i in range(10))


def make_checkpoint(arch: str = "mlp", hidden=(16,), latent_dim: int = 2, latents: bool = True, n: int = 12,
                    seed: int = 0) -> Checkpoint:
    config = VAEConfig(arch=arch, hidden=hidden, latent_dim=latent_dim, activation="silu", dropout=0.1)
    rng = np.random.default_rng(seed)
    lat = Latents(z_mean=rng.normal(size=(n, latent_dim)).astype(np.float32),
                  z_logvar=rng.normal(-2, 0.5, size=(n, latent_dim)).astype(np.float32),
                  labels=rng.integers(0, len(CLASSES), n).astype(np.int64)) if latents else None
    return Checkpoint.from_model(
        build_model(config, seed=seed), dataset="mnist", classes=CLASSES,
        metrics={"test_nelbo": 101.25, "knn_accuracy": 0.875, "nested": {"per_class": [1.5, 2.0]}},
        history=[{"epoch": 1, "loss": 180.5, "kl": 4.25}, {"epoch": 2, "loss": 150.0, "kl": 5.5}],
        train_config={"epochs": 2, "lr": 0.001, "beta": 1.0, "seed": seed},
        versions={"python": "3.11.7", "torch": "2.13.0", "note": "ünïcode ✓"}, latents=lat)


# A tiny valid checkpoint, built once: the raw material of the hostile files below.
VALID = checkpoint_bytes(make_checkpoint(hidden=(4,), n=6))


def with_metadata(data: bytes, **changes) -> bytes:
    """Change metadata fields (None removes one), keeping the tensors as they are."""
    header, body = split(data)
    for key, value in changes.items():
        if value is None:
            header["__metadata__"].pop(key, None)
        else:
            header["__metadata__"][key] = value
    return join(header, body)


def with_config(data: bytes, **changes) -> bytes:
    header, _ = split(data)
    config = json.loads(header["__metadata__"]["config"])
    config.update(changes)
    return with_metadata(data, config=json.dumps(config))


def refused(source, *fragments: str) -> str:
    """Load must raise CheckpointError (nothing else), with one line naming the problem."""
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(source)
    message = str(info.value)
    assert message and "\n" not in message, message
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in {message!r}"
    return message


def assert_same_checkpoint(a: Checkpoint, b: Checkpoint) -> None:
    assert b.config == a.config
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert list(sb) == list(sa)
    for key in sa:
        assert sb[key].dtype == torch.float32
        assert torch.equal(sa[key], sb[key]), key
    assert (b.dataset, b.classes, b.metrics, b.history, b.train_config, b.versions) == \
           (a.dataset, a.classes, a.metrics, a.history, a.train_config, a.versions)
    if a.latents is None:
        assert b.latents is None
    else:
        for field, dtype in (("z_mean", np.float32), ("z_logvar", np.float32), ("labels", np.int64)):
            got, want = getattr(b.latents, field), getattr(a.latents, field)
            assert got.dtype == dtype and got.shape == want.shape
            assert np.array_equal(got, want), field


# --- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("arch,hidden,latent_dim", [("mlp", (16,), 2), ("mlp", (16, 8), 3), ("conv", (4, 8, 16), 2)])
def test_round_trip_through_a_file_and_through_bytes_is_exact(tmp_path, arch, hidden, latent_dim):
    original = make_checkpoint(arch, hidden, latent_dim)
    path = save_checkpoint(original, tmp_path / "model.safetensors")
    assert path == tmp_path / "model.safetensors" and path.is_file()
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]  # no temporary file left behind
    from_file = load_checkpoint(path)
    from_bytes = load_checkpoint(checkpoint_bytes(original))
    for loaded in (from_file, from_bytes):
        assert_same_checkpoint(original, loaded)
        assert not loaded.model.training  # ready for inference
        z = torch.randn(5, latent_dim, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            assert torch.equal(loaded.model.decode(z), original.model.eval().decode(z))
    # The file holds what the download holds (safetensors may order the JSON header differently).
    assert split(path.read_bytes()) == split(checkpoint_bytes(original))


def test_round_trip_without_latents(tmp_path):
    original = make_checkpoint(latents=False)
    loaded = load_checkpoint(save_checkpoint(original, tmp_path / "a.safetensors"))
    assert loaded.latents is None
    assert_same_checkpoint(original, loaded)
    assert load_checkpoint(bytearray(checkpoint_bytes(original))).latents is None
    assert load_checkpoint(memoryview(checkpoint_bytes(original))).latents is None


def test_empty_latents_and_default_versions_round_trip():
    original = make_checkpoint(n=0)
    original.versions = {}
    loaded = load_checkpoint(checkpoint_bytes(original))
    assert loaded.latents.z_mean.shape == (0, 2) and loaded.latents.labels.shape == (0,)
    assert {"python", "torch", "numpy", "safetensors"} <= set(loaded.versions)  # filled in on save
    assert loaded.versions["torch"] == torch.__version__


def test_save_overwrites_and_creates_missing_folders(tmp_path):
    path = tmp_path / "new" / "deeper" / "m.safetensors"
    save_checkpoint(make_checkpoint(seed=0), path)
    save_checkpoint(make_checkpoint(seed=1), path)
    assert_same_checkpoint(make_checkpoint(seed=1), load_checkpoint(path))
    assert os.listdir(path.parent) == ["m.safetensors"]


# --- never unpickle -----------------------------------------------------------------------------

class Payload:
    """Unpickling this creates ``marker``: proof that a loader ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def no_pickle_loading(monkeypatch):
    """Make any attempt to unpickle through the usual entry points fail loudly too."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the checkpoint loader tried to unpickle")

    for module, name in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(module, name, forbidden)


def test_the_pickle_payload_is_live(tmp_path):
    """The hostile files below really would run code if something unpickled them."""
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(Payload(proof)))
    assert proof.exists()
    proof.unlink()
    torch.save(Payload(proof), tmp_path / "p.pt")
    torch.load(tmp_path / "p.pt", weights_only=False)
    assert proof.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickle_is_never_unpickled(tmp_path, no_pickle_loading, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Payload(marker), protocol=protocol))
    message = refused(path, str(path), "not a VAE Explorer checkpoint")
    if protocol >= 2:  # these start with the PROTO opcode, recognised as a pickle by name
        assert "pickle" in message
    refused(path.read_bytes(), "the uploaded file")
    assert not marker.exists()


@pytest.mark.parametrize("zipfile", [True, False])
def test_a_torch_save_file_is_never_unpickled(tmp_path, no_pickle_loading, zipfile):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"state_dict": Payload(marker)}, path, _use_new_zipfile_serialization=zipfile)
    message = refused(path, str(path), "never opened here")
    assert ("PyTorch .pt" in message) if zipfile else ("pickle" in message)
    refused(path.read_bytes(), "never opened here")
    assert not marker.exists()


def test_a_pickle_renamed_to_safetensors_is_never_unpickled(tmp_path, no_pickle_loading):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(Payload(marker)))
    refused(path, "pickle")
    assert not marker.exists()


# --- hostile and broken files -------------------------------------------------------------------

def test_zero_bytes(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    refused(path, "empty", str(path))
    refused(b"", "empty")


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("size", [1, 7, 9, 100, 4096])
def test_random_bytes(seed, size):
    data = np.random.default_rng(seed).bytes(size)
    message = refused(data, "the uploaded file", "checkpoint")
    assert "not a" in message or "truncated" in message


def test_random_bytes_with_a_plausible_header_length():
    rng = np.random.default_rng(0)
    for _ in range(20):
        junk = rng.bytes(200)
        refused(struct.pack("<Q", 100) + junk, "not a VAE Explorer checkpoint")


def _header_end(data: bytes) -> int:
    return 8 + struct.unpack("<Q", data[:8])[0]


@pytest.mark.parametrize("n", [1, 4, 7, 8, 9, 100, "header-1", "header", "header+1", "header+10", "header+1000",
                               "end-4", "end-1"])
def test_truncated_checkpoint_names_the_problem(n):
    end = _header_end(VALID)
    cut = {"header-1": end - 1, "header": end, "header+1": end + 1, "header+10": end + 10,
           "header+1000": end + 1000, "end-4": len(VALID) - 4, "end-1": len(VALID) - 1}.get(n, n)
    message = refused(VALID[:cut], "the uploaded file")
    assert "truncated" in message or "too short" in message, message


def test_weights_of_another_shape(tmp_path):
    """Weights of a (32,) model under the metadata of a (16,) model."""
    small = checkpoint_bytes(make_checkpoint(hidden=(16,), latents=False))
    big = build_model(VAEConfig(hidden=(32,), activation="silu", dropout=0.1), seed=0)
    header, _ = split(small)
    forged = st_save({f"model.{k}": v.contiguous() for k, v in big.state_dict().items()}, header["__metadata__"])
    refused(forged, "is F32 [32, 784], expected F32 [16, 784] for this architecture")
    path = tmp_path / "forged.safetensors"
    path.write_bytes(forged)
    refused(path, str(path), "for this architecture")


def test_weights_of_another_architecture():
    mlp = checkpoint_bytes(make_checkpoint("mlp", (16,), latents=False))
    conv = build_model(VAEConfig(arch="conv", hidden=(4, 8, 16)), seed=0)
    forged = st_save({f"model.{k}": v.contiguous() for k, v in conv.state_dict().items()},
                     split(mlp)[0]["__metadata__"])
    refused(forged, "do not match the mlp architecture")


def test_latent_size_that_does_not_match_the_weights():
    refused(with_config(VALID, latent_dim=3), "expected F32")


def test_missing_and_extra_weights():
    model = build_model(VAEConfig(hidden=(4,), activation="silu", dropout=0.1), seed=0)
    state = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    meta = split(VALID)[0]["__metadata__"]
    missing = dict(state)
    missing.pop("model.to_stats.bias")
    refused(st_save(missing, meta), "missing to_stats.bias")
    refused(st_save({**state, "model.extra.weight": torch.zeros(2)}, meta), "unexpected extra.weight")
    refused(st_save({**state, "optimizer.state": torch.zeros(2)}, meta), "unexpected tensor 'optimizer.state'")
    refused(st_save({**state, "latents.colour": torch.zeros(2)}, meta), "unexpected tensors")


def test_weights_stored_as_another_dtype():
    model = build_model(VAEConfig(hidden=(4,), activation="silu", dropout=0.1), seed=0)
    state = {f"model.{k}": v.double().contiguous() for k, v in model.state_dict().items()}
    refused(st_save(state, split(VALID)[0]["__metadata__"]), "is F64", "expected F32")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("arch,hidden", [("mlp", (16,)), ("conv", (4, 8, 16))])
def test_nan_and_inf_weights(value, arch, hidden):
    ckpt = make_checkpoint(arch, hidden)
    with torch.no_grad():
        ckpt.model.to_stats.weight[1, 2] = value
    refused(checkpoint_bytes(ckpt), "'to_stats.weight'", "NaN or infinite")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="JPEG")
    return buffer.getvalue()


def _npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 4), np.float32))
    return buffer.getvalue()


@pytest.mark.parametrize("make,what", [
    (_npy, "NumPy .npy"),
    (lambda: b"\x89HDF\r\n\x1a\n" + bytes(2000), "HDF5"),
    (_png, "PNG image"),
    (_jpeg, "JPEG image"),
    (lambda: b"GGUF\x03\x00\x00\x00" + bytes(100), "GGUF"),
    (lambda: b"PK\x03\x04" + bytes(100), "zip archive"),
])
def test_files_from_other_frameworks(tmp_path, make, what):
    path = tmp_path / "model.safetensors"
    path.write_bytes(make())
    refused(path, what, "not a VAE Explorer checkpoint")


def test_a_numpy_file_saved_with_np_save(tmp_path):
    np.save(tmp_path / "weights.npy", np.ones((784, 16), np.float32))
    refused(tmp_path / "weights.npy", "NumPy .npy")


@pytest.fixture
def no_tensor_loading(monkeypatch):
    """Refusals that must happen on the header alone: fail if tensor data is ever materialised."""
    def forbidden(*args, **kwargs):
        raise AssertionError("tensor data was loaded before the header was validated")

    monkeypatch.setattr(ckpt_mod, "np_load", forbidden)


def test_a_header_declaring_an_enormous_tensor(no_tensor_loading):
    header, body = split(VALID)
    header["latents.z_mean"] = {"dtype": "F32", "shape": [10 ** 12], "data_offsets": [0, 4 * 10 ** 12]}
    start = time.perf_counter()
    refused(join(header, body), "'latents.z_mean'", "points past the end of the file")
    header, body = split(VALID)
    header["model.to_stats.weight"] = {"dtype": "F32", "shape": [10 ** 6, 10 ** 6], "data_offsets": [0, 4 * 10 ** 12]}
    refused(join(header, body), "'model.to_stats.weight'", "points past the end of the file")
    assert time.perf_counter() - start < 1.0


def test_an_enormous_tensor_whose_offsets_lie():
    """Offsets inside the file but a shape that needs 4 TB: safetensors' own check refuses it."""
    header, body = split(VALID)
    header["latents.z_mean"] = {"dtype": "F32", "shape": [10 ** 12], "data_offsets": [0, 8]}
    refused(join(header, body), "damaged")


@pytest.mark.parametrize("length", [2 ** 63, 2 ** 64 - 1, ckpt_mod.MAX_HEADER_BYTES + 1, 10 ** 6])
def test_an_enormous_header_length(no_tensor_loading, length):
    refused(struct.pack("<Q", length) + b'{"__metadata__": {}}', "its header does not fit in the file")


@pytest.mark.parametrize("hidden", [[10 ** 9], [4097], [10 ** 9, 10 ** 9, 10 ** 9]])
def test_a_gigantic_model_is_refused_before_any_allocation(monkeypatch, no_tensor_loading, hidden):
    planned = []
    monkeypatch.setattr(ckpt_mod, "parameter_shapes", lambda config: planned.append(config))
    start = time.perf_counter()
    refused(with_config(VALID, hidden=hidden), "hidden sizes", "out of range")
    assert time.perf_counter() - start < 1.0
    assert planned == []  # refused by the config alone, not even its shapes worked out


@pytest.mark.parametrize("hidden,expected", [([4096] * 8, "do not match the mlp architecture"),
                                             ([4096], "expected F32 [4096, 784]")])
def test_the_largest_allowed_models_are_checked_without_building_them(monkeypatch, no_tensor_loading, hidden,
                                                                      expected):
    """Configs within the limits (8 x 4096 units is a 0.5 GB model) over tiny weights: shapes compared, nothing built."""
    def no_model(*args, **kwargs):
        raise AssertionError("a model was built to check a checkpoint")

    monkeypatch.setattr(vae_core.model.VAE, "__init__", no_model)
    start = time.perf_counter()
    refused(with_config(VALID, hidden=hidden), expected)
    assert time.perf_counter() - start < 2.0


def test_the_shapes_a_checkpoint_must_hold_are_the_models_own():
    """config.parameter_shapes (what the reader checks, without torch) against the state dict of
    each architecture torch builds."""
    for config in [VAEConfig(), VAEConfig(arch="conv", hidden=(4, 8, 16)), VAEConfig(hidden=(24,), dropout=0.2),
                   VAEConfig(num_classes=10), VAEConfig(variational=False, arch="conv", hidden=(4, 8, 16), dropout=0.1)]:
        state = build_model(config).state_dict()
        assert parameter_shapes(config) == {k: tuple(v.shape) for k, v in state.items()}


def test_a_config_with_an_infinite_layer_size():
    refused(with_metadata(VALID, config=json.dumps({"hidden": [1e400]})), "too large")
    refused(with_metadata(VALID, config='{"hidden": [Infinity]}'), "too large")
    refused(with_metadata(VALID, config='{"hidden": [NaN]}'), "invalid model config")


def test_missing_metadata_and_wrong_format_marker():
    model = build_model(VAEConfig(hidden=(4,), activation="silu", dropout=0.1), seed=0)
    state = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    refused(st_save(state), f"no '{FORMAT}' marker")  # a plain safetensors file, e.g. from another project
    refused(st_save(state, {"format": "pt"}), f"no '{FORMAT}' marker")
    refused(with_metadata(VALID, format=None), f"no '{FORMAT}' marker")
    refused(with_metadata(VALID, format="vae-explorer"), f"no '{FORMAT}' marker")
    refused(with_metadata(VALID, format_version="2"), "format '2'", "reads format 1")
    refused(with_metadata(VALID, format_version=None), "format None")
    for field in ("config", "classes", "metrics", "history", "train_config", "versions"):
        refused(with_metadata(VALID, **{field: None}), f"no {field!r}", "not written by VAE Explorer")


@pytest.mark.parametrize("field,value,expected", [
    ("config", "{not json", "'config' is not valid JSON"),
    ("config", "", "'config' is not valid JSON"),
    ("config", "[1, 2]", "'config' should be a dict"),
    ("config", '{"arch": "rnn", "hidden": [4]}', "unknown architecture 'rnn'"),
    ("config", '{"hidden": [4], "layers": 3}', "unknown model config keys: layers"),
    ("config", '{"hidden": "wide"}', "invalid model config"),
    ("config", '{"hidden": [4], "latent_dim": 0}', "latent size"),
    ("config", '{"hidden": [4], "dropout": 1.5}', "dropout"),
    ("config", '{"hidden": [4], "activation": ["relu"]}', "unknown activation"),
    ("classes", "[]", "class names are malformed"),
    ("classes", "[1, 2, 3]", "class names are malformed"),
    ("classes", '"0123456789"', "'classes' should be a list"),
    ("metrics", '{"loss": 1.0', "'metrics' is not valid JSON"),
    ("metrics", "[1.0]", "'metrics' should be a dict"),
    ("history", "{}", "'history' should be a list"),
    ("train_config", "\x00", "'train_config' is not valid JSON"),
    ("versions", "[" * 100_000 + "]" * 100_000, "'versions' is not valid JSON"),
])
def test_malformed_json_in_metadata(field, value, expected):
    refused(with_metadata(VALID, **{field: value}), expected)


@pytest.mark.parametrize("header", [
    b"[1, 2, 3]",
    b'"just a string"',
    b"{not json",
    b"\xff\xfe\x00{}",
    b"[" * 100_000 + b"]" * 100_000,
])
def test_a_header_that_is_not_a_json_object(header):
    refused(struct.pack("<Q", len(header)) + header + bytes(16), "not a VAE Explorer checkpoint")


@pytest.mark.parametrize("entry", [
    {"dtype": "F32", "shape": [4], "data_offsets": ["0", "16"]},
    {"dtype": "F32", "shape": [4], "data_offsets": [0]},
    {"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]},
    {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]},
    {"dtype": "F32", "shape": [4], "data_offsets": [0.0, 16.0]},
    {"dtype": "F32", "shape": 4, "data_offsets": [0, 16]},
    {"dtype": "F32", "shape": None, "data_offsets": [0, 16]},
    {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]},
    {"dtype": "F32", "shape": [True], "data_offsets": [0, 16]},
    {"dtype": 32, "shape": [4], "data_offsets": [0, 16]},
    {"shape": [4], "data_offsets": [0, 16]},
    "F32",
    None,
])
def test_a_malformed_tensor_entry_in_the_header(entry):
    header, body = split(VALID)
    header["model.to_stats.bias"] = entry
    refused(join(header, body), "'model.to_stats.bias'", "malformed")


def test_an_unknown_dtype_in_the_header():
    header, body = split(VALID)
    header["model.to_stats.bias"]["dtype"] = "F33"
    refused(join(header, body), "is F33")
    header, body = split(VALID)
    header["latents.labels"]["dtype"] = "F33"
    refused(join(header, body), "damaged")


def _with_latents(z_mean, z_logvar, labels, latent_dim: int = 2) -> bytes:
    ckpt = make_checkpoint(hidden=(4,), latent_dim=latent_dim)
    ckpt.latents = Latents(z_mean, z_logvar, labels)
    return checkpoint_bytes(ckpt)


@pytest.mark.parametrize("z_mean,z_logvar,labels", [
    (np.zeros((5, 3)), np.zeros((5, 2)), np.zeros(5)),  # wrong latent size
    (np.zeros((5, 2)), np.zeros((4, 2)), np.zeros(5)),  # counts disagree
    (np.zeros((5, 2)), np.zeros((5, 2)), np.zeros(4)),
    (np.zeros((5, 2)), np.zeros((5, 2)), np.zeros((5, 1))),  # labels not 1-D
    (np.zeros(10), np.zeros((5, 2)), np.zeros(5)),
    (np.zeros((5, 2, 1)), np.zeros((5, 2)), np.zeros(5)),
])
def test_latents_with_wrong_shapes(z_mean, z_logvar, labels):
    refused(_with_latents(z_mean, z_logvar, labels), "latents have the wrong shapes or types", "[N, 2]")


def test_latents_with_wrong_types_or_a_scalar_label():
    meta = split(VALID)[0]["__metadata__"]
    model = build_model(VAEConfig(hidden=(4,), activation="silu", dropout=0.1), seed=0)
    state = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    good = {"latents.z_mean": torch.zeros(3, 2), "latents.z_logvar": torch.zeros(3, 2),
            "latents.labels": torch.zeros(3, dtype=torch.int64)}
    assert load_checkpoint(st_save({**state, **good}, meta)).latents.labels.shape == (3,)
    for key, bad in [("latents.labels", torch.tensor(3)), ("latents.labels", torch.zeros(3, dtype=torch.int32)),
                     ("latents.labels", torch.zeros(3)), ("latents.z_mean", torch.zeros(3, 2, dtype=torch.float64)),
                     ("latents.z_logvar", torch.zeros(3, 2, dtype=torch.float16))]:
        refused(st_save({**state, **good, key: bad}, meta), "wrong shapes or types")
    partial = {k: v for k, v in good.items() if k != "latents.z_logvar"}
    refused(st_save({**state, **partial}, meta), "need z_mean, z_logvar and labels together")


@pytest.mark.parametrize("field,value", [("z_mean", np.nan), ("z_mean", np.inf), ("z_logvar", -np.inf),
                                         ("z_logvar", np.nan), ("labels", -1)])
def test_latents_with_nan_or_negative_labels(field, value):
    arrays = {"z_mean": np.zeros((4, 2), np.float32), "z_logvar": np.zeros((4, 2), np.float32),
              "labels": np.arange(4, dtype=np.int64)}
    arrays[field][-1] = value
    refused(_with_latents(**arrays), "latents contain NaN, infinite or negative-label values")


def test_latent_label_beyond_the_classes():
    refused(_with_latents(np.zeros((2, 2)), np.zeros((2, 2)), np.array([0, 10])), "out of range for 10 classes")


def test_bad_paths(tmp_path):
    refused(tmp_path / "missing.safetensors", "no such file", str(tmp_path / "missing.safetensors"))
    refused(tmp_path, "is a folder")
    refused(str(tmp_path / "a\x00b.safetensors"), "not a valid file path")


def test_a_file_too_large_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:  # sparse: costs no disk
        f.truncate(ckpt_mod.MAX_BYTES + 1)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read a file that is too large"))
    refused(path, "larger than any checkpoint")
    monkeypatch.undo()
    refused(b"\x00" * (ckpt_mod.MAX_BYTES + 1), "larger than any checkpoint")


def test_the_upload_cap_is_the_one_streamlit_enforces():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == ckpt_mod.MAX_UPLOAD_MB  # MB, as Streamlit counts them
    assert ckpt_mod.MAX_BYTES >= ckpt_mod.MAX_UPLOAD_MB * 2**20  # an uploaded checkpoint is never refused as too large


# --- atomic saves -------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    """A folder holding one good checkpoint, and its bytes."""
    path = save_checkpoint(make_checkpoint(seed=0), tmp_path / "model.safetensors")
    return path, path.read_bytes()


def _assert_untouched(path: Path, before: bytes) -> None:
    assert os.listdir(path.parent) == [path.name], "a temporary file was left behind"
    assert path.read_bytes() == before
    assert_same_checkpoint(make_checkpoint(seed=0), load_checkpoint(path))


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failure_midway_leaves_the_previous_file_intact(monkeypatch, saved, failing):
    path, before = saved
    calls = []

    def fail(*args, **kwargs):
        calls.append(args)
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(make_checkpoint(seed=1), path)
    monkeypatch.undo()
    assert calls, f"os.{failing} was never called"
    message = str(info.value)
    assert str(path) in message and os.strerror(errno.EIO) in message and "nothing was written" in message
    _assert_untouched(path, before)


class _FullDisk:
    """Stands in for the os module inside vae_core.checkpoint: files write half their data, then ENOSPC."""

    def __init__(self, error: OSError) -> None:
        self.error = error
        self.written = 0

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, mode):
        disk, real = self, os.fdopen(fd, mode)

        class HalfWriter:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

            def write(self, data):
                disk.written = real.write(data[:len(data) // 2])
                real.flush()
                raise disk.error

            def __getattr__(self, name):
                return getattr(real, name)

        return HalfWriter()


@pytest.mark.parametrize("error", [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), OSError(errno.ENOSPC)],
                         ids=["errno-and-message", "errno-only"])
def test_a_full_disk(monkeypatch, saved, error):
    path, before = saved
    disk = _FullDisk(error)
    monkeypatch.setattr(ckpt_mod, "os", disk)
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(make_checkpoint(seed=1), path)
    monkeypatch.undo()
    assert disk.written > 1000  # it failed midway, after part of the file was on disk
    message = str(info.value)
    assert str(path) in message and "disk is full" in message and "nothing was written under that name" in message
    _assert_untouched(path, before)


def test_save_under_a_file_instead_of_a_folder(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"x")
    target = blocker / "sub" / "model.safetensors"
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(make_checkpoint(), target)
    assert str(target) in str(info.value) and "nothing was written" in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["not-a-folder"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
@pytest.mark.parametrize("target", ["/proc/nope/model.safetensors", "/proc/model.safetensors"])
def test_save_where_even_root_cannot_write(target):
    """/proc refuses new files and folders whoever asks: a parent that cannot be created or written."""
    with pytest.raises(CheckpointError) as info:
        save_checkpoint(make_checkpoint(), target)
    assert f"cannot write {target}:" in str(info.value) and "nothing was written" in str(info.value)
    assert not os.path.exists(target)


def test_save_onto_an_existing_folder(tmp_path):
    (tmp_path / "model.safetensors").mkdir()
    with pytest.raises(CheckpointError, match="cannot write .*model.safetensors"):
        save_checkpoint(make_checkpoint(), tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == ["model.safetensors"] and (tmp_path / "model.safetensors").is_dir()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_save_into_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(CheckpointError, match="Permission denied"):
            save_checkpoint(make_checkpoint(), folder / "model.safetensors")
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


# --- property: no damage escapes as anything but CheckpointError --------------------------------

HEADER_END = _header_end(VALID)
JSONISH = st.sampled_from(list(b'[]{}",:0123456789-.eE ntf'))
position = st.one_of(st.integers(0, HEADER_END + 16), st.integers(0, len(VALID) - 1))  # mostly the header
mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(0, 7)),
    st.tuples(st.just("set"), position, st.one_of(st.integers(0, 255), JSONISH)),
    st.tuples(st.just("truncate"), st.integers(0, len(VALID) - 1), st.just(0)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64), st.just(0)),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("delete"), position, st.integers(1, 16)),
)


def mutate(data: bytes, ops) -> bytes:
    d = bytearray(data)
    for op, a, b in ops:
        if op == "append":
            d += a
        elif not d:
            continue
        elif op == "flip":
            d[a % len(d)] ^= 1 << b
        elif op == "set":
            d[a % len(d)] = b
        elif op == "truncate":
            del d[a:]
        elif op == "insert":
            d[a:a] = b
        elif op == "delete":
            del d[a:a + b]
    return bytes(d)


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=4))
def test_damaged_bytes_raise_only_checkpoint_error(ops):
    data = mutate(VALID, ops)
    try:
        ckpt = load_checkpoint(data)
    except CheckpointError as e:
        assert str(e) and "\n" not in str(e)
        return
    # Whatever survives the damage is a sound checkpoint.
    for value in ckpt.model.state_dict().values():
        assert value.dtype == torch.float32 and torch.isfinite(value).all()
    if ckpt.latents is not None:
        n = len(ckpt.latents.labels)
        assert ckpt.latents.z_mean.shape == ckpt.latents.z_logvar.shape == (n, ckpt.config.latent_dim)
        assert np.isfinite(ckpt.latents.z_mean).all() and (ckpt.latents.labels >= 0).all()
        assert (ckpt.latents.labels < len(ckpt.classes)).all()


def test_a_name_given_for_a_path_replaces_the_path_in_every_message(tmp_path):
    """The app loads its shipped files by path but names them by file name: no server path in a sentence."""
    (tmp_path / "garbage.safetensors").write_bytes(b"\x00" * 64)
    for file, expected in (("gone.safetensors", "mnist.safetensors: no such file"),
                           ("garbage.safetensors", "mnist.safetensors is not a VAE Explorer checkpoint"),
                           ("", "mnist.safetensors: is a folder, not a checkpoint file")):
        with pytest.raises(CheckpointError) as e:
            load_checkpoint(tmp_path / file, name="mnist.safetensors")
        assert str(e.value).startswith(expected) and str(tmp_path) not in str(e.value)
