"""`python -m vae_core export-room`: the shipped model's room folder, and bad input as one line
`error: ...` with exit code 1."""

from __future__ import annotations

import os

import numpy as np
import pytest

import vae_core as vc
from helpers.cli import run_without_the_app
from helpers.data import ROOT
from vae_core.cli import main
from vae_core.model import VAEConfig, build_model
from vae_core.room import FIRST_VISIT_BUDGET, TOTAL_BUDGET, RoomManifest, site_bytes

WEB = ROOT / "vae_core" / "web"


def save(tmp_path, name: str, config: VAEConfig, dataset: str = "mnist", latents: bool = True) -> str:
    """A tiny checkpoint file (with 50 test codes unless ``latents`` is False)."""
    d, n = config.latent_dim, 50
    lat = vc.Latents(np.zeros((n, d), np.float32), np.zeros((n, d), np.float32), np.arange(n) % 10) if latents else None
    ckpt = vc.Checkpoint.from_model(build_model(config, seed=0), dataset=dataset, classes=tuple("0123456789"),
                                    latents=lat)
    return str(vc.save_checkpoint(ckpt, tmp_path / name))


@pytest.fixture(scope="module")
def shipped_room(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "room"
    return out, run_without_the_app("export-room", "pretrained/mnist.safetensors", str(out))


def test_export_room_writes_the_shipped_models_room(shipped_room):
    out, result = shipped_room
    assert result.returncode == 0 and result.stderr == "", result.stderr
    room = RoomManifest.from_json((out / "room.json").read_text())
    assert room.title == "MNIST (pretrained)" and room.dataset == "mnist"
    assert room.conditional is not None  # the shipped conditional VAE of its dataset, by default
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"room.json", room.decoder, room.points, room.conditional, "decoder.js", "safetensors.js",
            "random.js"} <= files
    assert ("index.html" in files) == (WEB / "room" / "index.html").is_file()
    web = {p.relative_to(WEB).as_posix() for p in WEB.rglob("*") if p.is_file() and "tests" not in p.parts}
    assert web <= files  # the page: the whole of vae_core/web
    for name in (room.decoder, room.points, room.conditional):
        assert (out / name).stat().st_size == room.sizes[name]
    first, total = site_bytes(out)
    assert first <= FIRST_VISIT_BUDGET and total <= TOTAL_BUDGET
    lines = result.stdout.splitlines()
    assert lines[0] == f"wrote {out}: the room page of MNIST (pretrained) (id {room.id})"
    assert any(line.split()[:2] == ["decoder", room.decoder] for line in lines)
    assert any(line.split()[:2] == ["conditional", room.conditional] for line in lines)
    assert lines[-1].startswith("first visit, to tap and see a digit: ") and "budget 1.00 MB" in lines[-1]
    assert "everything: " in lines[-1] and "budget 2.00 MB" in lines[-1] and "OVER" not in lines[-1]


def test_export_room_again_replaces_the_room_and_can_leave_out_the_class_buttons(shipped_room, tmp_path, capsys):
    out, _ = shipped_room
    before = RoomManifest.from_json((out / "room.json").read_text())
    assert main(["export-room", str(ROOT / "pretrained" / "mnist.safetensors"), str(out), "--no-conditional",
                 "--title", "Lecture 3"]) == 0
    room = RoomManifest.from_json((out / "room.json").read_text())
    assert room.conditional is None and room.title == "Lecture 3" and room.decoder == before.decoder
    assert not (out / before.conditional).exists()
    assert "no conditional model: the page has no class buttons" in capsys.readouterr().out


def test_a_checkpoint_of_my_own_is_titled_by_its_file(tmp_path, capsys):
    path = save(tmp_path, "mine.safetensors", VAEConfig(hidden=(16,)))
    assert main(["export-room", path, str(tmp_path / "room"), "--conditional",
                 save(tmp_path, "cvae.safetensors", VAEConfig(hidden=(16,), num_classes=10))]) == 0
    room = RoomManifest.from_json((tmp_path / "room" / "room.json").read_text())
    assert room.title == "MNIST (mine)" and room.conditional is not None
    capsys.readouterr()


@pytest.mark.parametrize("make, message", [
    (lambda t: save(t, "big.safetensors", VAEConfig(hidden=(16,), latent_dim=8)),
     "error: The room page draws a 2-D latent plane; this model's latent space has 8 dimensions."),
    (lambda t: save(t, "bare.safetensors", VAEConfig(hidden=(16,)), latents=False),
     "error: The room page draws the test set's codes, and this checkpoint carries none."),
    (lambda t: save(t, "cvae.safetensors", VAEConfig(hidden=(16,), num_classes=10)),
     "error: This is a conditional VAE, whose plane is style alone; give it as the room's conditional model, "
     "beside an unconditional one."),
])
def test_a_model_the_room_cannot_draw_is_one_error_line(tmp_path, capsys, make, message):
    assert main(["export-room", make(tmp_path), str(tmp_path / "room")]) == 1
    err = capsys.readouterr().err
    assert err == message + "\n"
    assert not (tmp_path / "room").exists()


def test_a_mismatched_conditional_model_or_a_busy_folder_is_one_error_line(tmp_path, capsys):
    model = save(tmp_path, "mine.safetensors", VAEConfig(hidden=(16,)))
    fashion = save(tmp_path, "fashion.safetensors", VAEConfig(hidden=(16,), num_classes=10), dataset="fashion-mnist")
    assert main(["export-room", model, str(tmp_path / "room"), "--conditional", fashion]) == 1
    assert capsys.readouterr().err == ("error: The conditional model draws the classes of fashion-mnist, the room's "
                                       "model those of mnist; give one of the same dataset.\n")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep")
    assert main(["export-room", model, str(tmp_path / "busy"), "--no-conditional"]) == 1
    assert capsys.readouterr().err == ("error: The room's folder is not empty and holds no previous room export "
                                       "(no valid room.json); give a new or empty folder.\n")
    assert os.listdir(tmp_path / "busy") == ["notes.txt"]
    assert main(["export-room", str(tmp_path / "missing.safetensors"), str(tmp_path / "room")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
