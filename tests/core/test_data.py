"""vae_core.data: finding, downloading, verifying and reading MNIST / Fashion-MNIST.

Downloads go only to a local HTTP server on 127.0.0.1 serving tiny synthetic IDX
files (and, where ../shared/data is present, the real MNIST files).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vae_core import data
from vae_core.data import (
    DATASETS,
    FASHION_MNIST,
    IMAGE_MAGIC,
    LABEL_MAGIC,
    MNIST,
    DatasetSpec,
    candidate_dirs,
    download,
    download_file,
    load_dataset,
    mirrors_for,
    parse_idx,
)
from vae_core.errors import DataError, VAEError
from helpers.data import SHARED_DATA, needs_mnist

MNIST_DIR = SHARED_DATA / "mnist"
FASHION_DIR = SHARED_DATA / "fashion-mnist"

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_NAMES = [n for pair in FILES.values() for n in pair]


def _have(folder: Path) -> bool:
    return all((folder / f"{n}.gz").is_file() for n in ALL_NAMES)


needs_fashion = pytest.mark.skipif(not _have(FASHION_DIR),
                                   reason=f"real Fashion-MNIST files not found in {FASHION_DIR}")


# --------------------------------------------------------------------------- synthetic IDX data


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file of unsigned bytes: big-endian magic, big-endian dims, then the raw data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    assert magic & 0xFF == array.ndim
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def make_split(n: int, seed: int, label: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.full(n, label, np.uint8) if label is not None else (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def split_files(split: str, images: np.ndarray, labels: np.ndarray) -> dict[str, bytes]:
    img_name, lbl_name = FILES[split]
    return {img_name: idx_bytes(images, IMAGE_MAGIC), lbl_name: idx_bytes(labels, LABEL_MAGIC)}


def md5(content: bytes) -> str:
    return hashlib.md5(content).hexdigest()


TINY_ARRAYS = {"train": make_split(6, seed=1), "test": make_split(4, seed=2)}
TINY_CONTENT = {**split_files("train", *TINY_ARRAYS["train"]), **split_files("test", *TINY_ARRAYS["test"])}
TINY = DatasetSpec(
    name="tiny",
    title="Tiny",
    classes=tuple(str(d) for d in range(10)),
    files=FILES,
    md5={name: md5(content) for name, content in TINY_CONTENT.items()},
    mirrors=(),
)
# Same file names, different content: plays "the other dataset" for the skip logic.
TWIN_ARRAYS = {"train": make_split(6, seed=11, label=7), "test": make_split(4, seed=12, label=7)}
TWIN_CONTENT = {**split_files("train", *TWIN_ARRAYS["train"]), **split_files("test", *TWIN_ARRAYS["test"])}
TWIN = dataclasses.replace(TINY, name="tiny-twin", md5={n: md5(c) for n, c in TWIN_CONTENT.items()})
TINY_GZ = {f"{name}.gz": gzip.compress(content) for name, content in TINY_CONTENT.items()}


def write_files(folder: Path, contents: dict[str, bytes], gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- isolation


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path_factory):
    """Nothing from the developer's machine: fresh HOME, no data dir, no mirrors, no proxies."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    monkeypatch.delenv("VAE_DATA_DIR", raising=False)
    monkeypatch.delenv("VAE_DATA_MIRRORS", raising=False)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return home


# --------------------------------------------------------------------------- local HTTP server


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (mode, body)``; mode is ok, 404, truncate or chunked-truncate."""

    def do_GET(self):  # noqa: N802
        self.server.requests.append(self.path)
        mode, body = self.server.routes.get(self.path, ("404", b""))
        if mode == "404":
            self.send_error(404, "Not Found")
            return
        if mode == "chunked-truncate":
            self.protocol_version = "HTTP/1.1"
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Connection", "close")
            self.end_headers()
            half = body[: len(body) // 2]
            self.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")
            self.wfile.write(f"{len(body):x}\r\n".encode() + body[:10])  # chunk cut short
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(body[: len(body) // 2])  # fewer bytes than announced, then close
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LocalServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}
        self.httpd.requests = []
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def serve(self, prefix: str, files: dict[str, bytes], mode: str = "ok") -> str:
        """Serve ``files`` (name -> body) under ``/<prefix>/``; returns that base URL."""
        for name, body in files.items():
            self.httpd.routes[f"/{prefix}/{name}"] = (mode, body)
        return f"{self.base}/{prefix}/"

    def reset(self):
        self.httpd.routes.clear()
        self.httpd.requests.clear()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def _server():
    server = LocalServer()
    yield server
    server.close()


@pytest.fixture
def server(_server):
    _server.reset()
    yield _server
    _server.reset()


def refused_url() -> str:
    """A 127.0.0.1 URL where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# --------------------------------------------------------------------------- specs and search order


