"""MNIST and Fashion-MNIST: find the IDX files, download them if missing, read them.

Files are looked for, in order, in: an explicit ``root``; ``$VAE_DATA_DIR``
(the folder itself, or its ``<dataset>/`` subfolder); ``~/.cache/vae-explorer/<dataset>/``;
and, for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist/``.
Both ``.gz`` and uncompressed files are read. Every file is checked against the
MD5 of its uncompressed content, so a damaged file is caught before training.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import DataError

IMAGE_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
SPLITS = ("train", "test")
# The largest real file (60,000 training images) is 47 MB uncompressed: anything bigger is not
# one, and reading no further keeps a gzip bomb (or an endless download) from filling memory.
MAX_FILE_BYTES = 64 * 1024 * 1024

# progress(file name, bytes done, total bytes or None when the server does not say)
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class DatasetSpec:
    """What a dataset is made of: file names, their checksums, where to get them."""

    name: str
    title: str  # as people write it, e.g. "Fashion-MNIST"
    classes: tuple[str, ...]
    files: dict[str, tuple[str, str]]  # split -> (images file, labels file), uncompressed names
    md5: dict[str, str]  # uncompressed file name -> MD5 of its content
    mirrors: tuple[str, ...]  # base URLs; "<mirror><file>.gz" is downloaded
    system_dirs: tuple[str, ...] = ()


_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

MNIST = DatasetSpec(
    name="mnist",
    title="MNIST",
    classes=tuple(str(d) for d in range(10)),
    files=_IDX_FILES,
    md5={
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
)

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    files=_IDX_FILES,
    md5={
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (MNIST, FASHION_MNIST)}
DATASET_TITLES: dict[str, str] = {s.name: s.title for s in DATASETS.values()}  # MNIST first


@dataclass(frozen=True)
class Dataset:
    """One split of a dataset held in memory."""

    name: str
    split: str
    images: np.ndarray  # uint8 [N, 28, 28]
    labels: np.ndarray  # int64 [N]
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)


def get_spec(dataset: str | DatasetSpec) -> DatasetSpec:
    """The spec of a dataset given by name (or the spec itself)."""
    if isinstance(dataset, DatasetSpec):
        return dataset
    try:
        return DATASETS[dataset]
    except KeyError:
        raise DataError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}") from None


def cache_dir(dataset: str | DatasetSpec) -> Path:
    """Where downloads go: ``~/.cache/vae-explorer/<dataset>/``."""
    return Path.home() / ".cache" / "vae-explorer" / get_spec(dataset).name


def candidate_dirs(dataset: str | DatasetSpec, root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for a dataset's files, in order."""
    spec = get_spec(dataset)
    if root is not None:
        return [Path(root)]
    dirs = []
    env = os.environ.get("VAE_DATA_DIR")
    if env:
        dirs += [Path(env) / spec.name, Path(env)]
    dirs.append(cache_dir(spec))
    dirs += [Path(d) for d in spec.system_dirs]
    return dirs


def _existing(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_bytes(path: Path) -> bytes:
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")) as f:
            return _read_limited(f, str(path))
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path}: cannot be read ({e}); delete it and download it again") from e


def _read_limited(f, source: str) -> bytes:
    data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"{source}: more than {MAX_FILE_BYTES:,} bytes (uncompressed), larger than any MNIST "
                        "file; delete it and download it again")
    return data


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def parse_idx(data: bytes, source: str = "<bytes>", expect_magic: int | None = None) -> np.ndarray:
    """Parse an IDX file of unsigned bytes (the MNIST format) into a uint8 array."""
    if len(data) < 4:
        raise DataError(f"{source}: truncated file ({len(data)} bytes, not even a header); "
                        "delete it and download it again")
    magic = struct.unpack(">I", data[:4])[0]
    if magic not in (IMAGE_MAGIC, LABEL_MAGIC) or (expect_magic is not None and magic != expect_magic):
        want = f"0x{expect_magic:08x}" if expect_magic is not None else "an IDX ubyte header"
        raise DataError(f"{source}: wrong magic number 0x{magic:08x} (expected {want}); "
                        "this is not the right IDX file, replace it with the original download")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: truncated file (header cut short); delete it and download it again")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + math.prod(shape)  # Python ints: a hostile shape cannot overflow to a small size
    if len(data) < expected:
        raise DataError(f"{source}: truncated file ({len(data):,} bytes, the header announces "
                        f"{expected:,}); delete it and download it again")
    if len(data) > expected:
        raise DataError(f"{source}: {len(data) - expected:,} bytes more than its header announces; "
                        "the file is damaged, delete it and download it again")
    return np.frombuffer(data, dtype=np.uint8, count=expected - header, offset=header).reshape(shape).copy()


