"""A model's decoder as plain arrays, for a decoder that runs somewhere else (the app's browser).

The export is one safetensors file: tensors (weights and biases, named ``layers.K.weight`` and
``layers.K.bias`` after the layer that uses them) and, in the header's metadata,

- ``format``: ``"vae-explorer-decoder"``; ``version``: ``"1"`` or ``"2"`` (see VERSIONS);
- ``spec``: JSON ``{"latent_dim": d, "output": ..., "layers": [...]}`` and, for a conditional
  decoder, ``"condition": {"classes": C}``, where ``layers`` is the decoder from input to
  output, each one of

  ============================  ====================================================================
  ``{"kind": "linear"}``        y = W x + b, with ``weight`` [out, in] and ``bias`` [out] (tensor names)
  ``{"kind": "activation"}``    ``name``: relu, gelu (exact, with erf), gelu_tanh, silu, tanh, elu
                                (``alpha``)
  ``{"kind": "unflatten"}``     ``shape`` [C, H, W]: a flat vector read as C channels of H x W
  ``{"kind": "conv_transpose2d"}``  ``weight`` [C_in, C_out, kH, kW], ``bias`` [C_out], ``stride``,
                                ``padding`` (PyTorch's ConvTranspose2d, no dilation or groups)
  ``{"kind": "flatten"}``       C x H x W back to one vector
  ============================  ====================================================================

  and ``output`` says what the last layer's values mean: ``{"kind": "image", "height": 28,
  "width": 28}`` (Bernoulli logits: pixel = round(255 * sigmoid(logit)), as ``inference.decode``)
  or ``{"kind": "point", "dim": 2}`` (the toy world's decoder mean, used as it is).

The decoder's input is ``latent_dim`` numbers, or for a conditional decoder ``latent_dim`` style
coordinates followed by the one-hot class (``C`` numbers): class k in style z is [z, onehot(k)].

Biases are float32. A weight is stored as one of WEIGHT_KINDS: ``float32``; ``float16``; or
``int8``, symmetric per output channel, where the layer also names a float32 ``scale`` [out]
(linear: rows; conv_transpose2d: its C_out axis) and w = float32(q * scale[o]), q in -127..127.
Version 1 is the float32, unconditional file; a file that stores float16 or int8 weights or has
a condition is version 2 (a version-1 reader would misread it), and both are read.

``run_decoder_export`` runs an export with NumPy: it is the reference the browser's decoder
(vae_core/web/decoder.js) is tested against; it dequantizes as the browser does (to float32 at
parse time) and then computes in float64. ``read_decoder_export`` refuses a malformed export
with one sentence before anything reaches a browser.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as np_load
from safetensors.numpy import save as np_save

from .checkpoint import Checkpoint, safetensors_metadata
from .config import IMAGE_SIZE, MAX_CONDITION_CLASSES, layer_plan
from .errors import VAEError

FORMAT = "vae-explorer-decoder"
FORMAT_VERSION = "2"  # the newest; a file that needs nothing of it is written as version 1
VERSIONS = ("1", "2")
WEIGHT_KINDS = ("float32", "float16", "int8")
INT8_MAX = 127  # symmetric: -127..127, so q * scale never needs -128
ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "silu", "tanh", "elu")
LAYER_KINDS = ("linear", "activation", "unflatten", "conv_transpose2d", "flatten")
# A browser decodes at frame rate only a decoder of a few million multiply-adds; larger ones
# (up to 8 layers of 4,096 units are allowed) are decoded on the server instead.
MAX_EXPORT_BYTES = 16 * 1024 * 1024


class ExportError(VAEError):
    """A decoder cannot be exported, or an export is malformed."""


@dataclass(frozen=True)
class DecoderExport:
    """A parsed export: the spec (see the module docstring) and its tensors as stored."""

    spec: dict
    tensors: dict[str, np.ndarray]

    @property
    def latent_dim(self) -> int:
        return int(self.spec["latent_dim"])

    @property
    def output(self) -> dict:
        return self.spec["output"]

    @property
    def classes(self) -> int:
        """The number of classes a conditional decoder is given (one-hot, after z); 0 otherwise."""
        return int((self.spec.get("condition") or {}).get("classes", 0))

    @property
    def input_size(self) -> int:
        return self.latent_dim + self.classes

    @property
    def weights_kind(self) -> str:
        """How the weights are stored: "int8", "float16" or "float32" (see WEIGHT_KINDS)."""
        dtypes = {self.tensors[layer["weight"]].dtype for layer in self.spec["layers"] if "weight" in layer}
        return "int8" if np.dtype(np.int8) in dtypes else "float16" if np.dtype(np.float16) in dtypes else "float32"

    def weight(self, layer: dict) -> np.ndarray:
        """A layer's weight as float32, dequantized exactly as the browser does it."""
        w = self.tensors[layer["weight"]]
        if w.dtype == np.int8:
            return dequantize_int8(w, self.tensors[layer["scale"]], _channel_axis(layer))
        return w.astype(np.float32)