def test_specs_describe_both_datasets():
    assert set(DATASETS) == {"mnist", "fashion-mnist"}
    assert MNIST.classes == tuple("0123456789")
    assert FASHION_MNIST.classes == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    for spec in (MNIST, FASHION_MNIST):
        assert spec.files == FILES
        assert set(spec.md5) == set(ALL_NAMES)
    assert MNIST.md5["train-images-idx3-ubyte"] == "6bbc9ace898e44ae57da46a324031adb"
    assert FASHION_MNIST.md5["t10k-labels-idx1-ubyte"] == "15d484375f8d13e6eb1aabb0c3f46965"
    assert FASHION_MNIST.system_dirs == ("/usr/share/datasets/fashion-mnist",)
    assert issubclass(DataError, VAEError)


def test_unknown_dataset_and_split_are_data_errors():
    with pytest.raises(DataError, match=r"unknown dataset 'cifar'.*mnist, fashion-mnist"):
        load_dataset("cifar")
    with pytest.raises(DataError, match=r"unknown split 'valid'.*train, test"):
        load_dataset("mnist", "valid")


def test_candidate_dirs_order(monkeypatch, tmp_path, isolated):
    cache = isolated / ".cache" / "vae-explorer"
    assert candidate_dirs("mnist") == [cache / "mnist"]
    assert candidate_dirs("fashion-mnist") == [cache / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist")]
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path / "d"))
    assert candidate_dirs("fashion-mnist") == [tmp_path / "d" / "fashion-mnist", tmp_path / "d",
                                               cache / "fashion-mnist", Path("/usr/share/datasets/fashion-mnist")]
    assert candidate_dirs("mnist", root=tmp_path / "r") == [tmp_path / "r"]
    assert data.cache_dir("mnist") == cache / "mnist"


def test_search_order_is_root_env_subfolder_env_cache_system(monkeypatch, tmp_path, isolated):
    """Each place holds a copy whose labels say which place it is; removing it reveals the next."""
    root, env, system = tmp_path / "root", tmp_path / "env", tmp_path / "system"
    spec = dataclasses.replace(TINY, system_dirs=(str(system),))
    places = {1: root, 2: env / "tiny", 3: env, 4: isolated / ".cache" / "vae-explorer" / "tiny", 5: system}
    for label, folder in places.items():
        images, _ = make_split(3, seed=label)
        write_files(folder, split_files("test", images, np.full(3, label, np.uint8)))
    monkeypatch.setenv("VAE_DATA_DIR", str(env))

    def found(**kw) -> int:
        ds = load_dataset(spec, "test", download=False, verify=False, **kw)
        return int(np.unique(ds.labels).item())

    assert found(root=root) == 1
    for label in (2, 3, 4, 5):
        assert found() == label
        for f in FILES["test"]:
            (places[label] / f"{f}.gz").unlink()
    with pytest.raises(DataError, match="not on this machine"):
        found()


def test_folder_with_only_some_files_is_skipped(monkeypatch, tmp_path, isolated):
    env = tmp_path / "env"
    write_files(env / "tiny", {"t10k-images-idx3-ubyte": TINY_CONTENT["t10k-images-idx3-ubyte"]})
    write_files(env, {n: TINY_CONTENT[n] for n in FILES["test"]})
    monkeypatch.setenv("VAE_DATA_DIR", str(env))
    ds = load_dataset(TINY, "test", download=False)
    np.testing.assert_array_equal(ds.images, TINY_ARRAYS["test"][0])


