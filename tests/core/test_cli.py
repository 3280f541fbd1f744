import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from vae_core.checkpoint import load_checkpoint
from vae_core.classifier import load_classifier
from vae_core.cli import DownloadProgress, ProgressPrinter, main
from vae_core.generate import generate_class
from vae_core.images import tile
from vae_core.training import TrainEvent

from helpers.cli import run_without_the_app
from helpers.data import MNIST_DIR, ROOT, needs_mnist



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
    (["train", "--out", "x.safetensors", "--hidden", "512,abc"], 2,
     "argument --hidden: '512,abc' is not a comma-separated list of layer sizes, e.g. 512,256"),
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


def _event(kind: str, step: int, epoch: int = 1, **fields) -> TrainEvent:
    return TrainEvent(kind, epoch, 2, step, 4, loss=150.0, recon=140.0, kl=10.0, lr=1e-3, elapsed=2.5, eta=2.5,
                      **fields)


RUN = [_event("step", 1), _event("step", 2),
       _event("epoch", 2, test={"loss": 149.0, "recon": 141.0, "kl": 8.0}),
       _event("step", 3, 2), _event("step", 4, 2), _event("epoch", 4, 2), _event("stopped", 4, 2, message="stopped.")]
EPOCH_LINES = ["epoch   1/2  train 150.00 (recon 140.00 + kl 10.00)  test 149.00 (recon 141.00 + kl 8.00)"
               "     2.5s  eta     2s",
               "epoch   2/2  train 150.00 (recon 140.00 + kl 10.00)     2.5s  eta     2s",
               "stopped: stopped."]


def test_training_progress_in_a_log_is_a_line_per_epoch_and_no_bar(capsys):
    printer = ProgressPrinter()
    assert not any(printer(ev) for ev in RUN)
    err = capsys.readouterr().err
    assert err.splitlines() == EPOCH_LINES and "\r" not in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_training_progress_on_a_terminal_draws_a_bar_above_which_epochs_are_written(monkeypatch):
    monkeypatch.setattr(sys, "stderr", Terminal())
    printer = ProgressPrinter()
    for ev in RUN:
        printer(ev)
    printer.stop_requested = True
    assert printer(_event("step", 1)) is True  # a Ctrl-C asks the trainer to stop
    printer.close()
    out = sys.stderr.getvalue()
    assert "\r" in out and "epoch 1/2" in out and "step/s" in out  # the bar: description and rate
    lines = [line.strip() for line in out.replace("\r", "\n").splitlines()]
    assert all(line in lines for line in EPOCH_LINES)


def test_download_progress_says_each_finished_file_once(capsys):
    with DownloadProgress() as progress:
        for done in (65536, 1_000_000, 2_000_000):
            progress("train-labels-idx1-ubyte.gz", done, 2_000_000)
        progress("t10k-images-idx3-ubyte.gz", 1_000_000, 1_500_000)  # cut off: the next mirror starts over
        for done in (65536, 1_500_000):
            progress("t10k-images-idx3-ubyte.gz", done, 1_500_000)
        progress("t10k-labels-idx1-ubyte.gz", 4096, None)  # a server that does not say the size
    err = capsys.readouterr().err
    assert err.splitlines() == ["downloaded train-labels-idx1-ubyte.gz (2.0 MB)",
                                "downloaded t10k-images-idx3-ubyte.gz (1.5 MB)"]


@needs_mnist
def test_the_cli_trains_and_evaluates_without_plotly_or_streamlit(tmp_path):
    result = run_without_the_app("--help")
    assert result.returncode == 0 and all(c in result.stdout for c in ("train", "evaluate", "sample", "encode"))
    out = tmp_path / "tiny.safetensors"
    result = run_without_the_app("train", "--data-dir", str(MNIST_DIR), "--limit", "600", "--epochs", "1",
                                 "--hidden", "16", "--batch-size", "100", "--iwae-k", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "training on 600 mnist images, testing on 100" in result.stderr and "epoch   1/1  train" in result.stderr
    assert result.stdout.startswith(f"saved {out}") and "test -ELBO" in result.stdout
    result = run_without_the_app("evaluate", str(out), "--data-dir", str(MNIST_DIR), "--k", "5", "--limit", "100")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{out}: mnist, mlp [16], latent size 2, 100 test images, K=5")
    assert "test negative ELBO" in result.stdout and "k-NN (k=5) accuracy" in result.stdout


# --- class-true generation ---

@needs_mnist
def test_a_conditional_model_trains_samples_a_class_and_evaluates(tmp_path, capsys):
    out = tmp_path / "cvae.safetensors"
    result = run("train", "--conditional", "--data-dir", str(MNIST_DIR), "--limit", "1200", "--epochs", "2",
                 "--hidden", "32", "--batch-size", "100", "--iwae-k", "5", "--out", str(out))
    assert result.returncode == 0, result.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.config.num_classes == 10 and ckpt.latents.z_mean.shape == (200, 2)
    png = tmp_path / "fours.png"
    assert main(["sample", str(out), "--label", "4", "--n", "9", "--seed", "3", "--out", str(png)]) == 0
    assert "wrote" in capsys.readouterr().out and png.stat().st_size > 0
    assert main(["sample", str(out), "--n", "9", "--out", str(png)]) == 1
    assert "is a conditional model: name the class to draw with --label" in capsys.readouterr().err
    assert main(["evaluate", str(out), "--data-dir", str(MNIST_DIR), "--k", "5", "--limit", "200", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_images"] == 200


@needs_mnist
def test_sample_label_uses_generate_class_and_names_a_bad_class(trained_file, tmp_path, capsys):
    out, _ = trained_file
    png = tmp_path / "sevens.png"
    assert main(["sample", str(out), "--label", "7", "--n", "4", "--seed", "2", "--scale", "1", "--out", str(png)]) == 0
    expected = load_checkpoint(out)
    picture = np.asarray(Image.open(png))
    assert np.array_equal(picture, tile(generate_class(expected, 7, 4, seed=2), 2, pad=2))
    assert main(["sample", str(out), "--label", "eleven", "--out", str(png)]) == 1
    assert "unknown class 'eleven'" in capsys.readouterr().err


@needs_mnist
def test_the_classifier_command_trains_and_saves_the_judge(tmp_path, capsys):
    out = tmp_path / "judge.safetensors"
    assert main(["classifier", "--data-dir", str(MNIST_DIR), "--limit", "1200", "--epochs", "3",
                 "--out", str(out)]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"saved {out}") and "test accuracy" in line
    _, meta = load_classifier(out)
    assert meta["dataset"] == "mnist" and 0.5 < meta["test_accuracy"] <= 1.0  # measured: 0.74 (chance: 0.1)
