"""Issue 6, reliability and security: every hostile or broken input ends in one clear
sentence, `error: ...` and a non-zero exit in the CLI, `st.error` in the app (which keeps
running); no pickle is ever executed; stops, kills, full disks and divergent runs never
leave a torn checkpoint; one visitor's models never reach another.

The catalogues below (hostile checkpoints, broken data folders) are shared by the CLI and
the app tests, so both are checked against the same files and the same messages. The core
refusals themselves are tested case by case in test_checkpoint.py and test_data.py.
"""

from __future__ import annotations

import ast
import gc
import gzip
import hashlib
import io
import json
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from safetensors.torch import save as st_save
from streamlit.testing.v1 import AppTest

import vae_core
from vae_core import training
from vae_core.checkpoint import Checkpoint, Latents, checkpoint_bytes, load_checkpoint
from vae_core.cli import main
from vae_core.data import (IMAGE_MAGIC, LABEL_MAGIC, MAX_FILE_BYTES, MNIST, DatasetSpec, download_file,
                           load_dataset, parse_idx)
from vae_core.errors import DataError
from vae_core.model import VAE, VAEConfig, build_model
from ui.state import MAX_USER_MODELS
from ui.training_service import server_queue

from helpers.data import FUZZ, MNIST_DIR, ROOT, has_mnist, needs_mnist
from helpers.safetensors_bytes import join, split
from helpers.training import finished, nan_from_step_in_workers, nan_loss_from
from helpers.apptest import show

CLASSES = tuple(str(i) for i in range(10))
PAGES = re.findall(r'st\.Page\("pages/(\w+)\.py"', (ROOT / "app.py").read_text())  # every page of the app


# --- the catalogue of hostile checkpoints --------------------------------------------------------

def small_checkpoint(hidden=(16,), n: int = 12, seed: int = 0, dataset: str = "mnist", latents: bool = True,
                     scale: float = 1.0, **config) -> Checkpoint:
    cfg = VAEConfig(hidden=hidden, **config)
    rng = np.random.default_rng(seed)
    lat = Latents((scale * rng.normal(size=(n, cfg.latent_dim))).astype(np.float32),
                  rng.normal(-2, 0.5, size=(n, cfg.latent_dim)).astype(np.float32),
                  rng.integers(0, 10, n).astype(np.int64)) if latents else None
    return Checkpoint.from_model(build_model(cfg, seed=seed), dataset=dataset, classes=CLASSES, latents=lat)


VALID = checkpoint_bytes(small_checkpoint())



class Payload:
    """Unpickling this creates ``marker``: the proof that something ran code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _saved(save) -> bytes:
    """What ``save(file)`` writes."""
    buffer = io.BytesIO()
    save(buffer)
    return buffer.getvalue()


def _foreign_weights(config: VAEConfig) -> bytes:
    """Real weights of another model under VALID's metadata (a forged or mixed-up file)."""
    state = build_model(config, seed=0).state_dict()
    return st_save({f"model.{k}": v.contiguous() for k, v in state.items()}, split(VALID)[0]["__metadata__"])


def _poisoned(value: float) -> bytes:
    ckpt = small_checkpoint()
    with torch.no_grad():
        ckpt.model.to_stats.weight[0, 0] = value
    return checkpoint_bytes(ckpt)


def _with_header(**entries) -> bytes:
    header, body = split(VALID)
    return join({**header, **entries}, body)


def hostile_checkpoints(marker: Path) -> dict[str, bytes]:
    """Files that must be refused; the pickled ones would create ``marker`` if unpickled."""
    meta = dict(split(VALID)[0]["__metadata__"])
    return {
        "pickle": pickle.dumps(Payload(marker)),
        "torch-save": _saved(lambda f: torch.save({"state_dict": Payload(marker)}, f)),
        "torch-save-legacy": _saved(lambda f: torch.save({"state_dict": Payload(marker)}, f,
                                                         _use_new_zipfile_serialization=False)),
        "zero-bytes": b"",
        "random-bytes": np.random.default_rng(0).bytes(4096),
        "truncated": VALID[:len(VALID) // 2],
        "other-shape": _foreign_weights(VAEConfig(hidden=(32,))),
        "other-architecture": _foreign_weights(VAEConfig(arch="conv", hidden=(4, 8, 16))),
        "other-safetensors": st_save({"weight": torch.zeros(3, 3)}, {"format": "pt"}),
        "nan-weights": _poisoned(float("nan")),
        "inf-weights": _poisoned(float("inf")),
        "numpy-npy": _saved(lambda f: np.save(f, np.zeros((3, 4), np.float32))),
        "numpy-npz": _saved(lambda f: np.savez(f, weights=np.zeros((3, 4), np.float32))),
        "hdf5": b"\x89HDF\r\n\x1a\n" + bytes(2040),
        "enormous-tensor": _with_header(**{"latents.z_mean": {"dtype": "F32", "shape": [10 ** 12],
                                                              "data_offsets": [0, 4 * 10 ** 12]}}),
        "enormous-header": struct.pack("<Q", 2 ** 63) + b'{"__metadata__": {}}',
        "enormous-model": _with_header(__metadata__={**meta, "config": json.dumps(
            {**json.loads(meta["config"]), "hidden": [10 ** 9]})}),
        "too-many-classes": _with_header(__metadata__={**meta, "classes": json.dumps([str(i) for i in range(10 ** 5)])}),
    }


_PICKLE = "{name} is a Python pickle (pickles can run code and are never opened here), not a VAE Explorer " \
          "checkpoint (.safetensors)"
_ZIP = "{name} is a zip archive, such as a PyTorch .pt/.pth file (those contain pickled code and are never " \
       "opened here), not a VAE Explorer checkpoint (.safetensors)"
_NO_HEADER = "{name} is not a VAE Explorer checkpoint, or it is truncated (its header does not fit in the file)"
_BROKEN = "{name}: weight 'to_stats.weight' contains NaN or infinite values; the model is broken"

# The one sentence each file gets; {name} is the path in the CLI, the uploaded file's name in the app.
CHECKPOINT_MESSAGES = {
    "pickle": _PICKLE,
    "torch-save": _ZIP,
    "torch-save-legacy": _PICKLE,
    "zero-bytes": "{name} is empty (0 bytes); it is not a checkpoint",
    "random-bytes": _NO_HEADER,
    "truncated": "{name} is truncated or damaged: tensor 'model.decoder.2.weight' points past the end of the file",
    "other-shape": "{name}: weight 'encoder.1.weight' is F32 [32, 784], expected F32 [16, 784] for this architecture",
    "other-architecture": "{name}: the weights do not match the mlp architecture its config describes "
                          "(unexpected decoder.5.bias, decoder.5.weight, decoder.7.bias)",
    "other-safetensors": "{name} is a safetensors file but not a VAE Explorer checkpoint "
                         "(no 'vae-explorer-checkpoint' marker)",
    "nan-weights": _BROKEN,
    "inf-weights": _BROKEN,
    "numpy-npy": "{name} is a NumPy .npy array, not a VAE Explorer checkpoint (.safetensors)",
    "numpy-npz": _ZIP,
    "hdf5": "{name} is an HDF5 file, such as a Keras model, not a VAE Explorer checkpoint (.safetensors)",
    "enormous-tensor": "{name} is truncated or damaged: tensor 'latents.z_mean' points past the end of the file",
    "enormous-header": _NO_HEADER,
    "enormous-model": "{name}: hidden sizes [1000000000] are out of range: 1 to 8 layers of 1 to 4096 units",
    "too-many-classes": "{name}: the class names are malformed (1 to 1000 names of at most 100 characters)",
}
CASES = list(CHECKPOINT_MESSAGES)


def test_the_catalogue_is_complete_and_its_pickles_are_live(tmp_path):
    marker = tmp_path / "pwned"
    files = hostile_checkpoints(marker)
    assert list(files) == CASES
    pickle.loads(files["pickle"])  # what a careless loader would do
    assert marker.exists()
    marker.unlink()
    torch.load(io.BytesIO(files["torch-save"]), weights_only=False)
    assert marker.exists()


# --- checkpoints in the CLI ----------------------------------------------------------------------

def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The real command line, in its own process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "vae_core", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300, check=False)


