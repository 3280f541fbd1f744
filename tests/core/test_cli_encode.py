"""`python -m vae_core encode CHECKPOINT IMAGE`: the code, reconstruction and typicality of a
user's image, and one clear line for every image that cannot be a digit (issue 6)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import vae_core as vc
from vae_core.checkpoint import Checkpoint, Latents, save_checkpoint
from vae_core.cli import main
from vae_core.model import VAEConfig, build_model
from vae_core.training import TrainConfig, train
from vae_core.typicality import score_images

from helpers.hostile_images import CASES, PLAIN
from helpers.data import ROOT

CLASSES = tuple(str(i) for i in range(10))


@pytest.fixture(scope="module")
def files(digits, tmp_path_factory):
    """A tiny trained model saved twice: with per-image test scores, and without (an older file)."""
    model = build_model(VAEConfig(hidden=(64,)), seed=0)
    train(model, digits["train_x"], None, TrainConfig(epochs=3, batch_size=100, lr=3e-3, seed=0))
    z_mean, z_logvar = vc.encode(model, digits["test_x"])
    scores = score_images(model, digits["test_x"])
    folder = tmp_path_factory.mktemp("encode")
    paths = {}
    for name, with_scores in (("scored", True), ("plain", False)):
        extra = (scores["neg_elbo"], scores["recon_error"]) if with_scores else ()
        ckpt = Checkpoint.from_model(model, dataset="mnist", classes=CLASSES,
                          latents=Latents(z_mean, z_logvar, digits["test_y"], *extra))
        paths[name] = save_checkpoint(ckpt, folder / f"{name}.safetensors")
    paths["image"] = folder / "seven.png"
    paths["image"].write_bytes(PLAIN)
    return paths


def encode_json(ckpt: Path, image: Path, capsys, *extra: str) -> dict:
    assert main(["encode", str(ckpt), str(image), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_prints_the_code_scores_typicality_and_neighbours(files, capsys, tmp_path):
    out = tmp_path / "recon.png"
    assert main(["encode", str(files["scored"]), str(files["image"]), "--out", str(out), "--scale", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{files['image']}: z_mean = (") and "σ = (" in text
    assert "negative ELBO" in text and "reconstruction error" in text and "percentile" in text
    assert "typicality: " in text and "nearest test images: #" in text and f"wrote {out}" in text
    recon = Image.open(out)
    assert recon.size == (84, 84)
    result = vc.encode_image(vc.load_checkpoint(files["scored"]).model, PLAIN)
    assert np.array_equal(np.asarray(recon)[::3, ::3], result.reconstruction)


def test_json_agrees_with_the_python_api(files, capsys):
    report = encode_json(files["scored"], files["image"], capsys)
    ckpt = vc.load_checkpoint(files["scored"])
    lat = ckpt.latents
    result = vc.encode_image(ckpt.model, PLAIN, lat.z_mean, {"neg_elbo": lat.neg_elbo, "recon_error": lat.recon_error})
    assert np.allclose(report["z_mean"], result.mu) and np.allclose(report["sigma"], result.sigma)
    assert report["neg_elbo"] == pytest.approx(result.scores["neg_elbo"])
    assert report["percentiles"] == pytest.approx(result.percentiles)
    assert [n["index"] for n in report["nearest"]] == result.nearest.tolist()
    assert all(n["class"] == CLASSES[lat.labels[n["index"]]] for n in report["nearest"])
    assert report["verdict"] and report["typicality_unknown"] is None


def test_without_stored_scores_or_data_typicality_is_unknown_and_says_why(files, capsys, tmp_path):
    assert main(["encode", str(files["plain"]), str(files["image"]), "--data-dir", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "typicality: unknown: the checkpoint carries no per-image test scores" in text
    assert "python -m vae_core download --dataset mnist" in text
    assert "nearest test images: #" in text  # the latents still place it
    report = encode_json(files["plain"], files["image"], capsys, "--data-dir", str(tmp_path))
    assert report["percentiles"] is None and "not on disk" in report["typicality_unknown"]


@pytest.mark.parametrize("case", list(CASES))
def test_issue_6_images(case, files, capsys, tmp_path):
    name, data, error = CASES[case]
    image = tmp_path / name
    image.write_bytes(data)
    code = main(["encode", str(files["scored"]), str(image), "--json"])
    captured = capsys.readouterr()
    if error:
        assert code == 1 and captured.out == ""
        assert captured.err.startswith(f"error: {image}: ") and error in captured.err
        assert captured.err.count("\n") == 1  # one line
    else:
        assert code == 0, captured.err
        z = np.array(json.loads(captured.out)["z_mean"])
        reference = np.array(encode_json(files["scored"], files["image"], capsys)["z_mean"])
        assert np.linalg.norm(z - reference) < 0.25, (z, reference)  # the same 7 wherever it came from


def test_animated_gif_is_read_by_its_first_frame(files, capsys, tmp_path):
    gif = Image.open(io.BytesIO(CASES["animated-gif"][1]))
    assert gif.n_frames == 2
    first = tmp_path / "first.png"
    gif.seek(0)
    gif.convert("L").save(first)
    animated = tmp_path / "walk.gif"
    animated.write_bytes(CASES["animated-gif"][1])
    assert encode_json(files["scored"], animated, capsys)["z_mean"] == encode_json(files["scored"], first,
                                                                                 capsys)["z_mean"]


@pytest.mark.parametrize("args, fragment", [
    (["{ckpt}", "{tmp}/missing.png"], "missing.png: no such file"),
    (["{ckpt}", "{tmp}"], "is a folder, not an image"),
    (["{ckpt}", "{image}", "--out", "{tmp}/no/such/dir/recon.png"], "cannot write"),
    (["{tmp}/missing.safetensors", "{image}"], "no such file"),
    (["{image}", "{image}"], "is a PNG image, not a VAE Explorer checkpoint"),
])
def test_bad_paths_end_with_one_line(args, fragment, files, capsys, tmp_path):
    args = [a.format(ckpt=files["scored"], image=files["image"], tmp=tmp_path) for a in args]
    assert main(["encode", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err and err.count("\n") == 1


def test_an_oversized_file_is_refused_before_reading(files, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("vae_core.cli.MAX_IMAGE_BYTES", 100)
    assert main(["encode", str(files["scored"]), str(files["image"])]) == 1
    assert "too large for an image of a digit" in capsys.readouterr().err


def test_the_real_process_prints_no_traceback(files, tmp_path):
    bad = tmp_path / "bomb.png"
    bad.write_bytes(CASES["decompression-bomb"][1])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "vae_core", "encode", str(files["scored"]), str(bad)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: ") and "megapixels" in result.stderr
