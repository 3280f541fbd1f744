"""Checkpoints: one safetensors file with the weights, the test-set latents and JSON metadata.

safetensors holds only raw tensors and a JSON header, so loading a file can never run
code (a pickle can). Before any tensor is materialised the header is checked against
the model its config describes: keys, shapes, dtypes, sizes; then every value must be
finite. Reading and checking need NumPy only: the torch model is built when it is first
used (``Checkpoint.model``), so a checkpoint's latents and decoder are at hand without torch. Saving writes a temporary file and renames it, so a crash or a full disk never
leaves a half-written checkpoint under the final name.
"""

from __future__ import annotations

import errno
import importlib.metadata
import json
import os
import platform
import struct
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as np_load
from safetensors.numpy import save as np_save

from .config import VAEConfig, parameter_shapes
from .errors import CheckpointError, ConfigError, VAEError

if TYPE_CHECKING:  # torch is imported only when a checkpoint's model is first used
    from .model import VAE

FORMAT = "vae-explorer-checkpoint"
FORMAT_VERSION = "1"
MAX_BYTES = 256 * 1024 * 1024  # far above any model here; guards memory against hostile files
# The largest file the app takes from a visitor (checkpoint or image): Streamlit enforces it as
# server.maxUploadSize in .streamlit/config.toml, which must say the same number.
MAX_UPLOAD_MB = 50
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_LATENTS = 1_000_000
MAX_CLASSES, MAX_CLASS_NAME = 1000, 100  # MNIST has 10; a page draws one button per class
LATENT_KEYS = ("z_mean", "z_logvar", "labels")
SCORE_KEYS = ("neg_elbo", "recon_error")  # optional, together

# Magic numbers of the files people most often mistake for a checkpoint.
_FOREIGN = [
    (b"PK\x03\x04", "a zip archive, such as a PyTorch .pt/.pth file (those contain pickled code and are never opened here)"),
    (b"\x80", "a Python pickle (pickles can run code and are never opened here)"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file, such as a Keras model"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"GGUF", "a GGUF model file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
]


@dataclass
class Latents:
    """The test set's codes, so the app can draw its scatter without the dataset."""

    z_mean: np.ndarray  # float32 [N, latent_dim]
    z_logvar: np.ndarray  # float32 [N, latent_dim]
    labels: np.ndarray  # int64 [N]
    # Optional per-image scores (typicality.score_images), so the anomaly view and "how typical
    # is my digit" work without the dataset; older checkpoints have none.
    neg_elbo: np.ndarray | None = None  # float32 [N]
    recon_error: np.ndarray | None = None  # float32 [N]


@dataclass
class Checkpoint:
    config: VAEConfig
    weights: dict[str, np.ndarray]  # the model's state dict as float32 arrays (config.parameter_shapes)
    dataset: str
    classes: tuple[str, ...]
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    train_config: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    latents: Latents | None = None
    device: str = "cpu"  # where the model is built
    _model: VAE | None = field(default=None, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_model(cls, model: VAE, **fields) -> "Checkpoint":
        """A checkpoint of a model in memory (on the CPU its weights are views of the model's)."""
        weights = {k: v.detach().to("cpu").float().numpy() for k, v in model.state_dict().items()}
        return cls(config=model.config, weights=weights, device=str(next(model.parameters()).device),
                   _model=model, **fields)

    @property
    def model(self) -> VAE:
        """The torch model in eval mode, built from the weights on first use (one per checkpoint,
        whichever thread asks first)."""
        with self._lock:
            if self._model is None:
                import torch

                from .model import VAE

                model = VAE(self.config)
                model.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights.items()})
                self._model = model.to(self.device).eval()
                if self.device == "cpu":  # one copy of the weights: the arrays become views of the model's
                    self.weights = {k: v.numpy() for k, v in self._model.state_dict().items()}
            return self._model


def library_versions() -> dict[str, str]:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return {"python": platform.python_version(), "torch": version("torch"), "numpy": np.__version__,
            "safetensors": version("safetensors")}


