import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from vae_core.checkpoint import load_checkpoint
from vae_core.cli import main

from conftest import MNIST_DIR

ROOT = Path(__file__).resolve().parents[1]
needs_mnist = pytest.mark.skipif(not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"MNIST files not found in {MNIST_DIR}")


def run(*args, cwd=ROOT):
    """The real command line, in a subprocess, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "vae_core", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory):
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found in {MNIST_DIR}")
    out = tmp_path_factory.mktemp("cli") / "tiny.safetensors"
    result = run("train", "--data-dir", str(MNIST_DIR), "--limit", "1200", "--epochs", "2", "--hidden", "32",
                 "--batch-size", "100", "--iwae-k", "5", "--seed", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


def test_train_writes_a_checkpoint_with_summary_and_latents(trained_file):
    out, result = trained_file
    assert "epoch   1/2" in result.stderr and "epoch   2/2" in result.stderr
    assert "test -ELBO" in result.stdout and "s/epoch" in result.stdout
    ckpt = load_checkpoint(out)
    assert ckpt.dataset == "mnist" and ckpt.config.hidden == (32,)
    assert ckpt.train_config["seed"] == 1 and ckpt.train_config["epochs"] == 2
    assert len(ckpt.history) == 2 and ckpt.latents.z_mean.shape == (200, 2)
    assert {"neg_elbo", "iwae_nll", "knn_accuracy"} <= set(ckpt.metrics)
    assert "torch" in ckpt.versions


@needs_mnist
def test_evaluate_prints_a_table_and_json(trained_file, capsys):
    out, _ = trained_file
    assert main(["evaluate", str(out), "--data-dir", str(MNIST_DIR), "--k", "5", "--limit", "200"]) == 0
    table = capsys.readouterr().out
    for label in ("test negative ELBO", "reconstruction", "KL", "-log p(x), importance-weighted", "k-NN"):
        assert label in table
    assert main(["evaluate", str(out), "--data-dir", str(MNIST_DIR), "--k", "5", "--limit", "200", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["iwae_k"] == 5 and metrics["test_images"] == 200
    assert metrics["neg_elbo"] == pytest.approx(metrics["recon"] + metrics["kl"])
    assert 0 < metrics["knn_accuracy"] <= 1


@needs_mnist
def test_sample_and_grid_write_pngs(trained_file, tmp_path, capsys):
    out, _ = trained_file
    assert main(["sample", str(out), "--n", "16", "--out", str(tmp_path / "s.png"), "--scale", "1"]) == 0
    with Image.open(tmp_path / "s.png") as img:
        assert img.size == (4 * 28 + 3 * 2, 4 * 28 + 3 * 2)
    assert main(["sample", str(out), "--n", "9", "--label", "7", "--out", str(tmp_path / "c.png")]) == 0
    assert main(["grid", str(out), "--n", "5", "--out", str(tmp_path / "g.png")]) == 0
    with Image.open(tmp_path / "g.png") as img:
        assert img.size == (140, 140)
    assert main(["sample", str(out), "--label", "seven", "--out", str(tmp_path / "x.png")]) == 1
    assert "unknown class 'seven'" in capsys.readouterr().err


@pytest.mark.parametrize("args, code, fragment", [
    (["train", "--out", "x.safetensors", "--bogus"], 2, "unrecognized arguments: --bogus"),
    (["train"], 2, "--out"),
    (["train", "--out", "x.safetensors", "--epochs", "zero"], 2, "not a whole number"),
    (["frobnicate"], 2, "invalid choice"),
    (["evaluate", "missing.safetensors"], 1, "missing.safetensors: no such file"),
    (["sample", "tests/conftest.py", "--out", "x.png"], 1, "not a VAE Explorer checkpoint"),
    (["train", "--out", "/proc/nope/model.safetensors"], 1, "cannot write to /proc/nope"),
])
def test_bad_input_ends_with_one_line_and_a_nonzero_exit(args, code, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path if args[0] != "sample" else ROOT)
    assert main(args) == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines


@pytest.mark.parametrize("args", [["train", "--out", "x.safetensors", "--bogus"], ["evaluate", "nothing.safetensors"]])
def test_the_real_process_prints_no_traceback(args, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.returncode in (1, 2) and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_unwritable_output_fails_before_any_training(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: use a path below a file instead
            target = tmp_path / "afile"
            target.write_text("x")
            out = target / "model.safetensors"
        else:
            out = locked / "model.safetensors"
        result = run("train", "--out", str(out), "--data-dir", str(tmp_path / "no-data"), "--no-download")
    finally:
        locked.chmod(0o700)
    assert result.returncode == 1 and "cannot write" in result.stderr and "Traceback" not in result.stderr


def test_missing_dataset_without_download_says_what_to_do(tmp_path):
    result = run("train", "--out", str(tmp_path / "m.safetensors"), "--data-dir", str(tmp_path), "--no-download")
    assert result.returncode == 1
    assert "train-images-idx3-ubyte.gz" in result.stderr and "python -m vae_core download" in result.stderr


def test_help_documents_every_flag(capsys):
    result = run("train", "--help")
    assert result.returncode == 0
    for flag in ("--dataset", "--epochs", "--batch-size", "--lr", "--beta", "--kl-warmup", "--arch", "--hidden",
                 "--activation", "--latent-dim", "--seed", "--device", "--threads", "--limit", "--out", "--data-dir"):
        assert flag in result.stdout
    for command, flag in (("evaluate", "--k"), ("sample", "--temperature"), ("grid", "--method"),
                          ("download", "--dataset")):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0 and flag in capsys.readouterr().out
