"""The room page's files: one model's latent plane as a static folder that a lecture hall opens
on phones (no Streamlit session; the page decodes in the browser).

A room is ``room.json`` (a ``RoomManifest``) beside its data files, each named
``<kind>-<16 hex of its sha256>.safetensors``:

- ``decoder``: the model's decoder export (``decoder_export``), int8 unless int8 decodes differ
  from the float32 decoder's (then float16, else float32);
- ``points``: the test set's codes, float16 ``z`` [N, 2] and uint8 ``labels`` [N] (``room_points``);
- ``conditional`` (optional): a conditional VAE's decoder of the same dataset, for the class
  buttons: class k in style z is decoded from [z, onehot(k)], the styles being
  ``temperature * room_styles(seed, n)``, which vae_core/web/random.js computes identically.

With ``site=True``, ``write_room`` also copies the page itself (``vae_core/web``). Budget: at most
FIRST_VISIT_BUDGET bytes to tap and see a digit (everything but the conditional decoder), and
TOTAL_BUDGET with it. ``safe_room_id`` and ``safe_room_file`` are the only names a URL may give.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as np_load
from safetensors.numpy import save as np_save

from .checkpoint import MAX_CLASS_NAME, MAX_CLASSES, Checkpoint
from .data import DATASET_TITLES
from .config import DEFAULT_TEMPERATURE
from .decoder_export import ExportError, canonical_safetensors, export_decoder, read_decoder_export, \
    run_decoder_export
from .errors import VAEError
from .images import PALETTE, latent_extent

ROOM_FORMAT, ROOM_VERSION = "vae-explorer-room", 1
FILE_KINDS = ("decoder", "points", "conditional")
FIRST_VISIT_BUDGET = 1_000_000  # bytes on the wire to tap and see a digit: page, room.json, decoder, points
TOTAL_BUDGET = 2_000_000  # and with the conditional decoder
MAX_DECODER_BYTES = 800_000  # per decoder file: leaves the page and the points their share of the first visit
MIN_AGREEMENT = 0.99  # Pearson r of every check image of a smaller decoder against the float32 one
CHECK_GRID, CHECK_STYLES = 41, 100  # the check decodes: a grid over the plane; styles per class
MAX_POINTS = 1_000_000
MAX_TITLE = 120
MAX_MANIFEST_BYTES = 256 * 1024
WEB_DIR = Path(__file__).resolve().parent / "web"
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "pretrained"  # in a checkout of the repository

_ROOM_ID = re.compile(r"[0-9a-f]{12}")
_ROOM_FILE = re.compile(rf"(?:{'|'.join(FILE_KINDS)})-[0-9a-f]{{16}}\.safetensors")
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_DATASET = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class RoomError(VAEError):
    """A model cannot become a room page, or a room's files are malformed or cannot be written."""


def safe_room_id(text) -> str | None:
    """``text`` when it is a room id (12 lowercase hex digits), else None: the only room name a
    URL may give."""
    return text if isinstance(text, str) and len(text) == 12 and _ROOM_ID.fullmatch(text) else None


def safe_room_file(name) -> str | None:
    """``name`` when it is ``room.json`` or a data file name (``<kind>-<16 hex>.safetensors``,
    kind one of FILE_KINDS), else None: the only file names a URL may give."""
    if not isinstance(name, str) or len(name) > 64:
        return None
    return name if name == "room.json" or _ROOM_FILE.fullmatch(name) else None