def test_reads_gz_and_uncompressed_files_alike(tmp_path):
    plain = write_files(tmp_path / "plain", TINY_CONTENT, gz=False)
    packed = write_files(tmp_path / "packed", TINY_CONTENT, gz=True)
    assert listing(plain)[0].endswith("ubyte") and listing(packed)[0].endswith(".gz")
    for split, (images, labels) in TINY_ARRAYS.items():
        for folder in (plain, packed):
            ds = load_dataset(TINY, split, root=folder, download=False)
            assert (ds.name, ds.split, len(ds)) == ("tiny", split, len(labels))
            assert ds.images.dtype == np.uint8 and ds.images.shape == (len(labels), 28, 28)
            assert ds.labels.dtype == np.int64
            np.testing.assert_array_equal(ds.images, images)
            np.testing.assert_array_equal(ds.labels, labels)
            assert ds.classes == TINY.classes


def test_folder_of_the_other_dataset_is_skipped_unless_explicit(monkeypatch, tmp_path, isolated):
    monkeypatch.setitem(DATASETS, "tiny", TINY)
    monkeypatch.setitem(DATASETS, "tiny-twin", TWIN)
    shared = write_files(tmp_path / "shared", TWIN_CONTENT)  # the twin's files, same names
    write_files(isolated / ".cache" / "vae-explorer" / "tiny", TINY_CONTENT)
    monkeypatch.setenv("VAE_DATA_DIR", str(shared))
    ds = load_dataset("tiny", "train", download=False)
    np.testing.assert_array_equal(ds.labels, TINY_ARRAYS["train"][1])  # from the cache, not the twin
    assert load_dataset("tiny-twin", "train", download=False).labels.tolist() == [7] * 6
    with pytest.raises(DataError) as err:
        load_dataset("tiny", "train", root=shared, download=False)
    msg = str(err.value)
    assert str(shared / "train-images-idx3-ubyte.gz") in msg
    assert "checksum mismatch" in msg and "it is the tiny-twin file" in msg and "download it again" in msg


def test_system_dir_is_searched_for_fashion_mnist(monkeypatch, tmp_path):
    """The real FASHION_MNIST spec's search logic, with its Debian folder moved to tmp_path."""
    system = tmp_path / "usr-share-datasets-fashion-mnist"
    spec = dataclasses.replace(FASHION_MNIST, md5=TINY.md5, system_dirs=(str(system),))
    assert candidate_dirs(spec)[-1] == system
    write_files(system, TINY_CONTENT)
    ds = load_dataset(spec, "test", download=False)
    assert ds.classes[0] == "T-shirt/top" and len(ds) == 4


# --------------------------------------------------------------------------- IDX parsing and damaged files


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_parse_idx_roundtrip(n, seed):
    images, labels = make_split(n, seed)
    np.testing.assert_array_equal(parse_idx(idx_bytes(images, IMAGE_MAGIC), expect_magic=IMAGE_MAGIC), images)
    np.testing.assert_array_equal(parse_idx(idx_bytes(labels, LABEL_MAGIC), expect_magic=LABEL_MAGIC), labels)


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 4 + 12 + 2 * 784 - 1))
def test_parse_idx_any_prefix_is_truncated(cut):
    blob = idx_bytes(make_split(2, 0)[0], IMAGE_MAGIC)[:cut]
    with pytest.raises(DataError, match=r"some-file: truncated file.*download it again"):
        parse_idx(blob, "some-file", IMAGE_MAGIC)


def test_parse_idx_extra_bytes_and_magic():
    blob = idx_bytes(make_split(1, 0)[1], LABEL_MAGIC)
    with pytest.raises(DataError, match=r"f: 3 bytes more than its header announces.*damaged"):
        parse_idx(blob + b"abc", "f")
    with pytest.raises(DataError, match=r"f: wrong magic number 0x00000801 \(expected 0x00000803\)"):
        parse_idx(blob, "f", IMAGE_MAGIC)
    with pytest.raises(DataError, match=r"wrong magic number 0x1f8b0800"):
        parse_idx(gzip.compress(blob)[:4] + blob[4:], "f")


def _bad_folder(tmp_path: Path, replace: dict[str, bytes], gz: bool = True) -> Path:
    return write_files(tmp_path / "bad", {**{n: TINY_CONTENT[n] for n in FILES["train"]}, **replace}, gz=gz)