def _check_md5(spec: DatasetSpec, name: str, digest: str, source: str) -> None:
    if digest != spec.md5[name]:
        other = _owner(spec, name, digest)
        hint = f" (it is the {other} file)" if other else ""
        raise DataError(f"{source}: checksum mismatch for {spec.name}{hint}: MD5 {digest}, expected "
                        f"{spec.md5[name]}; delete it and download it again")


def _owner(spec: DatasetSpec, name: str, digest: str) -> str | None:
    """The other known dataset whose file this is, if any."""
    return next((s.name for s in DATASETS.values() if s is not spec and s.md5.get(name) == digest), None)


def archive_names(spec: DatasetSpec) -> str:
    """The dataset's files as they are downloaded, for a message: "train-images-idx3-ubyte.gz, ..."."""
    return ", ".join(f"{n}.gz" for pair in spec.files.values() for n in pair)


def available(dataset: str | DatasetSpec, root: str | os.PathLike | None = None) -> bool:
    """Whether every file of a dataset is in one of the searched folders (not verified)."""
    spec = get_spec(dataset)
    names = [n for pair in spec.files.values() for n in pair]
    return any(all(_existing(folder, n) for n in names) for folder in candidate_dirs(spec, root))


def load_dataset(dataset: str | DatasetSpec = "mnist", split: str = "train",
                 root: str | os.PathLike | None = None, download: bool = True,
                 progress: Progress | None = None, verify: bool = True) -> Dataset:
    """Load one split as uint8 images ``[N, 28, 28]`` and int64 labels ``[N]``.

    Missing files are downloaded into ``root`` (or the cache folder) when
    ``download`` is true. Raises :class:`DataError` with a message that names
    the file, what is wrong and what to do.
    """
    spec = get_spec(dataset)
    if split not in spec.files:
        raise DataError(f"unknown split {split!r}; choose one of: {', '.join(spec.files)}")
    names = spec.files[split]
    folders = candidate_dirs(spec, root)
    for folder in folders:
        paths = [_existing(folder, n) for n in names]
        if not all(paths):
            continue
        blobs = [_read_bytes(p) for p in paths]
        digests = [md5_hex(b) for b in blobs] if verify else None
        # A shared data folder may hold another dataset under the same file names
        # (both use train-images-idx3-ubyte); only an explicit root is an error then.
        if root is None and digests and any(_owner(spec, n, d) for n, d in zip(names, digests)):
            continue
        return _build(spec, split, paths, blobs, digests)
    dest = Path(root) if root is not None else cache_dir(spec)
    if not download:
        raise DataError(missing_message(spec, folders, dest))
    paths = [_existing(dest, n) or download_file(spec, n, dest, progress=progress) for n in names]
    blobs = [_read_bytes(p) for p in paths]
    return _build(spec, split, paths, blobs, [md5_hex(b) for b in blobs] if verify else None)