def _channel_axis(layer: dict) -> int:
    """The output-channel axis of a layer's weight: rows of a linear weight [out, in], axis 1 of a
    transposed convolution's [C_in, C_out, kH, kW]."""
    return 1 if layer["kind"] == "conv_transpose2d" else 0


def _along(values: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = len(values)
    return values.reshape(shape)


def quantize_int8(w: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-channel int8 of a float32 weight: (q int8, scale float32 [w.shape[axis]])
    with w ~= q * scale along ``axis`` and q in -127..127; a channel of zeros gets scale 0."""
    w = np.asarray(w, np.float32)
    other = tuple(a for a in range(w.ndim) if a != axis)
    scale = (np.abs(w).max(axis=other) / np.float32(INT8_MAX)).astype(np.float32)
    divisor = _along(np.where(scale > 0, scale, np.float32(1)), axis, w.ndim)
    q = np.clip(np.rint(w / divisor), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


def dequantize_int8(q: np.ndarray, scale: np.ndarray, axis: int = 0) -> np.ndarray:
    """float32(q * scale) along ``axis``: one float32 product per weight, which the browser's
    float64 product rounded to float32 (Math.fround) equals bit for bit."""
    return q.astype(np.float32) * _along(np.asarray(scale, np.float32), axis, q.ndim)


def _module_plan(decoder) -> tuple[list[dict], Callable[[int], tuple[np.ndarray, np.ndarray]]]:
    """A torch decoder (nn.Sequential) as a layer plan, like config.layer_plan's, and its weights;
    a module of any other kind is in the plan under its class name (and refused)."""
    from torch import nn

    names = {nn.ReLU: "relu", nn.SiLU: "silu", nn.Tanh: "tanh", nn.ELU: "elu"}
    plan: list[dict] = []
    for module in decoder:
        if isinstance(module, nn.Linear) and module.bias is not None:
            plan.append({"kind": "linear"})
        elif isinstance(module, nn.ConvTranspose2d) and module.bias is not None and module.groups == 1 \
                and module.dilation == (1, 1) and module.output_padding == (0, 0) \
                and module.stride[0] == module.stride[1] and module.padding[0] == module.padding[1]:
            plan.append({"kind": "conv_transpose2d", "stride": module.stride[0], "padding": module.padding[0]})
        elif isinstance(module, nn.Unflatten):
            plan.append({"kind": "unflatten", "shape": [int(s) for s in module.unflattened_size]})
        elif isinstance(module, (nn.Flatten, nn.Dropout)):
            plan.append({"kind": "flatten" if isinstance(module, nn.Flatten) else "dropout"})
        elif isinstance(module, nn.GELU):
            plan.append({"kind": "activation", "name": "gelu" if module.approximate == "none" else "gelu_tanh"})
        elif type(module) in names:
            plan.append({"kind": "activation", "name": names[type(module)],
                         **({"alpha": float(module.alpha)} if isinstance(module, nn.ELU) else {})})
        else:
            plan.append({"kind": type(module).__name__})

    def weights(i: int) -> tuple[np.ndarray, np.ndarray]:
        return tuple(t.detach().to("cpu").float().numpy() for t in (decoder[i].weight, decoder[i].bias))

    return plan, weights


def decoder_layers(plan: list[dict], weights: Callable[[int], tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The spec's layer list and tensors of a decoder plan, ``weights(i)`` giving layer i's weight
    and bias (dropout, which does nothing at inference, is left out). Raises ExportError for a
    layer the browser cannot run."""
    layers: list[dict] = []
    tensors: dict[str, np.ndarray] = {}
    for i, layer in enumerate(plan):
        kind = layer["kind"]
        if kind == "dropout":
            continue
        if kind in ("linear", "conv_transpose2d"):
            k = len(layers)
            for name, t in zip(("weight", "bias"), weights(i)):
                tensors[f"layers.{k}.{name}"] = np.array(t, np.float32)  # a copy, C-ordered
            entry = {"kind": kind, "weight": f"layers.{k}.weight", "bias": f"layers.{k}.bias"}
            if kind == "conv_transpose2d":
                entry.update(stride=layer["stride"], padding=layer["padding"])
        elif kind == "activation":
            entry = {"kind": kind, "name": layer["name"]}
            if layer["name"] == "elu":
                entry["alpha"] = float(layer.get("alpha", 1.0))  # torch's default
        elif kind == "flatten":
            entry = {"kind": kind}
        elif kind == "unflatten":
            entry = {"kind": kind, "shape": [int(s) for s in layer["shape"]]}
        else:
            raise ExportError(f"the decoder's {kind} layer has no browser implementation")
        layers.append(entry)
    return layers, tensors


def export_decoder(source, max_bytes: int = MAX_EXPORT_BYTES, weights: str = "float32") -> bytes:
    """The decoder of a checkpoint (without torch: its config's layer plan over its weights), of a
    VAE module (a conditional one too: see the module docstring), or of the toy world's ToyVAE
    (point output) as export bytes, its weights stored as ``weights`` (one of WEIGHT_KINDS).

    Raises ExportError when a layer has no browser implementation or the decoder's float32
    weights (what a browser runs) would exceed ``max_bytes`` (such a model is decoded on the server).
    """
    if weights not in WEIGHT_KINDS:
        raise ExportError(f"unknown weight storage {str(weights)[:20]!r}; choose one of: {', '.join(WEIGHT_KINDS)}")
    config = getattr(source, "config", None)
    if isinstance(source, Checkpoint):
        plan = layer_plan(config)["decoder"]
        layers, tensors = decoder_layers(plan, lambda i: (source.weights[f"decoder.{i}.weight"],
                                                          source.weights[f"decoder.{i}.bias"]))
    else:
        layers, tensors = decoder_layers(*_module_plan(source.decoder))
    if config is not None:  # a VAE: Bernoulli logits of a 28x28 image
        latent_dim, output = config.latent_dim, {"kind": "image", "height": IMAGE_SIZE, "width": IMAGE_SIZE}
    else:  # the toy world's decoder: the mean of p(x|z) in the data plane
        latent_dim = int(source.latent_dim)
        output = {"kind": "point", "dim": int(tensors[layers[-1]["bias"]].shape[0])}
    size = sum(t.nbytes for t in tensors.values())
    if size > max_bytes:
        raise ExportError(f"the decoder has {size / 2**20:.1f} MB of weights, more than the "
                          f"{max_bytes / 2**20:.2g} MB a browser decodes at frame rate")
    spec = {"latent_dim": latent_dim, "output": output, "layers": layers}
    classes = config.num_classes if config is not None else 0
    if classes:
        spec["condition"] = {"classes": classes}
    if weights != "float32":
        _store_weights(layers, tensors, weights)
    # version 1 when a version-1 reader reads the file right: the float32 exports keep their bytes
    version = "1" if weights == "float32" and not classes else FORMAT_VERSION
    data = canonical_safetensors(np_save(tensors, metadata={"format": FORMAT, "version": version,
                                                 "spec": json.dumps(spec)}))
    read_decoder_export(data)  # what leaves here is what a reader accepts
    return data


def _store_weights(layers: list[dict], tensors: dict[str, np.ndarray], weights: str) -> None:
    """Convert every layer's float32 weight in ``tensors`` to float16, or to int8 with a scale
    tensor the layer then names."""
    for layer in layers:
        if "weight" not in layer:
            continue
        w = tensors[layer["weight"]]
        if weights == "float16":
            if np.abs(w).max(initial=0.0) > np.finfo(np.float16).max:
                raise ExportError("the decoder has weights beyond float16's range; store them as float32 or int8")
            tensors[layer["weight"]] = w.astype(np.float16)
        else:
            layer["scale"] = layer["weight"][:-len("weight")] + "scale"
            tensors[layer["weight"]], tensors[layer["scale"]] = quantize_int8(w, _channel_axis(layer))


def canonical_safetensors(data: bytes) -> bytes:
    """The same file with its JSON header's keys sorted: safetensors writes the metadata in a
    random order, and the app names served files by the hash of their bytes."""
    n = int.from_bytes(data[:8], "little")
    header = json.dumps(json.loads(data[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the data stays 8-byte aligned, as safetensors writes it
    return len(header).to_bytes(8, "little") + header + data[8 + n:]


def _shape_after(layer: dict, shape: tuple[int, ...], tensors: dict[str, np.ndarray], k: int,
                 version: str = FORMAT_VERSION) -> tuple[int, ...]:
    """The activation shape after ``layer`` (a flat (n,) or (C, H, W)); raises ExportError when the
    layer does not fit its input."""
    kind = layer["kind"]

    def tensor(name_key: str, ndim: int, kinds: tuple[str, ...] = ("float32",)) -> np.ndarray:
        name = layer.get(name_key)
        if not isinstance(name, str) or name not in tensors:
            raise ExportError(f"layer {k} ({kind}) names no tensor for its {name_key}")
        t = tensors[name]
        if t.dtype.name not in kinds or t.ndim != ndim:
            raise ExportError(f"layer {k} ({kind}): {name} must be a {', '.join(kinds[:-1])}"
                              f"{' or ' if len(kinds) > 1 else ''}{kinds[-1]} array with {ndim} dimensions")
        if t.dtype.kind == "f" and not np.isfinite(t).all():
            raise ExportError(f"layer {k} ({kind}): {name} contains NaN or infinite values")
        return t

    def weight(ndim: int) -> np.ndarray:
        """The layer's weight, stored as version 1 allows (float32) or version 2 (WEIGHT_KINDS)."""
        w = tensor("weight", ndim, WEIGHT_KINDS if version != "1" else ("float32",))
        if w.dtype != np.int8:
            if "scale" in layer:
                raise ExportError(f"layer {k} ({kind}) has a scale, but its weight is not int8")
            return w
        if w.min(initial=0) < -INT8_MAX:
            raise ExportError(f"layer {k} ({kind}): {layer['weight']} holds -128, outside the symmetric "
                              f"-127..127 of int8 weights")
        scale = tensor("scale", 1)
        if len(scale) != w.shape[_channel_axis(layer)]:
            raise ExportError(f"layer {k} ({kind}): its scale has {len(scale)} values for "
                              f"{w.shape[_channel_axis(layer)]} output channels")
        return w

    if kind == "linear":
        w, b = weight(2), tensor("bias", 1)
        if len(shape) != 1 or w.shape[1] != shape[0] or b.shape[0] != w.shape[0]:
            raise ExportError(f"layer {k} (linear) of shape {list(w.shape)} does not fit its input {list(shape)}")
        return (w.shape[0],)
    if kind == "activation":
        if layer.get("name") not in ACTIVATIONS:
            raise ExportError(f"layer {k}: unknown activation {str(layer.get('name'))[:40]!r}")
        return shape
    if kind == "unflatten":
        target = layer.get("shape")
        if not (isinstance(target, list) and len(target) == 3 and all(type(s) is int and s > 0 for s in target)
                and len(shape) == 1 and math.prod(target) == shape[0]):
            raise ExportError(f"layer {k} (unflatten) to {str(target)[:40]} does not fit its input {list(shape)}")
        return tuple(target)
    if kind == "flatten":
        return (math.prod(shape),)
    if kind == "conv_transpose2d":
        w, b = weight(4), tensor("bias", 1)
        stride, padding = layer.get("stride"), layer.get("padding")
        if not (type(stride) is int and type(padding) is int and 1 <= stride <= 8 and 0 <= padding < w.shape[2]):
            raise ExportError(f"layer {k} (conv_transpose2d): stride and padding must be small whole numbers")
        if len(shape) != 3 or w.shape[0] != shape[0] or b.shape[0] != w.shape[1] or w.shape[2] != w.shape[3]:
            raise ExportError(f"layer {k} (conv_transpose2d) of shape {list(w.shape)} does not fit its input "
                              f"{list(shape)}")
        size = [(s - 1) * stride - 2 * padding + w.shape[2] for s in shape[1:]]
        if min(size) < 1:
            raise ExportError(f"layer {k} (conv_transpose2d) leaves no pixels")
        return (w.shape[1], *size)
    raise ExportError(f"layer {k} is of unknown kind {str(kind)[:40]!r} (known: {', '.join(LAYER_KINDS)})")


def read_decoder_export(data: bytes) -> DecoderExport:
    """Parse and check an export: format and version, every layer against its input, every value
    finite, the output of the size the spec says. Raises ExportError with one sentence."""
    try:
        data = bytes(data)
        tensors = np_load(data)  # checks the header and every tensor's bounds
        metadata = safetensors_metadata(data)
    except (SafetensorError, ValueError, UnicodeDecodeError, OverflowError, MemoryError):
        raise ExportError("this is not a decoder export (not a readable safetensors file)") from None
    if metadata.get("format") != FORMAT:
        raise ExportError(f"this is not a decoder export (no {FORMAT!r} marker)")
    version = metadata.get("version")
    if version not in VERSIONS:
        raise ExportError(f"decoder export version {str(version)[:20]!r} is not supported "
                          f"(this reader knows versions {' and '.join(VERSIONS)})")
    try:
        spec = json.loads(metadata.get("spec", ""))
    except ValueError:
        raise ExportError("the decoder export's spec is not valid JSON") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list) or not spec["layers"] \
            or not all(isinstance(layer, dict) for layer in spec["layers"]):
        raise ExportError("the decoder export's spec has no list of layers")
    latent_dim, output = spec.get("latent_dim"), spec.get("output")
    if type(latent_dim) is not int or not 1 <= latent_dim <= 64:
        raise ExportError("the decoder export's latent size must be a whole number from 1 to 64")
    if not isinstance(output, dict) or output.get("kind") not in ("image", "point"):
        raise ExportError("the decoder export's output must be an image or a point")
    classes = _condition_classes(spec.get("condition"), version)
    expected = output.get("height", 0) * output.get("width", 0) if output["kind"] == "image" else output.get("dim")
    shape: tuple[int, ...] = (latent_dim + classes,)
    for k, layer in enumerate(spec["layers"]):
        shape = _shape_after(layer, shape, tensors, k, version)
    if len(shape) != 1 or shape[0] != expected:
        raise ExportError(f"the decoder's output {list(shape)} is not the {output['kind']} its spec describes")
    return DecoderExport(spec, tensors)


def _condition_classes(condition, version: str) -> int:
    """The number of classes of a spec's ``condition`` (0 without one); raises ExportError."""
    if condition is None:
        return 0
    if version == "1":
        raise ExportError("a version-1 decoder export cannot have a condition (a conditional decoder is version 2)")
    classes = condition.get("classes") if isinstance(condition, dict) else None
    if not isinstance(condition, dict) or set(condition) != {"classes"} or type(classes) is not int \
            or not 2 <= classes <= MAX_CONDITION_CLASSES:
        raise ExportError(f"the decoder export's condition must be {{\"classes\": C}} with C a whole number from 2 "
                          f"to {MAX_CONDITION_CLASSES}")
    return classes


def _erf(x: np.ndarray) -> np.ndarray:
    # math.erf element by element (NumPy has no erf); fromiter over map is twice np.vectorize's speed
    return np.fromiter(map(math.erf, x.ravel()), np.float64, x.size).reshape(x.shape)


def _apply_activation(layer: dict, x: np.ndarray) -> np.ndarray:
    name = layer["name"]
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if name == "gelu_tanh":
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "silu":
        return x / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    alpha = float(layer.get("alpha", 1.0))  # elu
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _conv_transpose2d(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """x [N, C_in, H, W] -> [N, C_out, H', W'], as torch.nn.functional.conv_transpose2d."""
    n, _, h, wd = x.shape
    k = w.shape[2]
    full = np.zeros((n, w.shape[1], (h - 1) * stride + k, (wd - 1) * stride + k))
    for i in range(k):
        for j in range(k):
            full[:, :, i:i + (h - 1) * stride + 1:stride, j:j + (wd - 1) * stride + 1:stride] += \
                np.einsum("nchw,co->nohw", x, w[:, :, i, j].astype(np.float64))
    out = full[:, :, padding:full.shape[2] - padding, padding:full.shape[3] - padding]
    return out + b.astype(np.float64)[None, :, None, None]


def run_decoder_export(export: DecoderExport, z, labels=None) -> np.ndarray:
    """Decode latent points with an export, in float64 NumPy over its float32 (dequantized)
    weights: uint8 images [N, H, W] for an image export (as ``inference.decode``), float32 points
    [N, dim] otherwise.

    ``z`` is [N, latent_dim]; a conditional export also takes ``labels`` [N] (the classes, given
    one-hot after z), or ``z`` as the whole input [N, latent_dim + classes]."""
    if labels is None:
        x = np.asarray(z, np.float64).reshape(-1, export.input_size)
    elif not export.classes:
        raise ExportError("this decoder takes no class")
    else:
        x = np.asarray(z, np.float64).reshape(-1, export.latent_dim)
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(x) or labels.dtype.kind not in "iu" \
                or not ((labels >= 0) & (labels < export.classes)).all():
            raise ExportError(f"a conditional decoder needs one class from 0 to {export.classes - 1} per point")
        x = np.concatenate([x, np.eye(export.classes)[labels]], axis=1)
    for layer in export.spec["layers"]:
        kind = layer["kind"]
        if kind == "linear":
            x = x @ export.weight(layer).T.astype(np.float64) + export.tensors[layer["bias"]]
        elif kind == "activation":
            x = _apply_activation(layer, x)
        elif kind == "unflatten":
            x = x.reshape(len(x), *layer["shape"])
        elif kind == "flatten":
            x = x.reshape(len(x), -1)
        else:
            x = _conv_transpose2d(x, export.weight(layer), export.tensors[layer["bias"]],
                                  layer["stride"], layer["padding"])
    out = export.output
    if out["kind"] == "point":
        return x.astype(np.float32)
    pixels = np.round(255.0 / (1.0 + np.exp(-x)))
    return pixels.astype(np.uint8).reshape(len(x), out["height"], out["width"])