def one_error_line(capsys) -> str:
    _, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def _checkpoint_commands(folder: Path) -> dict[str, list[str]]:
    """Every command that reads a checkpoint, with the rest of its arguments."""
    out = ["--out", str(folder / "out.png")]
    return {"evaluate": ["--data-dir", str(folder / "no-data"), "--no-download"], "sample": out, "grid": out,
            "scatter": out, "encode": [str(ROOT / "pretrained" / "mnist-manifold.png")]}


@pytest.mark.parametrize("command", ["evaluate", "sample", "grid", "scatter", "encode"])
@pytest.mark.parametrize("case", CASES)
def test_cli_refuses_each_hostile_checkpoint_in_one_line(case, command, tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = tmp_path / f"{case}.safetensors"
    path.write_bytes(hostile_checkpoints(marker)[case])
    assert main([command, str(path), *_checkpoint_commands(tmp_path)[command]]) == 1
    assert one_error_line(capsys) == "error: " + CHECKPOINT_MESSAGES[case].format(name=path)
    assert not marker.exists() and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("case", ["pickle", "enormous-tensor"])
def test_cli_process_prints_one_line_and_runs_no_code(case, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    path.write_bytes(hostile_checkpoints(marker)[case])
    result = run_cli("sample", str(path), "--out", str(tmp_path / "out.png"), cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "error: " + CHECKPOINT_MESSAGES[case].format(name=path) + "\n"
    assert not marker.exists() and sorted(os.listdir(tmp_path)) == ["model.safetensors"]


# --- checkpoints in the app ----------------------------------------------------------------------

def new_app(monkeypatch, data_dir: Path | None = None) -> AppTest:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("VAE_DATA_DIR", str(data_dir or (MNIST_DIR if has_mnist else ROOT / "no-data-here")))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app(monkeypatch) -> AppTest:
    return new_app(monkeypatch)


def picker(at: AppTest):
    return at.sidebar.selectbox(key="model_id")


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.sidebar.file_uploader[0].set_value((name, data, "application/octet-stream")).run()
    return at


def assert_app_runs(at: AppTest, title: str = "Explore the latent space") -> None:
    """No exception element; the page, the picker and the scatter are all there."""
    assert not at.exception, [e.value for e in at.exception]
    assert at.title and at.title[0].value == title
    assert "MNIST (pretrained)" in picker(at).options
    if title == "Explore the latent space":  # the live latent plane and its preview
        names = [e.proto.component_name for e in at.get("bidi_component")]
        assert names.count("vae_explorer.latent_plane") == 2


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("case", CASES)
def test_app_refuses_each_hostile_upload_with_one_error_and_keeps_running(case, app, tmp_path):
    marker = tmp_path / "pwned"
    before = list(picker(app).options), picker(app).value
    upload(app, f"{case}.safetensors", hostile_checkpoints(marker)[case])
    assert [e.value for e in app.error] == [CHECKPOINT_MESSAGES[case].format(name=f"{case}.safetensors")]
    assert (list(picker(app).options), picker(app).value) == before  # nothing was added or selected
    assert_app_runs(app)
    assert not marker.exists()
    upload(app, "good.safetensors", VALID)  # the same session still takes a sound file
    assert not app.error and picker(app).value.startswith("session/")
    assert "good.safetensors (uploaded)" in picker(app).options


def odd_checkpoints() -> dict[str, bytes]:
    """Sound files the loader accepts, with unusual content an uploader controls."""
    files = {"conv": small_checkpoint(arch="conv", hidden=(4, 8, 16)),
             "unknown-dataset": small_checkpoint(dataset="../../etc/passwd"),
             "unknown-dataset-no-latents": small_checkpoint(dataset="my-own-data", latents=False),
             "no-test-images": small_checkpoint(n=0),
             "huge-latents": small_checkpoint(scale=1e30)}
    files = {name: checkpoint_bytes(ckpt) for name, ckpt in files.items()}
    meta = split(VALID)[0]["__metadata__"]
    files["metrics-not-numbers"] = _with_header(__metadata__={**meta, "metrics": json.dumps({"neg_elbo": "abc"})})
    files["metrics-incomplete"] = _with_header(__metadata__={**meta, "metrics": json.dumps({"neg_elbo": 1.0})})
    return files


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # codes of 1e30 overflow numpy, on purpose
@pytest.mark.parametrize("case", list(odd_checkpoints()))
def test_app_shows_every_page_for_unusual_but_sound_uploads(case, app):
    upload(app, f"{case}.safetensors", odd_checkpoints()[case])
    assert not app.error and picker(app).value.startswith("session/")
    entry_id = picker(app).value
    for pick in ({"index": 3, "z": [0.1, 0.2]}, {"index": None, "z": [0.1, 0.2]}):
        show(app, entry_id, pick)
        app.run()
        assert not app.exception, (pick, [e.value for e in app.exception])
    for page in PAGES:
        open_page(app, page)
    assert picker(app).value == entry_id


def test_a_conditional_upload_is_explained_and_the_cli_samples_its_classes(app, tmp_path, capsys):
    data = checkpoint_bytes(small_checkpoint(num_classes=10))
    upload(app, "cvae.safetensors", data)
    assert [e.value for e in app.error] == [
        "cvae.safetensors is a conditional VAE, which needs a class for every image it draws; the explorer's pages "
        "show unconditional models (Generate already makes each class with the shipped conditional VAE)"]
    assert_app_runs(app)
    path = tmp_path / "cvae.safetensors"
    path.write_bytes(data)
    assert main(["sample", str(path), "--label", "3", "--out", str(tmp_path / "s.png")]) == 0
    capsys.readouterr()
    assert main(["sample", str(path), "--out", str(tmp_path / "s.png")]) == 1
    assert one_error_line(capsys) == f"error: {path} is a conditional model: name the class to draw with --label"


@pytest.mark.parametrize("latent_dim", [1, 3])
def test_models_without_a_2d_latent_space(latent_dim, app, tmp_path, capsys):
    """The explorer draws 2-D codes: the app refuses other uploads; the CLI samples them."""
    data = checkpoint_bytes(small_checkpoint(latent_dim=latent_dim))
    upload(app, "wide.safetensors", data)
    assert [e.value for e in app.error] == [(f"wide.safetensors has a {latent_dim}-D latent space; this explorer "
                                             "shows 2-D latent spaces only (train one with --latent-dim 2)")]
    assert_app_runs(app)
    path = tmp_path / "wide.safetensors"
    path.write_bytes(data)
    assert main(["sample", str(path), "--out", str(tmp_path / "s.png")]) == 0
    assert main(["grid", str(path), "--out", str(tmp_path / "g.png")]) == 0
    capsys.readouterr()
    assert main(["scatter", str(path), "--out", str(tmp_path / "c.png")]) == (1 if latent_dim == 1 else 0)
    if latent_dim == 1:
        assert one_error_line(capsys) == f"error: {path} has a 1-D latent space; scatter draws 2-D codes"


# --- broken data files ---------------------------------------------------------------------------

def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def _digits(n: int) -> np.ndarray:
    return np.random.default_rng(n).integers(0, 256, (n, 28, 28), dtype=np.uint8)


DATA_CASES = ["wrong-magic", "truncated", "counts-disagree", "checksum-mismatch", "not-gzip", "gzip-bomb"]


def broken_data(folder: Path, case: str) -> str:
    """A folder with the four MNIST files (small, synthetic) whose training images are broken
    as ``case`` says; returns the message every loader must give. The CLI and the app verify
    checksums first, so a wrong magic number or a count mismatch shows as a checksum mismatch
    (test_data.py checks the structural messages behind it, with verification off)."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = idx_bytes(np.arange(6) % 10, LABEL_MAGIC)
    for name, content in (("train-labels-idx1-ubyte", labels), ("t10k-labels-idx1-ubyte", labels[:-2]),
                          ("t10k-images-idx3-ubyte", idx_bytes(_digits(4), IMAGE_MAGIC))):
        (folder / f"{name}.gz").write_bytes(gzip.compress(content))
    path = folder / "train-images-idx3-ubyte.gz"
    images = idx_bytes(_digits(6), IMAGE_MAGIC)
    content = {"wrong-magic": labels, "counts-disagree": idx_bytes(_digits(5), IMAGE_MAGIC),
               "checksum-mismatch": images[:-1] + bytes([images[-1] ^ 1])}.get(case)
    if content is not None:
        path.write_bytes(gzip.compress(content))
        md5 = hashlib.md5(content).hexdigest()
        return (f"{path}: checksum mismatch for mnist: MD5 {md5}, expected {MNIST.md5['train-images-idx3-ubyte']}; "
                "delete it and download it again")
    if case == "truncated":
        path.write_bytes(gzip.compress(images)[:-100])
        return (f"{path}: cannot be read (Compressed file ended before the end-of-stream marker was reached); "
                "delete it and download it again")
    if case == "not-gzip":
        path.write_bytes(images)
        return rf"{path}: cannot be read (Not a gzipped file (b'\x00\x00')); delete it and download it again"
    assert case == "gzip-bomb"  # 65 KB on disk, 65 MB once decompressed
    with gzip.open(path, "wb") as f:
        for _ in range(MAX_FILE_BYTES // 2 ** 20 + 1):
            f.write(bytes(2 ** 20))
    return (f"{path}: more than {MAX_FILE_BYTES:,} bytes (uncompressed), larger than any MNIST file; "
            "delete it and download it again")


@pytest.mark.parametrize("command", ["train", "evaluate"])
@pytest.mark.parametrize("case", DATA_CASES)
def test_cli_reports_each_broken_data_file_in_one_line(case, command, tmp_path, capsys):
    folder = tmp_path / "data"
    message = broken_data(folder, case)
    out = tmp_path / "model.safetensors"
    args = {"train": ["train", "--out", str(out), "--epochs", "1"],
            "evaluate": ["evaluate", str(ROOT / "pretrained" / "mnist.safetensors")]}[command]
    assert main([*args, "--data-dir", str(folder), "--no-download"]) == 1
    assert one_error_line(capsys) == f"error: {message}"
    assert not out.exists()


@pytest.mark.parametrize("case", DATA_CASES)
def test_app_train_page_reports_each_broken_data_file_and_keeps_running(case, monkeypatch, tmp_path):
    folder = tmp_path / "data"
    message = broken_data(folder, case)
    at = new_app(monkeypatch, data_dir=folder)
    assert_app_runs(at)  # the pretrained model's scatter needs no data
    open_page(at, "train")
    assert not at.warning  # the files are there; only reading them tells they are broken
    at.button(key="train_start").click().run()
    finished(at.session_state["train_job"], 180)
    at.run()
    assert [e.value for e in at.error] == [f"Training failed: {message}"]
    assert not at.exception and "Start training" in [b.label for b in at.button]
    open_page(at, "explore")
    assert_app_runs(at)


# --- the command line: flags, files, outputs -----------------------------------------------------

PRETRAINED = "pretrained/mnist.safetensors"


@pytest.mark.parametrize("args, code, expected", [
    (["evaluate", PRETRAINED, "--bogus"], 2, "unrecognized arguments: --bogus (see `python -m vae_core --help`)"),
    (["sample", PRETRAINED, "--out", "x.png", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["grid", PRETRAINED, "--out", "x.png", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["scatter", PRETRAINED, "--out", "x.png", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["download", "--bogus"], 2, "unrecognized arguments: --bogus"),
    ([], 2, "the following arguments are required: command (see `python -m vae_core --help`)"),
    (["sample", PRETRAINED], 2, "the following arguments are required: --out"),
    (["sample", PRETRAINED, "--out", "x.png", "--temperature", "nan"], 2,
     "argument --temperature: 'nan' is not a finite number"),
    (["grid", PRETRAINED, "--out", "x.png", "--extent", "inf"], 2, "argument --extent: 'inf' is not a finite number"),
    (["grid", PRETRAINED, "--out", "x.png", "--n", "0"], 2, "argument --n: '0' must be at least 1"),
    (["download", "--dataset", "cifar"], 2, "argument --dataset: invalid choice: 'cifar'"),
    (["sample", "missing.safetensors", "--out", "x.png"], 1, "missing.safetensors: no such file"),
    (["grid", "missing.safetensors", "--out", "x.png"], 1, "missing.safetensors: no such file"),
    (["scatter", "missing.safetensors", "--out", "x.png"], 1, "missing.safetensors: no such file"),
    (["evaluate", "."], 1, ".: is a folder, not a checkpoint file"),
    (["evaluate", PRETRAINED, "--data-dir", "no-data", "--no-download"], 1,
     "mnist is not on this machine (looked in: no-data)"),
    (["sample", PRETRAINED, "--out", "no-folder/x.png"], 1, "cannot write no-folder/x.png: No such file or directory"),
    (["grid", PRETRAINED, "--out", "."], 1, "cannot write .: Is a directory"),
    (["scatter", PRETRAINED, "--out", "a-file/x.png"], 1, "cannot write a-file/x.png: Not a directory"),
    (["train", "--out", ".", "--no-download"], 1, ". is a folder; give a file name such as model.safetensors"),
    (["train", "--out", "m.safetensors", "--lr", "nan", "--no-download"], 1, "learning rate must be a positive number"),
    (["train", "--out", "m.safetensors", "--hidden", "0", "--no-download"], 1,
     "hidden sizes [0] are out of range: 1 to 8 layers of 1 to 4096 units"),
])
def test_cli_bad_arguments_files_and_outputs_get_one_line(args, code, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pretrained").mkdir()
    (tmp_path / "pretrained" / "mnist.safetensors").symlink_to(ROOT / PRETRAINED)
    (tmp_path / "a-file").write_text("not a folder")
    assert main(args) == code
    line = one_error_line(capsys)
    assert line.startswith(f"error: {expected}"), line
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "m.safetensors").exists()


def test_cli_process_unwritable_output_prints_no_traceback(tmp_path):
    result = run_cli("grid", str(ROOT / PRETRAINED), "--out", "no-folder/x.png", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


# --- training: stop, divergence ------------------------------------------------------------------

QUICK_CLI = ["--data-dir", str(MNIST_DIR), "--limit", "1200", "--hidden", "32", "--batch-size", "100",
             "--iwae-k", "5"]


@needs_mnist
def test_cli_ctrl_c_stops_after_the_step_and_saves_a_sound_checkpoint(tmp_path):
    out = tmp_path / "model.safetensors"
    proc = subprocess.Popen([sys.executable, "-m", "vae_core", "train", *QUICK_CLI, "--epochs", "500", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seen = []
    while line := proc.stderr.readline():
        seen.append(line)
        if line.startswith("epoch   1/500"):
            break
    proc.send_signal(signal.SIGINT)
    stdout, rest = proc.communicate(timeout=300)
    stderr = "".join(seen) + rest
    assert proc.returncode == 0, stderr
    assert "stopping after this step" in stderr and re.search(
        r"^stopped: stopped (at epoch \d+, step \d+; the model keeps the weights of that step|after epoch \d+)\.$",
        stderr, re.MULTILINE)
    assert "Traceback" not in stderr and stdout.startswith(f"saved {out}")
    ckpt = load_checkpoint(out)
    assert 1 <= len(ckpt.history) < 500 and ckpt.metrics["status"] == "stopped"
    assert os.listdir(tmp_path) == ["model.safetensors"]


DIVERGED_AT_START = (r"training diverged: the loss became \S+ nats per image at epoch 1, step \d+; the weights were "
                     r"rolled back to their initial values\. Try a lower learning rate \(now {lr}\)\. ")


@needs_mnist
def test_cli_learning_rate_10_diverges_and_saves_nothing_over_the_old_file(tmp_path):
    out = tmp_path / "model.safetensors"
    out.write_bytes(VALID)  # a model from an earlier run
    result = run_cli("train", *QUICK_CLI, "--epochs", "2", "--lr", "10", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert re.fullmatch("error: " + DIVERGED_AT_START.format(lr=10) + r"No epoch completed, so there is no model\.",
                        last), last
    assert out.read_bytes() == VALID and os.listdir(tmp_path) == ["model.safetensors"]


@pytest.fixture
def nan_from_step(monkeypatch):
    """Make the training loss NaN from a given optimizer step on (a run that blows up late)."""
    def poison(first_bad_step: int) -> None:
        monkeypatch.setattr(training, "vae_loss", nan_loss_from(first_bad_step, training.vae_loss))
    return poison


@needs_mnist
def test_cli_late_divergence_keeps_and_saves_the_last_good_epoch(tmp_path, nan_from_step, capsys):
    nan_from_step(13)  # 12 steps per epoch: the first step of epoch 2
    out = tmp_path / "model.safetensors"
    assert main(["train", *QUICK_CLI, "--epochs", "3", "--out", str(out)]) == 1
    stdout, stderr = capsys.readouterr()
    assert stderr.splitlines()[-1] == (
        "error: training diverged: the loss became nan nats per image at epoch 2, step 13; the weights were rolled "
        f"back to the end of epoch 1. Try a lower learning rate (now 0.002). The model of epoch 1 was saved as {out}.")
    assert stdout.startswith(f"saved {out}") and "Traceback" not in stderr
    ckpt = load_checkpoint(out)
    assert len(ckpt.history) == 1 and ckpt.metrics["status"] == "diverged"
    assert all(torch.isfinite(p).all() for p in ckpt.model.parameters())


def start_training(at: AppTest, **settings):
    open_page(at, "train")
    for key, value in {"limit": 1000, "iwae_k": 5, **settings}.items():
        at.number_input(key=f"train_{key}").set_value(value).run()
    at.button(key="train_start").click().run()
    return at.session_state["train_job"]


def finish_in_app(at: AppTest, job) -> AppTest:
    finished(job, 180)
    at.run()
    at.run()  # the run after a new model joined the picker
    assert not at.exception, [e.value for e in at.exception]
    return at


@needs_mnist
def test_app_highest_learning_rate_diverges_with_a_clear_error(app):
    """The Train page accepts a learning rate of at most 1.0, which already blows up."""
    assert open_page(app, "train").number_input(key="train_lr").max == 1.0
    finish_in_app(app, start_training(app, lr=1.0, epochs=2))
    assert len(app.error) == 1 and re.fullmatch(
        DIVERGED_AT_START.format(lr=1) + r"No epoch completed, so there is no model\.", app.error[0].value)
    assert not any(o.startswith("My model") for o in picker(app).options)
    assert "Start training" in [b.label for b in app.button]


@needs_mnist
def test_app_late_divergence_keeps_the_last_good_epoch_in_the_picker(app, monkeypatch):
    # the Quick preset takes 4 steps per epoch on 1,000 images; the app trains in worker processes
    monkeypatch.setattr(server_queue().executor, "target", nan_from_step_in_workers(5))
    finish_in_app(app, start_training(app, epochs=3))
    assert [e.value for e in app.error] == [(
        "training diverged: the loss became nan nats per image at epoch 2, step 5; the weights were rolled back to "
        "the end of epoch 1. Try a lower learning rate (now 0.003). That model is now selected in the model picker.")]
    assert picker(app).value.startswith("session/") and "My model 1 (MNIST)" in picker(app).options
    ckpt = app.session_state["user_models"][picker(app).value].ckpt
    assert len(ckpt.history) == 1 and all(torch.isfinite(p).all() for p in ckpt.model.parameters())


@needs_mnist
def test_app_stop_keeps_a_sound_model(app):
    job = start_training(app, epochs=500)
    deadline = time.time() + 120
    while job.snapshot().last_event is None and time.time() < deadline:
        time.sleep(0.1)
    app.run()
    app.button(key="train_stop").click().run()
    finish_in_app(app, job)
    assert job.snapshot().status == "stopped"
    assert len(app.success) == 1 and app.success[0].value.startswith("Finished: stopped ")
    ckpt = app.session_state["user_models"][picker(app).value].ckpt
    assert load_checkpoint(checkpoint_bytes(ckpt)).metrics["status"] == "stopped"  # a sound file to download


# --- killed processes and full disks never leave a torn checkpoint -------------------------------

# Run in a fresh interpreter: it forks savers and SIGKILLs them at random moments. Forking is
# safe there because torch has started no thread pool (one thread, set before any work).
KILLER = r"""
import json, os, random, signal, sys, time
import torch
torch.set_num_threads(1)
from vae_core.checkpoint import Checkpoint, checkpoint_bytes, load_checkpoint, save_checkpoint
from vae_core.errors import CheckpointError
from vae_core.model import VAEConfig, build_model

folder, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
models = [Checkpoint.from_model(build_model(VAEConfig(hidden=(256, 128)), seed=s), dataset="mnist", classes=tuple("0123456789")) for s in (1, 2)]
versions = [m.model.state_dict() for m in models]


def naive_save(ckpt, path):  # the control: what a save without temp file and rename would do
    with open(path, "wb") as f:
        f.write(checkpoint_bytes(ckpt))


def intact(path):  # one of the two checkpoints, whole: a sound file with exactly its weights
    try:
        state = load_checkpoint(path).model.state_dict()
    except CheckpointError:
        return False
    return any(all(torch.equal(state[k], v[k]) for k in v) for v in versions)


def attack(save, folder, rounds, rng):
    os.makedirs(folder)
    path = os.path.join(folder, "model.safetensors")
    start = time.perf_counter()
    for m in models * 3:
        save(m, path)
    period = (time.perf_counter() - start) / 6
    report = {"rounds": rounds, "save_ms": round(1000 * period, 1), "torn": 0, "killed_mid_write": 0, "leftovers": []}
    for _ in range(rounds):
        pid = os.fork()
        if pid == 0:  # the saver: the two models in turn, for ever
            i = rng.randrange(2)
            while True:
                save(models[i % 2], path)
                i += 1
        time.sleep(rng.uniform(0, 3 * period))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        report["torn"] += not intact(path)
        others = sorted(set(os.listdir(folder)) - {"model.safetensors"})
        report["killed_mid_write"] += bool(others)
        report["leftovers"] += others
        for name in others:  # what a user may delete by hand; nothing ever reads these
            os.unlink(os.path.join(folder, name))
    return report


rng = random.Random(seed)
print(json.dumps({"atomic": attack(save_checkpoint, os.path.join(folder, "atomic"), rounds, rng),
                  "naive": attack(naive_save, os.path.join(folder, "naive"), rounds // 2, rng)}))
"""


def run_script(script: str, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-c", script, *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600, check=False)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_during_saves_never_leaves_a_torn_checkpoint(tmp_path):
    result = run_script(KILLER, str(tmp_path), "40", "6")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    print(report)  # pytest -s shows how often the kills landed inside a write
    atomic, naive = report["atomic"], report["naive"]
    assert atomic["torn"] == 0
    assert atomic["killed_mid_write"] >= 1, "no kill landed while a file was being written; the test proved nothing"
    assert naive["torn"] >= 1, "the control (a plain overwrite) was never caught torn; the kills are not sharp enough"
    # A kill mid-write leaves its hidden temporary file behind: harmless (never read), and deletable.
    assert all(re.fullmatch(r"\.model\.safetensors\.\w+\.tmp", name) for name in atomic["leftovers"])
    assert load_checkpoint(tmp_path / "atomic" / "model.safetensors").config.hidden == (256, 128)


# Run inside a private mount namespace whose folder is a real 1 MB tmpfs: the kernel's own
# ENOSPC, first for the library, then for the CLI (a 4.5 MB model cannot fit).
FULL_DISK = r"""
import contextlib, io, json, os, sys
from vae_core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_core.cli import main
from vae_core.errors import CheckpointError
from vae_core.model import VAEConfig, build_model

folder, mnist = sys.argv[1], sys.argv[2]
path = os.path.join(folder, "model.safetensors")
ckpt = lambda hidden: Checkpoint.from_model(build_model(VAEConfig(hidden=hidden), seed=0), dataset="mnist", classes=tuple("0123456789"))
save_checkpoint(ckpt((16,)), path)
before = open(path, "rb").read()
report = {"disk_bytes": os.statvfs(folder).f_blocks * os.statvfs(folder).f_frsize}
try:
    save_checkpoint(ckpt((512, 256)), path)
    report["library"] = "saved"
except CheckpointError as e:
    report["library"] = str(e)
report["library_after"] = [sorted(os.listdir(folder)), open(path, "rb").read() == before]
if os.path.isdir(mnist):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(["train", "--data-dir", mnist, "--limit", "600", "--epochs", "1", "--hidden", "512,256",
                     "--iwae-k", "0", "--out", path])
    report["cli"] = [code, stderr.getvalue().splitlines()[-1], "Traceback" in stderr.getvalue()]
    report["cli_after"] = [sorted(os.listdir(folder)), open(path, "rb").read() == before]
load_checkpoint(path)
print(json.dumps(report))
"""


def _can_mount_tmpfs() -> bool:
    try:
        probe = subprocess.run(["unshare", "--mount", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"],
                               capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_tmpfs(), reason="needs root to mount a tmpfs in a private mount namespace; "
                    "test_checkpoint.py::test_a_full_disk simulates ENOSPC instead")
def test_a_really_full_disk_leaves_the_old_checkpoint_whole(tmp_path):
    folder = tmp_path / "small-disk"
    folder.mkdir()
    # unshare: the mount exists only for this command and vanishes with it, whatever happens.
    mount = ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0" && exec "$@"', str(folder)]
    result = run_script(FULL_DISK, str(folder), str(MNIST_DIR), prefix=tuple(mount))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    path = folder / "model.safetensors"
    assert report["disk_bytes"] == 2 ** 20
    assert report["library"] == f"cannot write {path}: the disk is full; nothing was written under that name"
    assert report["library_after"] == [["model.safetensors"], True]  # no temp file left, old bytes intact
    if has_mnist:
        assert report["cli"] == [1, (f"error: cannot write {path}: the disk is full; nothing was written under "
                                     "that name"), False]
        assert report["cli_after"] == [["model.safetensors"], True]
    assert os.listdir(folder) == []  # outside the namespace the folder never held anything


# --- uploads -------------------------------------------------------------------------------------

def test_the_upload_cap_is_set_and_the_sidebar_says_so(app):
    from ui.sidebar import MAX_UPLOAD_MB

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB == 50  # MB, enforced by Streamlit's server
    assert vae_core.checkpoint.MAX_BYTES >= MAX_UPLOAD_MB * 2 ** 20  # the loader never refuses what fits the cap
    uploader = app.sidebar.file_uploader[0]
    # any file is taken, so a wrong one gets the loader's own sentence (a type filter showed only a red icon)
    assert uploader.help.startswith("Up to 50 MB.") and not uploader.allowed_type
    # An unforeseen error shows its type to a visitor, never a traceback.
    assert config["client"]["showErrorDetails"] == "type"


def test_uploads_are_read_from_memory_and_their_name_is_never_a_path(app, monkeypatch, tmp_path):
    seen = []
    real = vae_core.load_checkpoint

    def spy(source, *args, **kwargs):
        seen.append((type(source), kwargs.get("name")))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(vae_core, "load_checkpoint", spy)
    name = f"../../../../../../{tmp_path}/evil/pwned.safetensors"  # were it a path, it would land in tmp_path
    upload(app, name, VALID)
    assert seen == [(bytes, name)]  # the bytes, held in memory; the name only labels messages and the picker
    assert f"{name} (uploaded)" in picker(app).options and not app.error
    assert os.listdir(tmp_path) == []
    upload(app, "../../x **bold**.safetensors", b"junk")
    assert [e.value for e in app.error] == ["../../x **bold**.safetensors is not a checkpoint: it is too short (4 bytes)"]
    assert_app_runs(app)


def test_no_user_string_becomes_a_file_path_in_the_app():
    """Every place the app's code builds a path or opens a file, listed: none takes user input."""
    allowed = {("ui/state.py", "Path(__file__)"), ("ui/links.py", "PurePosixPath(entry.id)"), ("app.py", "Path(__file__)"),
               ("ui/state.py", "Path(path)"),  # a shipped model's file name, for its messages
               # the plane's served folders and stylesheet, and its served files: named by the hash of their bytes
               ("ui/latent_plane/__init__.py", 'STYLESHEET.read_text(encoding="utf-8")'),
               ("ui/latent_plane/assets.py", "Path(__file__)"),
               ("ui/latent_plane/assets.py", "Path(vae_core.__file__)"),
               ("ui/latent_plane/assets.py", "Path(root)"), ("ui/latent_plane/assets.py", "Path(plotly.__file__)"),
               ("ui/latent_plane/assets.py", "folder.mkdir(parents=True, exist_ok=True, mode=0o700)"),
               ("ui/latent_plane/assets.py", 'tempfile.mkstemp(dir=folder, prefix=".part-")'),
               ("ui/latent_plane/assets.py", 'os.fdopen(fd, "wb")'),
               ("ui/latent_plane/assets.py", "os.replace(tmp, path)"),
               ("ui/latent_plane/assets.py", "old.unlink(missing_ok=True)"),
               # the room page (ui/room_site.py): its own package files, listed once at start; the rooms'
               # folders and data files, named only by ids and names that vae_core.room's validators passed
               ("ui/room_site.py", "Path(__file__)"), ("ui/room_site.py", 'WEB_DIR.rglob("*")'),
               ("ui/room_site.py", "path.read_bytes()"),
               ("ui/room_site.py", '(WEB_DIR / "room" / "index.html").read_text(encoding="utf-8")'),
               ("ui/room_site.py", '(folder / "room.json").read_bytes()'), ("ui/room_site.py", "(folder / name).read_bytes()"),
               ("ui/room_site.py", "(self.root / CURRENT_FILE).read_text()"),
               ("ui/room_site.py", "(self.root / INVITE_FILE).read_text()"),
               ("ui/room_site.py", "root.mkdir(parents=True, exist_ok=True, mode=0o700)"),
               ("ui/room_site.py", "tmp.write_bytes(data)"), ("ui/room_site.py", "os.replace(tmp, path)"),
               # the room's zip: a temporary folder of the app's own making
               ("ui/invite.py", "tempfile.TemporaryDirectory()"), ("ui/invite.py", "Path(tmp)"),
               ("ui/invite.py", 'folder.rglob("*")'),
               # the drawing canvas's stylesheet, read from the installed library's build folder
               ("ui/canvas.py", "Path(library.__file__)"),
               ("ui/canvas.py", '(LIBRARY_DIR / "frontend" / "build").glob("index-*.css")'),
               ("ui/canvas.py", 'css.read_text(encoding="utf-8")')}
    openers = {"open", "Path", "PurePath", "PurePosixPath", "PosixPath", "mkstemp", "NamedTemporaryFile",
               "mkdtemp", "TemporaryDirectory", "unlink", "rename", "makedirs", "mkdir", "write_bytes", "write_text",
               "read_bytes", "read_text", "glob", "rglob", "listdir", "scandir", "rmtree", "copyfile"}
    os_calls = {"remove", "replace", "copy", "move", "walk"}  # only as os.x / shutil.x: str.replace is fine
    found = set()
    for path in [ROOT / "app.py", *sorted((ROOT / "ui").rglob("*.py")), *sorted((ROOT / "pages").glob("*.py"))]:
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                module = getattr(func.value, "id", None) if isinstance(func, ast.Attribute) else None
                if name in openers or (name in os_calls and module in ("os", "shutil")):
                    found.add((str(path.relative_to(ROOT)), ast.get_source_segment(source, node)))
    # PRETRAINED_DIR.glob("*.safetensors") lists the shipped models: a constant folder and pattern.
    found -= {("ui/state.py", 'PRETRAINED_DIR.glob("*.safetensors")'),
              # and Inside the VAE's beta family and latent sizes, in constant folders of pretrained/
              ("ui/inside.py", 'BETA_DIR.glob("mnist-beta-*.safetensors")'),
              ("ui/inside.py", 'LATENT_DIR.glob("mnist-*d.safetensors")')}
    assert found <= allowed, found - allowed


# --- sessions are isolated -----------------------------------------------------------------------

def _reachable(root, limit: int = 200_000):
    """Every object reachable from ``root`` through containers and plain objects (not array data)."""
    seen, todo = set(), [root]
    while todo and len(seen) < limit:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type)):
            continue
        seen.add(id(obj))
        yield obj
        if not isinstance(obj, (torch.nn.Module, np.ndarray, torch.Tensor)):  # a model is what we look for
            todo.extend(gc.get_referents(obj))


def cached_values() -> list[tuple[str, object]]:
    """(function name, value) of everything in the server-wide st.cache_resource caches."""
    from streamlit.runtime.caching.cache_resource_api import _resource_caches

    return [(cache.display_name, result.value) for caches in _resource_caches._function_caches.values()
            for cache in caches.values() for result in list(cache._mem_cache.values())]


def test_a_session_keeps_its_newest_models_and_says_which_it_let_go(monkeypatch):
    """A visitor who trains or uploads all day holds at most MAX_USER_MODELS models."""
    at = upload(new_app(monkeypatch), "model-0.safetensors", VALID)
    (oldest,) = at.session_state["user_models"]
    show(at, oldest, {"index": 3, "z": [0.0, 0.0]})  # a pin on the oldest model...
    at.session_state["per_model"] = {oldest: {"generate_class": 3}}  # ...and a page's choice
    for i in range(1, MAX_USER_MODELS + 2):
        upload(at, f"model-{i}.safetensors", VALID)
    models = at.session_state["user_models"]
    assert [e.label for e in models.values()] == [f"model-{i}.safetensors (uploaded)"
                                                  for i in range(2, MAX_USER_MODELS + 2)]
    assert picker(at).value == list(models)[-1]  # the newest is selected
    assert [t.value for t in at.toast] == [
        f"model-1.safetensors (uploaded) was let go: a session keeps its {MAX_USER_MODELS} newest models. "
        "To keep a model, download it from the sidebar."]
    assert oldest not in at.session_state["per_model"] and oldest not in at.session_state["view"].models
    assert_app_runs(at.run())
    assert not at.toast  # said once


def test_one_visitors_models_never_reach_another(monkeypatch):
    a, b = new_app(monkeypatch), new_app(monkeypatch)
    upload(a, "secret.safetensors", VALID)
    if has_mnist:
        finish_in_app(a, start_training(a, epochs=1))
        assert "My model 1 (MNIST)" in picker(a).options
    for page in PAGES:  # A's models in use everywhere, so every cache has seen them
        open_page(a, page)
    mine = {entry.id: entry for entry in a.session_state["user_models"].values()}
    assert len(mine) == (2 if has_mnist else 1)

    for page in PAGES:
        open_page(b, page)
        assert [o for o in picker(b).options if "pretrained" not in o] == []
        assert b.session_state["user_models"] == {}

    # The server-wide caches hold the shipped models (loaded from pretrained/ by one function, and
    # warmed up by another) and arrays derived from a session's model under its unguessable id;
    # never a model of a session.
    for function, value in cached_values():
        if function not in ("ui.state._load_pretrained", "ui.warmup.warm_up_in_background"):
            assert not [o for o in _reachable(value) if isinstance(o, (Checkpoint, VAE))], function
    session_models = {id(e.ckpt.model) for e in mine.values()} | {id(e.ckpt) for e in mine.values()}
    cached = {id(o) for _, v in cached_values() for o in _reachable(v)}
    uploaded = next(e.ckpt for e in mine.values() if e.source == "uploaded")
    assert id(uploaded.latents.z_mean) in cached  # the caches did see A's model: the check is not vacuous
    assert not session_models & cached


def test_idx_header_whose_size_overflows_64_bits_is_refused():
    """2^31 x 2^31 x 4 bytes wraps to 0 in 64-bit arithmetic: it once passed as an empty file."""
    blob = struct.pack(">4I", IMAGE_MAGIC, 2 ** 31, 2 ** 31, 4)
    with pytest.raises(DataError, match=r"^f: truncated file \(16 bytes, the header announces "
                                        r"18,446,744,073,709,551,632\); delete it and download it again$"):
        parse_idx(blob, "f", IMAGE_MAGIC)


def test_a_gzip_bomb_from_a_mirror_is_refused_without_filling_memory(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    served = tmp_path / "mirror"
    broken_data(served, "gzip-bomb")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    try:
        with pytest.raises(DataError) as info:
            download_file(MNIST, "train-images-idx3-ubyte", tmp_path / "cache",
                          mirrors=(f"http://127.0.0.1:{server.server_address[1]}/",))
    finally:
        server.shutdown()
    assert str(info.value).endswith(f"train-images-idx3-ubyte.gz: more than {MAX_FILE_BYTES:,} bytes (uncompressed), "
                                    "larger than any MNIST file; delete it and download it again")
    assert os.listdir(tmp_path / "cache") == []  # no *.part left behind


# --- fuzzing the IDX reader ----------------------------------------------------------------------

FUZZ_SPEC = DatasetSpec(name="fuzz", title="Fuzz", classes=CLASSES,
                        files={"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")}, md5={}, mirrors=())
GOOD_IDX = {"images": idx_bytes(_digits(2), IMAGE_MAGIC), "labels": idx_bytes(np.array([3, 7]), LABEL_MAGIC)}


@st.composite
def idx_files(draw) -> bytes:
    """Anything from noise to nearly valid IDX files, with headers that announce any size."""
    kind = draw(st.sampled_from(["noise", "header", "damaged"]))
    if kind == "noise":
        return draw(st.binary(max_size=256))
    if kind == "header":
        magic = draw(st.one_of(st.sampled_from([IMAGE_MAGIC, LABEL_MAGIC]), st.integers(0, 2 ** 32 - 1)))
        dims = draw(st.lists(st.one_of(st.integers(0, 30), st.integers(0, 2 ** 32 - 1),
                                       st.sampled_from([2 ** 31, 2 ** 16, 28])), max_size=4))
        return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + draw(st.binary(max_size=64))
    data = bytearray(GOOD_IDX[draw(st.sampled_from(["images", "labels"]))])
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["set", "cut", "insert"]))
        if op == "set" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@FUZZ
@given(content=idx_files(), which=st.sampled_from(["images", "labels"]),
       form=st.sampled_from(["raw", "gz", "raw-named-gz", "gz-cut"]), cut=st.integers(1, 40))
def test_fuzz_idx_reader_raises_only_data_error(tmp_path_factory, content, which, form, cut):
    folder = tmp_path_factory.getbasetemp() / "idx-fuzz"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    names = dict(zip(["images", "labels"], FUZZ_SPEC.files["train"]))
    for role, name in names.items():
        data = content if role == which else GOOD_IDX[role]
        if role != which or form == "raw":
            (folder / name).write_bytes(data)
        elif form == "gz":
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        elif form == "raw-named-gz":
            (folder / f"{name}.gz").write_bytes(data)
        else:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data)[:-cut])
    try:
        ds = load_dataset(FUZZ_SPEC, "train", root=folder, download=False, verify=False)
    except DataError as e:
        assert str(e) and "\n" not in str(e)
        return
    assert ds.images.dtype == np.uint8 and ds.images.shape[1:] == (28, 28)
    assert ds.labels.dtype == np.int64 and len(ds.labels) == len(ds.images) and (ds.labels < 10).all()


def test_a_shipped_model_that_cannot_be_read_is_said_once_and_the_others_still_serve(monkeypatch, tmp_path):
    """A corrupt file among pretrained/ (a bad copy, a full disk): one sentence in the sidebar, once
    per run (not once per page that lists the models), with no server path; the good model is shown."""
    import ui.state

    (tmp_path / "mnist.safetensors").symlink_to(ROOT / "pretrained" / "mnist.safetensors")
    (tmp_path / "zz-broken.safetensors").write_bytes(b"\x00" * 64)
    monkeypatch.setattr(ui.state, "PRETRAINED_DIR", tmp_path)
    at = new_app(monkeypatch)
    errors = [e.value for e in at.sidebar.error]
    assert len(errors) == 1 and errors[0].startswith("Pretrained model zz-broken.safetensors could not be loaded: ")
    assert str(tmp_path) not in errors[0] and "Traceback" not in errors[0]
    assert picker(at).options == ["MNIST (pretrained)"] and picker(at).value == "pretrained/mnist.safetensors"
    open_page(at, "interpolate")
    assert [e.value for e in at.sidebar.error] == errors  # another page lists the models again: still once