def _build(spec: DatasetSpec, split: str, paths: list[Path], blobs: list[bytes],
           digests: list[str] | None) -> Dataset:
    names = spec.files[split]
    for name, digest, path in zip(names, digests or (), paths):
        _check_md5(spec, name, digest, str(path))
    images = parse_idx(blobs[0], str(paths[0]), IMAGE_MAGIC)
    labels = parse_idx(blobs[1], str(paths[1]), LABEL_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{paths[0]} has {len(images):,} images but {paths[1]} has {len(labels):,} labels; "
                        "the two files do not belong together, download both again")
    if images.shape[1:] != (28, 28):
        raise DataError(f"{paths[0]}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(labels) and labels.max() >= len(spec.classes):
        raise DataError(f"{paths[1]}: label {int(labels.max())} is out of range 0..{len(spec.classes) - 1}")
    return Dataset(spec.name, split, images, labels.astype(np.int64), spec.classes)


def missing_message(spec: DatasetSpec, folders: list[Path], dest: Path | None = None) -> str:
    """What to do when a dataset is nowhere; ``dest`` is where its files belong (default: the cache)."""
    names = archive_names(spec)
    looked = "; ".join(str(f) for f in folders)
    dest = cache_dir(spec) if dest is None else dest
    where = "" if dest == cache_dir(spec) else f" --data-dir {dest}"
    return (f"{spec.name} is not on this machine (looked in: {looked}). Download it with "
            f"`python -m vae_core download --dataset {spec.name}{where}`, or place these files in "
            f"{dest}: {names}")


def mirrors_for(spec: DatasetSpec) -> tuple[str, ...]:
    """The spec's mirrors, unless ``$VAE_DATA_MIRRORS`` (comma-separated base URLs) overrides them."""
    env = os.environ.get("VAE_DATA_MIRRORS", "").strip()
    if env:
        return tuple(m.strip() for m in env.split(",") if m.strip())
    return spec.mirrors


def download_file(spec: DatasetSpec, name: str, dest: str | os.PathLike,
                  mirrors: tuple[str, ...] | None = None, progress: Progress | None = None,
                  timeout: float = 30.0) -> Path:
    """Download ``<name>.gz`` into ``dest``, trying each mirror in turn.

    The bytes stream into a ``*.part`` file that is renamed only once the
    uncompressed content matches its MD5, so an interrupted or corrupt download
    never sits under the final name.
    """
    dest = Path(dest)
    final = dest / f"{name}.gz"
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the data folder {dest} ({e.strerror}); choose another with VAE_DATA_DIR") from e
    failures: list[str] = []
    network_only = True
    for mirror in mirrors or mirrors_for(spec):
        url = mirror if mirror.endswith(f"{name}.gz") else f"{mirror.rstrip('/')}/{name}.gz"
        part = None
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = response.headers.get("Content-Length")
                total = int(total) if total and total.isdigit() else None
                fd, part_name = tempfile.mkstemp(prefix=f"{name}.gz.", suffix=".part", dir=dest)
                part = Path(part_name)
                done = 0
                with os.fdopen(fd, "wb") as out:
                    while chunk := response.read(1 << 16):
                        out.write(chunk)
                        done += len(chunk)
                        if done > MAX_FILE_BYTES:
                            raise DataError(f"{url}: more than {MAX_FILE_BYTES:,} bytes, larger than any MNIST file")
                        if progress:
                            progress(f"{name}.gz", done, total)
                if total is not None and done != total:
                    raise DataError(f"{url}: connection closed after {done:,} of {total:,} bytes")
            # The *.part name does not end in .gz, so decompress explicitly.
            try:
                with gzip.open(part, "rb") as f:
                    content = _read_limited(f, url)
            except (OSError, EOFError, zlib.error) as e:
                raise DataError(f"{url}: not a valid gzip file ({e})") from e
            _check_md5(spec, name, md5_hex(content), url)
            os.replace(part, final)
            return final
        except DataError as e:
            network_only = False
            failures.append(str(e))
        except http.client.HTTPException as e:  # e.g. IncompleteRead: a chunked body cut short
            network_only = False
            failures.append(f"{url}: connection broken mid-download ({e!r})")
        except (urllib.error.URLError, OSError, ValueError) as e:
            failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
        finally:
            if part is not None and part.exists():
                part.unlink()
    if network_only:
        raise DataError(f"could not download {name}.gz for {spec.name}: no mirror answered "
                        f"({'; '.join(failures)}). Without network, place these files in {dest}: "
                        + archive_names(spec))
    raise DataError(f"could not download a valid {name}.gz for {spec.name}: " + "; ".join(failures))


def download(dataset: str | DatasetSpec = "mnist", root: str | os.PathLike | None = None,
             progress: Progress | None = None) -> None:
    """Make sure every split of a dataset is on disk and valid, downloading what is missing."""
    for split in get_spec(dataset).files:
        load_dataset(dataset, split, root=root, download=True, progress=progress)