def room_styles(seed: int, n: int) -> np.ndarray:
    """``n`` standard normal pairs from ``seed`` (0 to 2**32 - 1): float32 [n, 2]; the class
    buttons' styles at temperature T are T times these.

    The recipe, mirrored by vae_core/web/random.js (roomStyles): mulberry32 draws 32-bit integers
    x; u = (x + 0.5) / 2**32 lies in (0, 1); each pair (u1, u2) gives r = sqrt(-2 log u1) and
    angle = 2 pi u2 (float64), then (r cos(angle), r sin(angle)) rounded to float32 (Box-Muller).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise RoomError("The seed of the room's styles must be a whole number from 0 to 2**32 - 1.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n <= 100_000:
        raise RoomError("The number of styles must be a whole number from 0 to 100,000.")
    mask, state = 0xFFFFFFFF, int(seed)

    def next_uint32() -> int:  # mulberry32 (what JavaScript computes with Math.imul and >>>)
        nonlocal state
        state = (state + 0x6D2B79F5) & mask
        t = ((state ^ (state >> 15)) * (state | 1)) & mask
        t = ((t + (((t ^ (t >> 7)) * (t | 61)) & mask)) & mask) ^ t
        return t ^ (t >> 14)

    out = np.empty((int(n), 2), np.float64)
    for i in range(int(n)):
        u1, u2 = (next_uint32() + 0.5) / 2**32, (next_uint32() + 0.5) / 2**32
        r, angle = math.sqrt(-2 * math.log(u1)), 2 * math.pi * u2
        out[i] = r * math.cos(angle), r * math.sin(angle)
    return out.astype(np.float32)


def room_points(z_mean, labels) -> bytes:
    """The test set's codes for the room page: safetensors bytes of ``z`` float16 [N, 2] (the
    first two coordinates) and ``labels`` uint8 [N]."""
    z = np.asarray(z_mean, np.float64)
    labels = np.asarray(labels)
    if z.ndim != 2 or z.shape[1] < 2 or not 1 <= len(z) <= MAX_POINTS or labels.shape != (len(z),):
        raise RoomError("The room's points must be 1 to 1,000,000 codes of at least two coordinates, "
                        "with one label each.")
    if not np.isfinite(z).all() or np.abs(z[:, :2]).max() > np.finfo(np.float16).max:
        raise RoomError("The room's points hold codes that are not finite or too large for float16.")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() > 255:
        raise RoomError("The room's point labels must be whole numbers from 0 to 255.")
    return canonical_safetensors(np_save({"z": np.ascontiguousarray(z[:, :2].astype(np.float16)),
                                          "labels": labels.astype(np.uint8)}))


def read_room_points(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(z float32 [N, 2], labels uint8 [N]) of a points file; RoomError for anything else."""
    try:
        tensors = np_load(bytes(data))
    except (SafetensorError, ValueError, OverflowError, MemoryError):
        raise RoomError("The room's points file is not a readable safetensors file.") from None
    z, labels = tensors.get("z"), tensors.get("labels")
    if set(tensors) != {"z", "labels"} or z.dtype != np.float16 or labels.dtype != np.uint8 or z.ndim != 2 \
            or z.shape[1] != 2 or labels.shape != (len(z),) or not np.isfinite(z).all():
        raise RoomError("The room's points file must hold float16 z [N, 2] and uint8 labels [N], all finite.")
    return z.astype(np.float32), labels


def image_agreement(images, reference) -> float:
    """The smallest per-image Pearson correlation of ``images`` with ``reference`` (same shape,
    [N, ...]); an image that is flat in either counts 1 when the two are equal, else 0."""
    a = np.asarray(images, np.float64).reshape(len(images), -1)
    b = np.asarray(reference, np.float64).reshape(len(reference), -1)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    norms = np.sqrt((a * a).sum(1) * (b * b).sum(1))
    equal = (np.asarray(images).reshape(len(a), -1) == np.asarray(reference).reshape(len(b), -1)).all(1)
    r = np.where(norms > 0, (a * b).sum(1) / np.where(norms > 0, norms, 1), np.where(equal, 1.0, 0.0))
    return float(r.min()) if len(r) else 1.0


def _file_name(kind: str, data: bytes) -> str:
    return f"{kind}-{hashlib.sha256(data).hexdigest()[:16]}.safetensors"


def room_id(decoder: str, points: str, conditional: str | None, title: str) -> str:
    """A room's id: 12 hex digits of the hash of its data files' names (which hash their content)
    and its title, so the same model under the same name gives the same id."""
    return hashlib.sha256("\n".join([decoder, points, conditional or "", title]).encode()).hexdigest()[:12]


def _text_ok(text, limit: int) -> bool:
    return isinstance(text, str) and 1 <= len(text) <= limit and text.strip() == text and not _CONTROL.search(text)


def _number(value, low: float, high: float) -> bool:
    return type(value) in (int, float) and math.isfinite(value) and low < value <= high


