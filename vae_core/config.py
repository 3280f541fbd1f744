"""A model's configuration and its layers as data, without torch.

``VAEConfig`` is saved in every checkpoint; ``layer_plan`` turns it into the list of layers
``model.VAE`` builds, which also says, without building anything, which weights of which
shapes a checkpoint must hold (``parameter_shapes``) and what the browser's decoder runs
(``decoder_export``). So a checkpoint can be read and checked, and its decoder exported,
before torch is even imported: the app draws its first screen that way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .errors import ConfigError

IMAGE_SIZE = 28
PIXELS = IMAGE_SIZE * IMAGE_SIZE

ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "elu")  # torch's modules of these names (GELU exact)
ARCHITECTURES = ("mlp", "conv")
MAX_CONDITION_CLASSES = 100
# generation's default temperature (generate_class, the room's class buttons); here, so that a room
# is built without torch
DEFAULT_TEMPERATURE = 1.0


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



Layer = dict  # {"kind": ..., and the kind's sizes}: see layer_plan


def _dense(sizes: list[int], activation: str, dropout: float) -> list[Layer]:
    layers: list[Layer] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [{"kind": "linear", "in": a, "out": b}, {"kind": "activation", "name": activation}]
        if dropout:
            layers.append({"kind": "dropout", "p": dropout})
    return layers


def _conv(kind: str, a: int, b: int) -> Layer:
    # 4x4 kernels of stride 2 and padding 1 halve (conv2d) or double (conv_transpose2d) the size
    return {"kind": kind, "in": a, "out": b, "kernel": 4, "stride": 2, "padding": 1}


def layer_plan(config: VAEConfig) -> dict[str, list[Layer]]:
    """The model's three parts, input to output, as lists of layers: "encoder" (the image, and a
    conditional model's one-hot class, to features), "to_stats" (features to the code's mean and
    log-variance, or to the code itself for an autoencoder) and "decoder" (the code, and the class,
    to 784 Bernoulli logits).

    A layer is {"kind": "linear", "in", "out"}, {"kind": "conv2d" | "conv_transpose2d", "in",
    "out", "kernel", "stride", "padding"}, {"kind": "activation", "name"}, {"kind": "dropout",
    "p"}, {"kind": "flatten"} or {"kind": "unflatten", "shape": [C, H, W]}.
    """
    act, p, d, c = config.activation, config.dropout, config.latent_dim, config.num_classes
    stats = 2 * d if config.variational else d
    if config.arch == "mlp":
        h = list(config.hidden)
        encoder = [{"kind": "flatten"}, *_dense([PIXELS + c, *h], act, p)]
        decoder = [*_dense([d + c, *h[::-1]], act, p), {"kind": "linear", "in": h[0], "out": PIXELS}]
        features = h[-1]
    else:
        c1, c2, features = config.hidden[:3]
        encoder = [{"kind": "unflatten", "shape": [1, IMAGE_SIZE, IMAGE_SIZE]},
                   _conv("conv2d", 1, c1), {"kind": "activation", "name": act},  # 14x14
                   _conv("conv2d", c1, c2), {"kind": "activation", "name": act},  # 7x7
                   {"kind": "flatten"}, *_dense([c2 * 49, features], act, p)]
        decoder = [*_dense([d, features, c2 * 49], act, p), {"kind": "unflatten", "shape": [c2, 7, 7]},
                   _conv("conv_transpose2d", c2, c1), {"kind": "activation", "name": act},  # 14x14
                   _conv("conv_transpose2d", c1, 1), {"kind": "flatten"}]  # 28x28
    return {"encoder": encoder, "to_stats": [{"kind": "linear", "in": features, "out": stats}], "decoder": decoder}


def layer_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    """The weight and bias shapes of one layer, as torch stores them ({} for a layer without)."""
    kind = layer["kind"]
    if kind == "linear":
        return {"weight": (layer["out"], layer["in"]), "bias": (layer["out"],)}
    if kind == "conv2d":
        return {"weight": (layer["out"], layer["in"], layer["kernel"], layer["kernel"]), "bias": (layer["out"],)}
    if kind == "conv_transpose2d":
        return {"weight": (layer["in"], layer["out"], layer["kernel"], layer["kernel"]), "bias": (layer["out"],)}
    return {}


def parameter_prefix(part: str, index: int) -> str:
    """The state-dict prefix of layer ``index`` of ``part`` ("to_stats" is a single layer)."""
    return part if part == "to_stats" else f"{part}.{index}"


def parameter_shapes(config: VAEConfig) -> dict[str, tuple[int, ...]]:
    """Every weight of the model ``config`` describes and its shape, named as in its state dict."""
    return {f"{parameter_prefix(part, i)}.{name}": shape
            for part, layers in layer_plan(config).items() for i, layer in enumerate(layers)
            for name, shape in layer_shapes(layer).items()}