def test_wrong_magic_number_file(tmp_path):
    images, labels = TINY_ARRAYS["train"]
    folder = _bad_folder(tmp_path, {"train-labels-idx1-ubyte": idx_bytes(images, IMAGE_MAGIC)})
    with pytest.raises(DataError) as err:
        load_dataset(TINY, "train", root=folder, download=False, verify=False)
    msg = str(err.value)
    assert str(folder / "train-labels-idx1-ubyte.gz") in msg
    assert "wrong magic number 0x00000803 (expected 0x00000801)" in msg and "replace it" in msg


def test_truncated_file(tmp_path):
    name = "train-images-idx3-ubyte"
    folder = _bad_folder(tmp_path, {name: TINY_CONTENT[name][:-100]}, gz=False)
    with pytest.raises(DataError) as err:
        load_dataset(TINY, "train", root=folder, download=False, verify=False)
    msg = str(err.value)
    assert str(folder / name) in msg and "truncated file" in msg and "download it again" in msg
    # With verification on (the default) the same file is caught by its checksum first.
    with pytest.raises(DataError, match=rf"{name}: checksum mismatch for tiny: MD5 [0-9a-f]{{32}}, expected "
                                        rf"{TINY.md5[name]}; delete it and download it again"):
        load_dataset(TINY, "train", root=folder, download=False)


def test_truncated_gzip_stream(tmp_path):
    name = "train-labels-idx1-ubyte"
    folder = _bad_folder(tmp_path, {})
    gz = folder / f"{name}.gz"
    gz.write_bytes(gz.read_bytes()[:-12])
    with pytest.raises(DataError) as err:
        load_dataset(TINY, "train", root=folder, download=False)
    msg = str(err.value)
    assert str(gz) in msg and "cannot be read" in msg and "download it again" in msg


def test_image_label_count_mismatch(tmp_path):
    folder = _bad_folder(tmp_path, {"train-labels-idx1-ubyte": idx_bytes(np.zeros(5, np.uint8), LABEL_MAGIC)})
    with pytest.raises(DataError) as err:
        load_dataset(TINY, "train", root=folder, download=False, verify=False)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz has 6 images" in msg
    assert "train-labels-idx1-ubyte.gz has 5 labels" in msg and "download both again" in msg


def test_label_out_of_range(tmp_path):
    folder = _bad_folder(tmp_path, {"train-labels-idx1-ubyte": idx_bytes(np.full(6, 12, np.uint8), LABEL_MAGIC)})
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte.gz: label 12 is out of range 0..9"):
        load_dataset(TINY, "train", root=folder, download=False, verify=False)


def test_checksum_mismatch_names_file_and_fix(tmp_path):
    name = "train-images-idx3-ubyte"
    damaged = bytearray(TINY_CONTENT[name])
    damaged[500] ^= 0xFF
    folder = _bad_folder(tmp_path, {name: bytes(damaged)})
    with pytest.raises(DataError) as err:
        load_dataset(TINY, "train", root=folder, download=False)
    msg = str(err.value)
    assert str(folder / f"{name}.gz") in msg
    assert f"MD5 {md5(bytes(damaged))}, expected {TINY.md5[name]}" in msg and "download it again" in msg


# --------------------------------------------------------------------------- nothing present


def test_load_without_download_when_nothing_is_present(tmp_path, isolated):
    with pytest.raises(DataError) as err:
        load_dataset(TINY, "train", download=False)
    msg = str(err.value)
    cache = isolated / ".cache" / "vae-explorer" / "tiny"
    assert "tiny is not on this machine" in msg and f"looked in: {cache}" in msg
    assert "python -m vae_core download --dataset tiny" in msg
    assert str(cache) in msg and all(f"{n}.gz" in msg for n in ALL_NAMES)
    assert not cache.exists()  # nothing created when not downloading


def test_load_without_download_explicit_root_says_where(tmp_path):
    root = tmp_path / "mine"
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "test", root=root, download=False)
    msg = str(err.value)
    assert f"looked in: {root}" in msg and f"place these files in {root}:" in msg
    assert f"python -m vae_core download --dataset mnist --data-dir {root}" in msg
    assert all(f"{n}.gz" in msg for n in ALL_NAMES)