@dataclass(frozen=True)
class RoomManifest:
    """``room.json``, what the room page reads first: which model, how to draw it, which files."""

    format: str
    version: int
    id: str
    title: str
    dataset: str
    classes: tuple[str, ...]
    colors: tuple[str, ...]  # one per class (vae_core.images.PALETTE)
    extent: float  # the plane's half-width (vae_core.images.latent_extent of the points)
    decoder: str
    points: str
    conditional: str | None  # None: no class buttons
    temperature: float  # the class buttons' styles: temperature * room_styles(seed, n)
    sizes: dict[str, int]  # bytes of each data file

    def files(self) -> list[str]:
        """The data files it names."""
        return [self.decoder, self.points] + ([self.conditional] if self.conditional else [])

    def to_json(self) -> str:
        fields = asdict(self)
        fields.update(classes=list(self.classes), colors=list(self.colors))
        return json.dumps(fields) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> "RoomManifest":
        """Parse and check every field; RoomError with one sentence for anything malformed."""
        def bad(why: str) -> RoomError:
            return RoomError(f"This room.json is not a valid room manifest: {why}.")

        if isinstance(text, (bytes, bytearray)):
            if len(text) > MAX_MANIFEST_BYTES:
                raise bad("it is too large")
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError:
                raise bad("it is not UTF-8 text") from None
        if not isinstance(text, str) or len(text) > MAX_MANIFEST_BYTES:
            raise bad("it is not text of a reasonable size")
        try:
            fields = json.loads(text, parse_constant=lambda name: float("nan"))
        except (ValueError, RecursionError):
            raise bad("it is not JSON") from None
        names = [f for f in cls.__dataclass_fields__]
        if not isinstance(fields, dict) or set(fields) != set(names):
            raise bad(f"it must hold exactly the fields {', '.join(names)}")
        f = fields
        if f["format"] != ROOM_FORMAT or type(f["version"]) is not int or f["version"] != ROOM_VERSION:
            raise bad(f"it is not format {ROOM_FORMAT!r} version {ROOM_VERSION}")
        if not _text_ok(f["title"], MAX_TITLE):
            raise bad(f"the title must be 1 to {MAX_TITLE} characters of text")
        if not isinstance(f["dataset"], str) or not _DATASET.fullmatch(f["dataset"]):
            raise bad("the dataset must be a short lowercase name")
        classes, colors = f["classes"], f["colors"]
        if not (isinstance(classes, list) and 2 <= len(classes) <= MAX_CLASSES
                and all(_text_ok(c, MAX_CLASS_NAME) for c in classes)):
            raise bad(f"the classes must be 2 to {MAX_CLASSES} names")
        if not (isinstance(colors, list) and len(colors) == len(classes)
                and all(isinstance(c, str) and _COLOR.fullmatch(c) for c in colors)):
            raise bad("the colors must be one #RRGGBB colour per class")
        if not _number(f["extent"], 0, 1e4):
            raise bad("the extent must be a positive number")
        if not _number(f["temperature"], 0, 10):
            raise bad("the temperature must be a number above 0 and at most 10")
        for kind in FILE_KINDS:
            name = f[kind]
            if (name is None and kind == "conditional") or (safe_room_file(name) and name.startswith(f"{kind}-")):
                continue
            raise bad(f"the {kind} file must be named {kind}-<16 hex digits>.safetensors")
        manifest = cls(**{**f, "classes": tuple(classes), "colors": tuple(colors)})
        sizes = f["sizes"]
        if not (isinstance(sizes, dict) and set(sizes) == set(manifest.files())
                and all(type(v) is int and 0 < v <= 2**31 for v in sizes.values())):
            raise bad("the sizes must give the bytes of each data file it names")
        if safe_room_id(f["id"]) is None or f["id"] != room_id(f["decoder"], f["points"], f["conditional"], f["title"]):
            raise bad("the id is not the one its files give")
        return manifest


@dataclass(frozen=True)
class RoomFiles:
    """A room ready to write: its manifest and its data files by name."""

    manifest: RoomManifest
    files: dict[str, bytes]


def _small_decoder(source: Checkpoint, z: np.ndarray, labels, limit: int, what: str) -> bytes:
    """The smallest export of ``source``'s decoder (int8, then float16, then float32) whose
    decodes of ``z`` (and ``labels``) all agree with the float32 export's (MIN_AGREEMENT)."""
    try:
        reference = export_decoder(source)
        expected = run_decoder_export(read_decoder_export(reference), z, labels)
        for kind in ("int8", "float16"):
            data = export_decoder(source, weights=kind)
            if image_agreement(run_decoder_export(read_decoder_export(data), z, labels), expected) >= MIN_AGREEMENT:
                break
        else:
            data = reference
    except ExportError as e:
        raise RoomError(f"The room page cannot run the {what}: {e}.") from None
    if len(data) > limit:
        raise RoomError(f"The {what}'s export is {len(data) / 1e6:.2f} MB, more than the {limit / 1e6:.2f} MB "
                        f"a phone should fetch for the room page.")
    return data


