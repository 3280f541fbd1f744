"""What Python sends a latent plane: one frozen dataclass per mode, holding exactly the fields that
mode's browser controller reads (vae_core/web/modes/), and ``to_json()``, the JSON text sent.

The browser checks every payload against the same field list (vae_core/web/payload.js, FIELDS):
a missing or mistyped field is named there in one console error and one line on the page.
tests/app/test_payloads.py keeps the two lists equal.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

Pick = dict  # {"index": int | None, "z": [z1, z2]}: a test point or a spot (see parse_pick); a page may
# add "sigma": [s1, s2], the encoder's (a drawing's, for its close-up)


@dataclass(frozen=True)
class PlaneModel:
    """What the browser needs of one model: where to fetch its decoder and its points."""

    id: str
    decoder_url: str | None  # None: the browser cannot run this decoder (see fallback)
    fallback: str | None  # why not, in one sentence
    points_url: str | None  # None: the payload carries its points inline
    classes: tuple[str, ...]
    colors: tuple[str, ...]
    extent: float

    def as_data(self) -> dict:
        return {"id": self.id, "decoder": self.decoder_url, "fallback": self.fallback, "points": self.points_url,
                "classes": list(self.classes), "colors": list(self.colors), "extent": self.extent}


@dataclass(frozen=True, kw_only=True)
class ToyWorld:
    """The toy world's data plane, beside its latent plane: the data points (ui.widgets.plane_points),
    their group names, both planes' titles, the data plane's extent, and ``key`` (a new key
    redraws the planes)."""

    key: str
    titles: tuple[str, str]
    data: dict
    names: tuple[str, ...]
    data_extent: float

    def as_data(self) -> dict:
        return {"key": self.key, "titles": list(self.titles), "data": self.data, "names": list(self.names),
                "data_extent": float(self.data_extent)}


@dataclass(frozen=True)
class BetaModel:
    """One model of a beta family: its beta, its test-set reconstruction and KL (nats per image),
    and the plane model the browser loads."""

    beta: float
    recon: float
    kl: float
    model: PlaneModel

    def as_data(self) -> dict:
        return {"beta": float(self.beta), "recon": float(self.recon), "kl": float(self.kl),
                "model": self.model.as_data()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (PlaneModel, ToyWorld, BetaModel)):
        return value.as_data()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True, kw_only=True)
class _Payload:
    """Every mode's payload: its ``mode`` and the ``model`` it draws."""

    mode: ClassVar[str]
    model: PlaneModel

    def to_json(self) -> str:
        """The payload as the browser reads it: {"mode": ..., field: value, ...}."""
        fields = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return json.dumps({"mode": self.mode, **fields})


@dataclass(frozen=True, kw_only=True)
class _PlanePayload(_Payload):
    """A mode with a plane of its own: its ``height`` in pixels, and a page's own ``title`` and ``hint``."""

    height: int = 560
    title: str | None = None
    hint: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExplorePayload(_PlanePayload):
    """Explore: hovering decodes, a click pins (``on_pick``), the manifold toggle; ``group``
    links it with a PreviewPayload's panel, shown instead of its own (``separate_preview``)."""

    mode: ClassVar[str] = "explore"
    pin: Pick | None = None
    group: str | None = None
    separate_preview: bool = False
    manifold_label: str = "Show decoded digits behind the points"


@dataclass(frozen=True, kw_only=True)
class PreviewPayload(_Payload):
    """No plane: the large decoded image and the pin's close-up of the plane of its ``group``."""

    mode: ClassVar[str] = "preview"
    pin: Pick | None = None
    group: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloseupPayload(_Payload):
    """No plane: only the close-up of the model's points around ``pin``, with the 1 and 2 sigma
    ellipses of the pin's ``sigma``, ``marks`` drawn as crosses ([[z1, z2], ...]) and the page's
    ``caption`` under it (None: the close-up's own words)."""

    mode: ClassVar[str] = "closeup"
    pin: Pick
    marks: list[list[float]] = dataclasses.field(default_factory=list)
    caption: str | None = None


@dataclass(frozen=True, kw_only=True)
class InterpolatePayload(_PlanePayload):
    """Interpolate: the endpoints {"a": pick, "b": pick}, which one a click sets ``next``, the
    path's ``method`` and the strip's ``steps``; a placed or dropped endpoint calls ``on_endpoints``."""

    mode: ClassVar[str] = "interpolate"
    endpoints: dict[str, Pick]
    next: Literal["a", "b"] = "a"
    method: Literal["linear", "slerp"] = "linear"
    steps: int = 10


@dataclass(frozen=True, kw_only=True)
class ComparePayload(_PlanePayload):
    """A plane that hovers with the others of its ``group`` (each decodes the same z), with
    ``marks`` drawn as crosses ([[z1, z2], ...])."""

    mode: ClassVar[str] = "compare"
    group: str | None = None
    marks: list[list[float]] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ToyPayload(_Payload):
    """Toy world: the latent plane beside the data plane (``toy``); ``points`` are the codes when
    the model has no points file."""

    mode: ClassVar[str] = "toy"
    toy: ToyWorld
    points: dict | None = None
    height: int = 560
    hint: str | None = None


@dataclass(frozen=True, kw_only=True)
class InsidePayload(_PlanePayload):
    """Inside the VAE: one image's posterior, its 1 and 2 sigma ellipses around ``mu`` (the
    encoder's ``sigma``), the sample ``z`` and a ``cloud`` of further samples ([[z1, z2], ...])."""

    mode: ClassVar[str] = "inside"
    mu: tuple[float, float]
    sigma: tuple[float, float]
    z: tuple[float, float]
    cloud: list[list[float]] = dataclasses.field(default_factory=list)
    height: int = 520


@dataclass(frozen=True, kw_only=True)
class BetaPayload(_PlanePayload):
    """A beta family on one plane: ``models`` (at least one), the plane's own slider swaps between
    them in the browser; ``model`` is ``models[start]``'s, the one shown first."""

    mode: ClassVar[str] = "beta"
    models: tuple[BetaModel, ...]
    start: int = 0
    height: int = 520


@dataclass(frozen=True, kw_only=True)
class ScoresPayload(_PlanePayload):
    """Anomalies: the test points coloured by a per-image score (the file at ``scores``, see
    ui.latent_plane.scores_asset) on the colour scale from ``low`` to ``high``, named by ``label``;
    with a ``threshold``, those above it larger and outlined, the others faded. A click on a point
    selects its image (``on_pick``); ``pin`` is the selected one."""

    mode: ClassVar[str] = "scores"
    scores: str
    label: str
    low: float
    high: float
    threshold: float | None = None
    pin: Pick | None = None


Payload = (ExplorePayload | PreviewPayload | InterpolatePayload | ComparePayload | ToyPayload | InsidePayload
           | BetaPayload | CloseupPayload | ScoresPayload)
PAYLOADS: dict[str, type[_Payload]] = {cls.mode: cls for cls in (ExplorePayload, PreviewPayload, InterpolatePayload,
                                                                  ComparePayload, ToyPayload, InsidePayload,
                                                                  BetaPayload, CloseupPayload, ScoresPayload)}