def test_download_without_network_lists_files_and_folder(monkeypatch, tmp_path, isolated):
    monkeypatch.setenv("VAE_DATA_MIRRORS", f"{refused_url()},{refused_url()}")
    with pytest.raises(DataError) as err:
        download(TINY)
    msg = str(err.value)
    cache = isolated / ".cache" / "vae-explorer" / "tiny"
    assert "could not download train-images-idx3-ubyte.gz for tiny: no mirror answered" in msg
    assert msg.count("127.0.0.1") >= 2  # both mirrors tried, each named
    assert f"Without network, place these files in {cache}: " + ", ".join(f"{n}.gz" for n in ALL_NAMES) in msg
    assert listing(cache) == []


def test_real_mnist_download_without_network(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_DATA_MIRRORS", refused_url())
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "test", root=tmp_path / "m")
    msg = str(err.value)
    assert "no mirror answered" in msg and f"place these files in {tmp_path / 'm'}" in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert listing(tmp_path / "m") == []


# --------------------------------------------------------------------------- downloads


def test_mirrors_env_overrides_spec(monkeypatch):
    assert mirrors_for(MNIST) == MNIST.mirrors
    monkeypatch.setenv("VAE_DATA_MIRRORS", " http://127.0.0.1:1/a/ , ,http://127.0.0.1:2/b")
    assert mirrors_for(MNIST) == ("http://127.0.0.1:1/a/", "http://127.0.0.1:2/b")
    assert mirrors_for(FASHION_MNIST) == ("http://127.0.0.1:1/a/", "http://127.0.0.1:2/b")


@pytest.mark.parametrize("first", ["404", "refused"])
def test_download_falls_back_to_next_mirror(server, monkeypatch, tmp_path, first):
    good = server.serve("good", TINY_GZ)
    bad = server.serve("missing", {}) if first == "404" else refused_url()
    # The spec's own mirror refuses connections: success proves $VAE_DATA_MIRRORS replaced it.
    spec = dataclasses.replace(TINY, mirrors=(refused_url(),))
    monkeypatch.setenv("VAE_DATA_MIRRORS", f"{bad},{good}")
    root = tmp_path / "dl"
    ds = load_dataset(spec, "test", root=root)
    np.testing.assert_array_equal(ds.images, TINY_ARRAYS["test"][0])
    np.testing.assert_array_equal(ds.labels, TINY_ARRAYS["test"][1])
    assert listing(root) == sorted(f"{n}.gz" for n in FILES["test"])
    for n in FILES["test"]:
        assert (root / f"{n}.gz").read_bytes() == TINY_GZ[f"{n}.gz"]
        assert f"/good/{n}.gz" in server.requests
        if first == "404":
            assert f"/missing/{n}.gz" in server.requests


def test_download_streams_to_part_and_reports_progress(server, tmp_path):
    name = "train-images-idx3-ubyte"
    body = TINY_GZ[f"{name}.gz"]
    url = server.serve("good", {f"{name}.gz": body})
    calls, seen = [], []

    def progress(fname, done, total):
        calls.append((fname, done, total))
        seen.append(listing(tmp_path / "dl"))

    path = download_file(TINY, name, tmp_path / "dl", mirrors=(url,), progress=progress)
    assert path == tmp_path / "dl" / f"{name}.gz" and path.read_bytes() == body
    assert calls and all(f == f"{name}.gz" and t == len(body) for f, _, t in calls)
    done = [d for _, d, _ in calls]
    assert done == sorted(set(done)) and done[-1] == len(body)
    # While streaming, only a *.part file exists; the final name appears only at the end.
    for names in seen:
        assert len(names) == 1 and names[0].startswith(f"{name}.gz") and names[0].endswith(".part")
    assert listing(tmp_path / "dl") == [f"{name}.gz"]