def _check_model(ckpt) -> None:
    if not isinstance(ckpt, Checkpoint):
        raise RoomError("The room page draws an image model's checkpoint (MNIST or Fashion-MNIST); "
                        "a toy model or any other object is not one.")
    if ckpt.config.num_classes:
        raise RoomError("This is a conditional VAE, whose plane is style alone; give it as the room's "
                        "conditional model, beside an unconditional one.")
    d = ckpt.config.latent_dim
    if d != 2:
        raise RoomError(f"The room page draws a 2-D latent plane; this model's latent space has {d} "
                        f"dimension{'s' if d != 1 else ''}.")
    if ckpt.latents is None or not len(ckpt.latents.labels):
        raise RoomError("The room page draws the test set's codes, and this checkpoint carries none.")


def _check_conditional(conditional, ckpt: Checkpoint) -> None:
    if not isinstance(conditional, Checkpoint) or not conditional.config.num_classes:
        raise RoomError("The room's conditional model must be a conditional VAE checkpoint (trained with "
                        "--conditional); this one takes no class.")
    if conditional.dataset != ckpt.dataset or tuple(conditional.classes) != tuple(ckpt.classes):
        raise RoomError(f"The conditional model draws the classes of {conditional.dataset}, the room's model "
                        f"those of {ckpt.dataset}; give one of the same dataset.")
    d = conditional.config.latent_dim
    if d != 2:
        raise RoomError(f"The room page's class buttons draw 2-D styles; this conditional model's style space "
                        f"has {d} dimension{'s' if d != 1 else ''}.")


def build_room(ckpt: Checkpoint, conditional_ckpt: Checkpoint | None = None, title: str | None = None,
               max_decoder_bytes: int = MAX_DECODER_BYTES) -> RoomFiles:
    """A model's room files: its small decoder, its test-set codes and, with ``conditional_ckpt``
    (a conditional VAE of the same dataset), the class buttons' decoder. Raises RoomError with one
    sentence for a model the room page cannot draw."""
    _check_model(ckpt)
    if conditional_ckpt is not None:  # before any decoder is exported and checked
        _check_conditional(conditional_ckpt, ckpt)
    title = DATASET_TITLES.get(ckpt.dataset, ckpt.dataset) if title is None else title
    if not _text_ok(title, MAX_TITLE):
        raise RoomError(f"The room's title must be 1 to {MAX_TITLE} characters of plain text, without line breaks "
                        f"or spaces at its ends.")
    z_mean = np.asarray(ckpt.latents.z_mean, np.float32)
    extent = round(latent_extent(z_mean), 4)
    axis = np.linspace(-extent, extent, CHECK_GRID)
    grid = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2).astype(np.float32)
    files = {"decoder": _small_decoder(ckpt, grid, None, max_decoder_bytes, "decoder"),
             "points": room_points(z_mean, ckpt.latents.labels)}
    if conditional_ckpt is not None:
        c = conditional_ckpt.config.num_classes
        styles = np.tile(DEFAULT_TEMPERATURE * room_styles(0, CHECK_STYLES), (c, 1))
        files["conditional"] = _small_decoder(conditional_ckpt, styles, np.repeat(np.arange(c), CHECK_STYLES),
                                              max_decoder_bytes, "conditional decoder")
    names = {kind: _file_name(kind, data) for kind, data in files.items()}
    manifest = RoomManifest(
        format=ROOM_FORMAT, version=ROOM_VERSION,
        id=room_id(names["decoder"], names["points"], names.get("conditional"), title), title=title,
        dataset=ckpt.dataset, classes=tuple(ckpt.classes),
        colors=tuple(PALETTE[i % len(PALETTE)] for i in range(len(ckpt.classes))), extent=extent,
        decoder=names["decoder"], points=names["points"], conditional=names.get("conditional"),
        temperature=float(DEFAULT_TEMPERATURE), sizes={names[kind]: len(data) for kind, data in files.items()})
    RoomManifest.from_json(manifest.to_json())  # what leaves here is what a reader accepts
    return RoomFiles(manifest, {names[kind]: data for kind, data in files.items()})