def checkpoint_bytes(ckpt: Checkpoint) -> bytes:
    """The checkpoint file's content (for saving, or for a download button)."""
    tensors = {f"model.{k}": np.ascontiguousarray(v, np.float32) for k, v in ckpt.weights.items()}
    if ckpt.latents is not None:
        tensors["latents.z_mean"] = np.ascontiguousarray(ckpt.latents.z_mean, np.float32)
        tensors["latents.z_logvar"] = np.ascontiguousarray(ckpt.latents.z_logvar, np.float32)
        tensors["latents.labels"] = np.ascontiguousarray(ckpt.latents.labels, np.int64)
        for key in SCORE_KEYS:
            if getattr(ckpt.latents, key) is not None:
                tensors[f"latents.{key}"] = np.ascontiguousarray(getattr(ckpt.latents, key), np.float32)
    metadata = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "config": json.dumps(ckpt.config.to_dict()),
        "dataset": ckpt.dataset, "classes": json.dumps(list(ckpt.classes)),
        "metrics": json.dumps(ckpt.metrics), "history": json.dumps(ckpt.history),
        "train_config": json.dumps(ckpt.train_config),
        "versions": json.dumps(ckpt.versions or library_versions()),
    }
    return np_save(tensors, metadata)


def save_checkpoint(ckpt: Checkpoint, path: str | os.PathLike) -> Path:
    """Write atomically: a temporary file in the same folder, fsync, then rename."""
    path = Path(path)
    data = checkpoint_bytes(ckpt)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise CheckpointError(f"cannot write {path}: {_reason(e)}; nothing was written under that name") from e
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _reason(e: OSError) -> str:
    """A readable cause for an OSError, even one raised with only an error number."""
    code = e.errno if e.errno is not None else (e.args[0] if len(e.args) == 1 and isinstance(e.args[0], int) else None)
    if code == errno.ENOSPC:
        return "the disk is full"
    return e.strerror or (os.strerror(code) if code is not None else str(e) or type(e).__name__)