def test_download_progress_over_many_chunks(server, tmp_path):
    """A body bigger than one read: several callbacks, strictly increasing, ending at the total."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)  # incompressible: ~235 kB of gzip
    content = idx_bytes(images, IMAGE_MAGIC)
    name = "train-images-idx3-ubyte"
    spec = dataclasses.replace(TINY, md5={**TINY.md5, name: md5(content)})
    body = gzip.compress(content)
    url = server.serve("big", {f"{name}.gz": body})
    calls = []
    download_file(spec, name, tmp_path, mirrors=(url,), progress=lambda *a: calls.append(a))
    done = [d for _, d, _ in calls]
    assert len(done) >= 3 and all(a < b for a, b in zip(done, done[1:]))
    assert done[-1] == len(body) and {t for _, _, t in calls} == {len(body)}


def test_truncated_download_leaves_nothing(server, tmp_path):
    name = "train-labels-idx1-ubyte"
    url = server.serve("cut", {f"{name}.gz": TINY_GZ[f"{name}.gz"] + b"\0" * 400}, mode="truncate")
    dest = tmp_path / "dl"
    with pytest.raises(DataError) as err:
        download_file(TINY, name, dest, mirrors=(url,))
    msg = str(err.value)
    total = len(TINY_GZ[f"{name}.gz"]) + 400
    assert f"could not download a valid {name}.gz for tiny" in msg
    assert f"{url}{name}.gz: connection closed after {total // 2:,} of {total:,} bytes" in msg
    assert listing(dest) == []


def test_truncated_chunked_download_leaves_nothing(server, tmp_path):
    name = "t10k-images-idx3-ubyte"
    url = server.serve("chunk", {f"{name}.gz": TINY_GZ[f"{name}.gz"]}, mode="chunked-truncate")
    with pytest.raises(DataError) as err:
        download_file(TINY, name, tmp_path, mirrors=(url,))
    assert f"{url}{name}.gz" in str(err.value) and f"{name}.gz for tiny" in str(err.value)
    assert listing(tmp_path) == []


def test_truncated_then_good_mirror(server, tmp_path):
    name = "train-labels-idx1-ubyte"
    cut = server.serve("cut", {f"{name}.gz": TINY_GZ[f"{name}.gz"]}, mode="truncate")
    good = server.serve("good", TINY_GZ)
    path = download_file(TINY, name, tmp_path, mirrors=(cut, good))
    assert path.read_bytes() == TINY_GZ[f"{name}.gz"] and listing(tmp_path) == [f"{name}.gz"]
    assert server.requests == [f"/cut/{name}.gz", f"/good/{name}.gz"]


def test_checksum_mismatch_download_leaves_nothing(server, tmp_path):
    name = "train-images-idx3-ubyte"
    wrong = gzip.compress(TWIN_CONTENT[name])
    url = server.serve("wrong", {f"{name}.gz": wrong})
    with pytest.raises(DataError) as err:
        download_file(TINY, name, tmp_path, mirrors=(url,))
    msg = str(err.value)
    assert f"{url}{name}.gz: checksum mismatch for tiny: MD5 {md5(TWIN_CONTENT[name])}" in msg
    assert f"expected {TINY.md5[name]}" in msg
    assert listing(tmp_path) == []


def test_not_gzip_download_is_rejected(server, tmp_path):
    name = "train-images-idx3-ubyte"
    url = server.serve("html", {f"{name}.gz": b"<html>captive portal</html>"})
    with pytest.raises(DataError, match=rf"could not download a valid {name}.gz for tiny: .*{name}.gz"):
        download_file(TINY, name, tmp_path, mirrors=(url,))
    assert listing(tmp_path) == []


def test_interrupted_download_leaves_no_part(server, tmp_path):
    name = "train-images-idx3-ubyte"
    url = server.serve("good", TINY_GZ)

    def interrupt(fname, done, total):
        assert any(p.endswith(".part") for p in listing(tmp_path))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download_file(TINY, name, tmp_path, mirrors=(url,), progress=interrupt)
    assert listing(tmp_path) == []


def test_download_all_splits_into_cache_once(server, monkeypatch, isolated):
    monkeypatch.setenv("VAE_DATA_MIRRORS", server.serve("good", TINY_GZ))
    seen = set()
    download(TINY, progress=lambda f, d, t: seen.add(f))
    cache = isolated / ".cache" / "vae-explorer" / "tiny"
    assert listing(cache) == sorted(TINY_GZ) and seen == set(TINY_GZ)
    assert len(server.requests) == 4
    download(TINY)  # everything present: no new request
    assert len(server.requests) == 4
    ds = load_dataset(TINY, "train", download=False)
    np.testing.assert_array_equal(ds.images, TINY_ARRAYS["train"][0])


def test_download_only_what_is_missing(server, tmp_path):
    root = write_files(tmp_path / "r", {"t10k-images-idx3-ubyte": TINY_CONTENT["t10k-images-idx3-ubyte"]})
    url = server.serve("good", TINY_GZ)
    path = download_file(TINY, "t10k-labels-idx1-ubyte", root, mirrors=(url,))
    assert path.name == "t10k-labels-idx1-ubyte.gz"
    assert server.requests == ["/good/t10k-labels-idx1-ubyte.gz"]
    assert len(load_dataset(TINY, "test", root=root, download=False)) == 4


def test_download_into_uncreatable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataError, match=rf"cannot create the data folder {blocker / 'sub'}.*VAE_DATA_DIR"):
        download_file(TINY, "train-images-idx3-ubyte", blocker / "sub", mirrors=("http://127.0.0.1:1/",))


@needs_mnist
def test_download_real_mnist_from_local_mirror(server, monkeypatch, tmp_path):
    files = {f"{n}.gz": (MNIST_DIR / f"{n}.gz").read_bytes() for n in ALL_NAMES}
    monkeypatch.setenv("VAE_DATA_MIRRORS", f"{refused_url()},{server.serve('mnist', files)}")
    root = tmp_path / "mnist"
    train = load_dataset("mnist", "train", root=root)
    test = load_dataset("mnist", "test", root=root)
    assert (len(train), len(test)) == (60_000, 10_000)
    assert train.images.shape == (60_000, 28, 28) and test.labels.dtype == np.int64
    assert listing(root) == sorted(files)
    assert all((root / f).read_bytes() == body for f, body in files.items())


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def real():
    """Each real split loaded once (with verification) for the whole module."""
    cache = {}

    def get(name: str, split: str):
        if (name, split) not in cache:
            folder = {"mnist": MNIST_DIR, "fashion-mnist": FASHION_DIR}[name]
            cache[name, split] = load_dataset(name, split, root=folder, download=False)
        return cache[name, split]

    return get


@pytest.mark.parametrize("name", [
    pytest.param("mnist", marks=needs_mnist),
    pytest.param("fashion-mnist", marks=needs_fashion),
])
@pytest.mark.parametrize("split,count", [("train", 60_000), ("test", 10_000)])
def test_real_dataset(real, name, split, count):
    ds = real(name, split)
    spec = DATASETS[name]
    assert (ds.name, ds.split, len(ds)) == (name, split, count)
    assert ds.images.shape == (count, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.shape == (count,) and ds.labels.dtype == np.int64
    assert ds.labels.min() == 0 and ds.labels.max() == 9
    assert set(np.unique(ds.labels).tolist()) == set(range(10))
    assert ds.classes == spec.classes and len(ds.classes) == 10
    assert ds.images.max() == 255 and ds.images.min() == 0
    # Re-encoding the arrays gives back the original uncompressed files, byte for byte.
    img_name, lbl_name = FILES[split]
    assert md5(idx_bytes(ds.images, IMAGE_MAGIC)) == spec.md5[img_name]
    assert md5(idx_bytes(ds.labels.astype(np.uint8), LABEL_MAGIC)) == spec.md5[lbl_name]


def test_real_md5_values_are_the_issues():
    assert MNIST.md5 == {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    }
    assert FASHION_MNIST.md5 == {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    }


@needs_mnist
@needs_fashion
def test_real_other_dataset_folder_skipped_or_named(monkeypatch):
    """A data dir holding Fashion-MNIST is passed over for MNIST; given explicitly, it is named."""
    monkeypatch.setenv("VAE_DATA_DIR", str(FASHION_DIR))
    with pytest.raises(DataError, match="mnist is not on this machine"):
        load_dataset("mnist", "test", download=False)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "test", root=FASHION_DIR, download=False)
    msg = str(err.value)
    assert str(FASHION_DIR / "t10k-images-idx3-ubyte.gz") in msg
    assert "checksum mismatch for mnist (it is the fashion-mnist file)" in msg


@needs_mnist
def test_real_data_dir_subfolder(monkeypatch):
    """$VAE_DATA_DIR=../shared/data finds ../shared/data/mnist/."""
    monkeypatch.setenv("VAE_DATA_DIR", str(SHARED_DATA))
    ds = load_dataset("mnist", "test", download=False, verify=False)
    assert len(ds) == 10_000
