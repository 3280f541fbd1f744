"""Inviting the room (ui/invite.py): the chosen model's room is published and becomes the one
/room shows, with the projector's invitation; a model the room page cannot run gets one sentence
and nothing is published. (The dialog itself is driven in Chromium: tests/browser/test_room.py.)"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import vae_core as vc
from ui.invite import invite, room_zip
from ui.state import ModelEntry
from vae_core.checkpoint import Latents
from vae_core.model import VAEConfig, build_model


@pytest.fixture
def rooms(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_ASSET_DIR", str(tmp_path))
    return tmp_path / "rooms"


def entry(hidden: tuple[int, ...], label: str) -> ModelEntry:
    z = np.random.default_rng(0).normal(size=(200, 2)).astype(np.float32)
    ckpt = vc.Checkpoint.from_model(build_model(VAEConfig(hidden=hidden), seed=0), dataset="mnist",
                                    classes=tuple(str(k) for k in range(10)),
                                    latents=Latents(z, np.zeros_like(z), np.arange(200) % 10))
    return ModelEntry(f"session/{label}", label, "uploaded", ckpt)


def test_inviting_publishes_the_chosen_model_and_moves_the_room(rooms):
    mine = entry((32,), "mine.safetensors (uploaded)")
    room_id, files = invite(mine, "http://192.168.1.20:8501/room")
    assert (rooms / "current").read_text() == room_id == files.manifest.id
    manifest = vc.RoomManifest.from_json((rooms / room_id / "room.json").read_text())
    assert manifest.title == "mine.safetensors (uploaded)"
    assert manifest.conditional is not None  # the shipped conditional VAE of MNIST makes the class buttons
    invitation = json.loads((rooms / "invite.json").read_text())
    assert invitation["address"] == "http://192.168.1.20:8501/room" and invitation["id"] == room_id
    assert invitation["qr"].startswith("data:image/svg+xml")
    names = zipfile.ZipFile(io.BytesIO(room_zip(files, room_id))).namelist()
    assert f"vae-room-{room_id}/index.html" in names and f"vae-room-{room_id}/room.json" in names


def test_a_model_the_room_cannot_run_gets_one_sentence_and_nothing_is_published(rooms):
    huge = entry((1024, 1024), "huge.safetensors (uploaded)")  # its decoder is far over a phone's budget
    said = invite(huge, "http://192.168.1.20:8501/room")
    assert said == "The decoder's export is 1.88 MB, more than the 0.80 MB a phone should fetch for the room page."
    assert not rooms.exists() or not any(rooms.iterdir())