def _site_ignore(folder: str, names: list[str]) -> set[str]:
    """What of vae_core/web is not part of the page: tests, Python, caches, hidden files."""
    return {n for n in names if n.startswith(".") or n in ("tests", "test", "__pycache__")
            or n.endswith((".py", ".pyc")) or n.startswith("test_") or ".test." in n or ".spec." in n}


def _write_folder(folder: Path, files: RoomFiles, site: bool, web_dir: Path) -> None:
    if site:
        shutil.copytree(web_dir, folder, ignore=_site_ignore, dirs_exist_ok=True)
        index = web_dir / "room" / "index.html"
        if index.is_file():
            shutil.copyfile(index, folder / "index.html")
    for name, data in [*files.files.items(), ("room.json", files.manifest.to_json().encode())]:
        with open(folder / name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    for path in [folder, *folder.rglob("*")]:  # readable by a web server (mkdtemp made it private)
        path.chmod(0o755 if path.is_dir() else 0o644)


def _swap_in(new: Path, out: Path) -> None:
    """Put the folder ``new`` in the place of ``out``: one rename when ``out`` is absent or empty;
    else the previous export moves aside first and is deleted after."""
    try:
        os.rename(new, out)
        return
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, aside / "room")
    try:
        os.rename(new, out)
    except OSError:
        os.rename(aside / "room", out)  # the previous export back in its place
        raise
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def _is_room_export(folder: Path) -> bool:
    """Whether ``folder`` holds a room export (a valid room.json), which writing a room may replace."""
    try:
        RoomManifest.from_json((folder / "room.json").read_bytes())
        return True
    except (OSError, RoomError):
        return False


def write_room(files: RoomFiles, out_dir: str | os.PathLike, site: bool = True, web_dir: Path = WEB_DIR) -> Path:
    """Write room.json and the data files into ``out_dir`` and, with ``site``, the page (the tree of
    ``web_dir`` without its tests, and ``room/index.html`` as ``index.html``). Atomic: the folder
    is written beside ``out_dir`` and renamed into place. ``out_dir`` must be new, empty or a
    previous room export (it holds a valid room.json), which is replaced. Returns the folder."""
    out = Path(out_dir).absolute()
    manifest = files.manifest
    if set(files.files) != set(manifest.files()) or any(len(files.files[n]) != manifest.sizes[n] for n in files.files):
        raise RoomError("The room's files are not the ones its manifest names.")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise RoomError("The room's folder exists and is not a folder; give a new folder, an empty one or a "
                        "previous room export.")
    if out.is_dir() and any(out.iterdir()) and not _is_room_export(out):
        raise RoomError("The room's folder is not empty and holds no previous room export (no valid room.json); "
                        "give a new or empty folder.")
    if site and not web_dir.is_dir():
        raise RoomError("The room page's web files are missing from this installation of vae_core.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.part-", dir=out.parent))
    except OSError as e:
        raise RoomError(f"The room's folder cannot be created: {(e.strerror or str(e)).lower()}.") from None
    try:
        _write_folder(work, files, site, web_dir)
        _swap_in(work, out)
    except OSError as e:
        raise RoomError(f"The room could not be written: {(e.strerror or str(e)).lower()}.") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone already when it was renamed into place
    return out


def site_bytes(folder: str | os.PathLike) -> tuple[int, int]:
    """(first visit, everything) in bytes of a written room folder: the first visit is every file
    but the conditional decoder (the page, room.json, the decoder, the points), an upper bound of
    what a phone fetches to tap and see a digit."""
    folder = Path(folder)
    manifest = RoomManifest.from_json((folder / "room.json").read_bytes())
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return total - (manifest.sizes[manifest.conditional] if manifest.conditional else 0), total


def shipped_conditional(dataset: str) -> Path | None:
    """The repository's conditional VAE of ``dataset`` (pretrained/conditional/), when this
    vae_core runs from a checkout that has it."""
    if not isinstance(dataset, str) or not _DATASET.fullmatch(dataset):
        return None
    path = SHIPPED_DIR / "conditional" / f"{dataset}.safetensors"
    return path if path.is_file() else None