def _read(source: str | os.PathLike | bytes, name: str | None = None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "the uploaded file"
    path = Path(source)
    data = read_file(path, MAX_BYTES, "a checkpoint file", f"is larger than any checkpoint ({MAX_BYTES:,} at most)",
                     CheckpointError, name)
    return data, name or str(path)


def safetensors_metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors file's bytes ({} when it has none); ValueError when the
    header is not JSON (safetensors' own readers give no metadata from bytes)."""
    header = json.loads(data[8:8 + int.from_bytes(data[:8], "little")])
    return (header.get("__metadata__") if isinstance(header, dict) else None) or {}


def read_file(path: str | os.PathLike, max_bytes: int, kind: str, too_large: str, error: type[VAEError],
              name: str | None = None) -> bytes:
    """The bytes of a file a user named, refused unread when over ``max_bytes``. Every failure
    is one ``error`` sentence: "<path>: <size> bytes <too_large>", "<path>: is a folder, not <kind>", ...,
    where ``name`` replaces the path when given (a server's own file, whose path a visitor must not see)."""
    path = Path(path)
    said = name or path
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{said}: {size:,} bytes {too_large}")
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{said}: no such file") from None
    except IsADirectoryError:
        raise error(f"{said}: is a folder, not {kind}") from None
    except OSError as e:
        raise error(f"{said}: cannot be read ({_reason(e)})") from e
    except ValueError:  # e.g. a NUL byte in the path
        raise error(f"{name or repr(str(path))} is not a valid file path") from None


def _header(data: bytes, name: str) -> dict:
    """Parse and sanity-check the safetensors header without touching tensor data."""
    if not data:
        raise CheckpointError(f"{name} is empty (0 bytes); it is not a checkpoint")
    if len(data) > MAX_BYTES:
        raise CheckpointError(f"{name}: {len(data):,} bytes is larger than any checkpoint ({MAX_BYTES:,} at most)")
    # A safetensors header length can begin with a pickle's 0x80 (1 file in 256): test the layout first.
    fits = len(data) > 8 and 8 + struct.unpack("<Q", data[:8])[0] < len(data) and data[8:9] == b"{"
    for magic, what in _FOREIGN:
        if data.startswith(magic) and not fits:
            raise CheckpointError(f"{name} is {what}, not a VAE Explorer checkpoint (.safetensors)")
    if len(data) < 8:
        raise CheckpointError(f"{name} is not a checkpoint: it is too short ({len(data)} bytes)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        raise CheckpointError(f"{name} is not a VAE Explorer checkpoint, or it is truncated "
                              "(its header does not fit in the file)")
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, RecursionError):  # undecodable or invalid JSON, or absurdly deep nesting
        raise CheckpointError(f"{name} is not a VAE Explorer checkpoint (no safetensors header)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} is not a VAE Explorer checkpoint (malformed header)")
    body = len(data) - 8 - n
    for key, info in header.items():
        if key == "__metadata__":
            continue
        offsets = info.get("data_offsets") if isinstance(info, dict) else None
        shape = info.get("shape") if isinstance(info, dict) else None
        if not (_ints(offsets) and len(offsets) == 2 and offsets[0] <= offsets[1]
                and _ints(shape) and isinstance(info.get("dtype"), str)):
            raise CheckpointError(f"{name} is damaged: the header entry of tensor {key!r} is malformed")
        if offsets[1] > body:
            raise CheckpointError(f"{name} is truncated or damaged: tensor {key!r} points past the end of the file")
    return header


def _ints(value) -> bool:
    """A list of non-negative integers (offsets or a shape in a safetensors header)."""
    return isinstance(value, list) and all(type(v) is int and v >= 0 for v in value)


def _meta_json(meta: dict, key: str, name: str, kind: type):
    try:
        value = json.loads(meta[key])
    except KeyError:
        raise CheckpointError(f"{name}: the metadata has no {key!r}; it was not written by VAE Explorer") from None
    except (TypeError, ValueError, RecursionError):
        raise CheckpointError(f"{name}: the metadata field {key!r} is not valid JSON") from None
    if not isinstance(value, kind):
        raise CheckpointError(f"{name}: the metadata field {key!r} should be a {kind.__name__}")
    return value


def load_checkpoint(source: str | os.PathLike | bytes, device: str = "cpu", name: str | None = None) -> Checkpoint:
    """Load and validate a checkpoint from a path or from bytes (an upload). ``name`` is what
    messages call it (by default the path, or "the uploaded file" for bytes); it is never used as a path. Its model is
    built on ``device`` when first used.

    Raises :class:`CheckpointError` with one clear sentence for anything that is not a
    sound checkpoint of this project; never unpickles anything.
    """
    data, name = _read(source, name)
    header = _header(data, name)
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{name} is a safetensors file but not a VAE Explorer checkpoint (no '{FORMAT}' marker)")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{name} uses checkpoint format {meta.get('format_version')!r}; "
                              f"this version reads format {FORMAT_VERSION}")
    try:
        config = VAEConfig.from_dict(_meta_json(meta, "config", name, dict))
    except ConfigError as e:
        raise CheckpointError(f"{name}: {e}") from None
    classes = _meta_json(meta, "classes", name, list)
    if not 0 < len(classes) <= MAX_CLASSES or not all(isinstance(c, str) and len(c) <= MAX_CLASS_NAME
                                                      for c in classes):
        raise CheckpointError(f"{name}: the class names are malformed (1 to {MAX_CLASSES} names of at most "
                              f"{MAX_CLASS_NAME} characters)")
    if config.num_classes and config.num_classes != len(classes):
        raise CheckpointError(f"{name}: a conditional model of {config.num_classes} classes, but it names "
                              f"{len(classes)}")

    # Compare the header with the tensors the config implies, before loading any data.
    expected = parameter_shapes(config)
    stored = {k[len("model."):]: v for k, v in header.items() if k.startswith("model.")}
    missing, extra = sorted(set(expected) - set(stored)), sorted(set(stored) - set(expected))
    if missing or extra:
        detail = (f"missing {', '.join(missing[:3])}" if missing else "") + \
                 ("; " if missing and extra else "") + (f"unexpected {', '.join(extra[:3])}" if extra else "")
        raise CheckpointError(f"{name}: the weights do not match the {config.arch} architecture its config "
                              f"describes ({detail})")
    for key, shape in expected.items():
        info = stored[key]
        if info.get("dtype") != "F32" or list(info.get("shape", [])) != list(shape):
            raise CheckpointError(f"{name}: weight {key!r} is {info.get('dtype')} {info.get('shape')}, "
                                  f"expected F32 {list(shape)} for this architecture")
    latent_keys = {k for k in header if k.startswith("latents.")}
    if latent_keys - {f"latents.{k}" for k in LATENT_KEYS + SCORE_KEYS}:
        raise CheckpointError(f"{name}: unexpected tensors {sorted(latent_keys)}")
    for key in header:
        if key != "__metadata__" and not key.startswith(("model.", "latents.")):
            raise CheckpointError(f"{name}: unexpected tensor {key!r}")

    try:
        tensors = np_load(data)
    except (SafetensorError, RuntimeError, ValueError) as e:
        raise CheckpointError(f"{name} is damaged: {e}") from None
    weights = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    bad = [k for k, v in weights.items() if not np.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{name}: weight {bad[0]!r} contains NaN or infinite values; the model is broken")

    latents = _latents(tensors, config, name) if latent_keys else None
    if latents is not None and len(latents.labels) and latents.labels.max() >= len(classes):
        raise CheckpointError(f"{name}: a latent label is out of range for {len(classes)} classes")
    return Checkpoint(
        config=config, weights=weights, dataset=str(meta.get("dataset", "unknown")), classes=tuple(classes),
        metrics=_meta_json(meta, "metrics", name, dict), history=_meta_json(meta, "history", name, list),
        train_config=_meta_json(meta, "train_config", name, dict),
        versions=_meta_json(meta, "versions", name, dict), latents=latents, device=str(device))


def _latents(tensors: dict[str, np.ndarray], config: VAEConfig, name: str) -> Latents:
    try:
        z_mean, z_logvar, labels = (tensors[f"latents.{k}"] for k in ("z_mean", "z_logvar", "labels"))
    except KeyError:
        raise CheckpointError(f"{name}: the latents need z_mean, z_logvar and labels together") from None
    n = labels.shape[0] if labels.ndim == 1 else -1
    ok = (z_mean.dtype == np.float32 and z_logvar.dtype == np.float32 and labels.dtype == np.int64
          and 0 <= n <= MAX_LATENTS and list(z_mean.shape) == [n, config.latent_dim]
          and list(z_logvar.shape) == [n, config.latent_dim])
    if not ok:
        raise CheckpointError(f"{name}: the latents have the wrong shapes or types "
                              f"(expected float32 [N, {config.latent_dim}] twice and int64 [N])")
    if not (np.isfinite(z_mean).all() and np.isfinite(z_logvar).all()) or (n and labels.min() < 0):
        raise CheckpointError(f"{name}: the latents contain NaN, infinite or negative-label values")
    scores = [tensors.get(f"latents.{k}") for k in SCORE_KEYS]
    if any(s is not None for s in scores):
        if not all(s is not None and s.dtype == np.float32 and list(s.shape) == [n] for s in scores):
            raise CheckpointError(f"{name}: the per-image scores need {' and '.join(SCORE_KEYS)} together, "
                                  f"each float32 [{n}] like the labels")
        if not all(np.isfinite(s).all() for s in scores):
            raise CheckpointError(f"{name}: the per-image scores contain NaN or infinite values")
    else:
        scores = [None] * len(SCORE_KEYS)
    return Latents(z_mean, z_logvar, labels, *scores)
