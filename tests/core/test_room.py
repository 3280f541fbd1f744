"""vae_core.room: the room page's styles, points, manifest, files and folder, and the strict names
a URL may give. The conditional decoder the room ships is judged by the project's classifier."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vae_core as vc
from helpers.data import FUZZ, ROOT
from vae_core.classifier import classify, load_classifier
from vae_core.decoder_export import read_decoder_export, run_decoder_export
from vae_core.model import VAEConfig, build_model
from vae_core.room import (FIRST_VISIT_BUDGET, MAX_DECODER_BYTES, TOTAL_BUDGET, RoomError, RoomManifest, build_room,
                           image_agreement, read_room_points, room_id, room_points, room_styles, safe_room_file,
                           safe_room_id, shipped_conditional, site_bytes, write_room)
from vae_core.toy import build_toy_model

PRETRAINED = ROOT / "pretrained"


# --- the class buttons' styles --------------------------------------------------------------------

def test_room_styles_are_seeded_standard_normal_pairs():
    z = room_styles(0, 3)
    assert z.dtype == np.float32 and z.shape == (3, 2)
    # the recipe pinned (mulberry32 + Box-Muller): vae_core/web/random.js must give these very numbers
    assert z.tolist() == [[1.6264322996139526, 0.0033697353210300207], [1.0509958267211914, 1.3762763738632202],
                          [-1.184387445449829, -0.34449246525764465]]
    assert np.array_equal(room_styles(0, 10)[:3], z)  # a longer stream starts the same
    assert np.array_equal(room_styles(5, 100), room_styles(5, 100)) and not np.array_equal(room_styles(5, 100),
                                                                                              room_styles(6, 100))
    assert room_styles(2**32 - 1, 2).shape == (2, 2) and room_styles(3, 0).shape == (0, 2)
    many = room_styles(7, 50_000).astype(np.float64)
    assert np.abs(many.mean(0)).max() < 0.02 and np.abs(many.std(0) - 1).max() < 0.02
    assert abs((np.abs(many) < 1).mean() - 0.6827) < 0.01 and abs((np.abs(many) < 2).mean() - 0.9545) < 0.005
    assert abs(np.corrcoef(many.T)[0, 1]) < 0.02


@pytest.mark.parametrize("seed, n, message", [
    (-1, 5, "The seed of the room's styles must be a whole number from 0 to 2**32 - 1."),
    (2**32, 5, "The seed of the room's styles must be a whole number from 0 to 2**32 - 1."),
    (1.5, 5, "The seed of the room's styles must be a whole number from 0 to 2**32 - 1."),
    (True, 5, "The seed of the room's styles must be a whole number from 0 to 2**32 - 1."),
    (1, -1, "The number of styles must be a whole number from 0 to 100,000."),
    (1, 100_001, "The number of styles must be a whole number from 0 to 100,000."),
])
def test_bad_style_arguments_get_one_sentence(seed, n, message):
    with pytest.raises(RoomError) as caught:
        room_styles(seed, n)
    assert str(caught.value) == message


JUDGED = [(dataset, label) for dataset in ("mnist", "fashion-mnist") for label in range(10)]


@pytest.fixture(scope="module")
def makers() -> dict:
    """Per dataset: the shipped conditional VAE, its int8 room decoder, and the project's judge."""
    out = {}
    for dataset in ("mnist", "fashion-mnist"):
        ckpt = vc.load_checkpoint(PRETRAINED / "conditional" / f"{dataset}.safetensors")
        room = build_room(vc.load_checkpoint(PRETRAINED / f"{dataset}.safetensors"), ckpt)
        export = read_decoder_export(room.files[room.manifest.conditional])
        judge, meta = load_classifier(PRETRAINED / "classifier" / f"{dataset}.safetensors")
        out[dataset] = (ckpt, export, judge, room.manifest.temperature)
    return out


@pytest.mark.parametrize("dataset, label", JUDGED, ids=[f"{d}-{k}" for d, k in JUDGED])
def test_the_rooms_int8_conditional_decoder_makes_its_class(makers, dataset, label):
    """100 images of each class, with the styles the browser draws (temperature x room_styles(seed,
    100)) and the int8 decoder run as the browser runs it (run_decoder_export), judged by the
    project's CNN. MNIST: at least 98 % that class (measured: 98 to 100 %). Fashion-MNIST's model
    itself is far from 98 % on several classes (sandals 13 %, shirts 40 %; see pretrained/README.md),
    so there the int8 decoder must do as the float32 model does with the same styles (within 5 points;
    measured: at most 3, shirts 42 % against 39 %)."""
    ckpt, export, judge, temperature = makers[dataset]
    assert export.weights_kind == "int8" and export.classes == 10
    styles = temperature * room_styles(label, 100)
    labels = np.full(100, label)
    share = float(np.mean(classify(judge, run_decoder_export(export, styles, labels)) == label))
    float_share = float(np.mean(classify(judge, vc.decode(ckpt.model, styles, labels=labels)) == label))
    if dataset == "mnist":
        assert share >= 0.98, share
    assert abs(share - float_share) <= 0.05, (share, float_share)


# --- points ---------------------------------------------------------------------------------------

def test_room_points_are_float16_codes_and_uint8_labels():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (1000, 3)).astype(np.float32)
    labels = rng.integers(0, 10, 1000)
    data = room_points(z, labels)
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    assert {k: (v["dtype"], v["shape"]) for k, v in header.items()} == {"z": ("F16", [1000, 2]),
                                                                         "labels": ("U8", [1000])}
    assert len(data) == 8 + n + 1000 * 5  # 4 bytes of code and 1 of label per point, no sigma
    back, back_labels = read_room_points(data)
    assert np.array_equal(back_labels, labels) and back.dtype == np.float32
    assert np.allclose(back, z[:, :2], rtol=2**-11, atol=1e-7)
    assert room_points(z, labels) == data  # the same codes, the same bytes (and file name)


@pytest.mark.parametrize("z, labels, message", [
    (np.zeros((0, 2)), np.zeros(0, int), "must be 1 to 1,000,000 codes"),
    (np.zeros((3, 1)), np.zeros(3, int), "must be 1 to 1,000,000 codes"),
    (np.zeros((3, 2)), np.zeros(2, int), "with one label each"),
    (np.full((3, 2), np.nan), np.zeros(3, int), "not finite or too large for float16"),
    (np.full((3, 2), 1e6), np.zeros(3, int), "not finite or too large for float16"),
    (np.zeros((3, 2)), np.array([0, 1, 256]), "whole numbers from 0 to 255"),
    (np.zeros((3, 2)), np.array([0.5, 1, 2]), "whole numbers from 0 to 255"),
])
def test_bad_points_get_one_sentence(z, labels, message):
    with pytest.raises(RoomError, match=message):
        room_points(z, labels)


def test_image_agreement_is_the_smallest_pearson_correlation():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    assert image_agreement(a, a) == pytest.approx(1.0)
    assert image_agreement(255 - a, a) == pytest.approx(-1.0)
    flat = np.zeros((2, 28, 28), np.uint8)
    assert image_agreement(flat, flat) == 1.0 and image_agreement(flat, np.ones_like(flat)) == 0.0
    b = a.copy()
    b[2] = rng.integers(0, 256, (28, 28))
    assert image_agreement(b, a) < 0.2 and image_agreement(b[[0, 1, 3, 4]], a[[0, 1, 3, 4]]) == pytest.approx(1.0)


# --- the shipped model's room ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_room():
    return build_room(vc.load_checkpoint(PRETRAINED / "mnist.safetensors"),
                      vc.load_checkpoint(PRETRAINED / "conditional" / "mnist.safetensors"), title="MNIST (pretrained)")


def test_the_shipped_model_makes_a_room_within_the_phone_budget(mnist_room):
    room, files = mnist_room.manifest, mnist_room.files
    assert (room.format, room.version, room.title, room.dataset) == ("vae-explorer-room", 1, "MNIST (pretrained)",
                                                                     "mnist")
    assert room.classes == tuple("0123456789") and room.colors == vc.PALETTE and room.temperature == 1.0
    assert room.extent == pytest.approx(vc.latent_extent(vc.load_checkpoint(PRETRAINED / "mnist.safetensors")
                                                         .latents.z_mean), abs=1e-4)
    assert set(files) == {room.decoder, room.points, room.conditional} and safe_room_id(room.id) == room.id
    for kind, name in (("decoder", room.decoder), ("points", room.points), ("conditional", room.conditional)):
        assert safe_room_file(name) == name and name.startswith(kind + "-") and room.sizes[name] == len(files[name])
        assert name == f"{kind}-{hashlib.sha256(files[name]).hexdigest()[:16]}.safetensors"
    decoder, conditional = read_decoder_export(files[room.decoder]), read_decoder_export(files[room.conditional])
    assert decoder.weights_kind == "int8" and decoder.classes == 0 and conditional.weights_kind == "int8"
    z, labels = read_room_points(files[room.points])
    assert z.shape == (10_000, 2) and labels.max() == 9
    # to tap and see a digit: the decoder, the points, room.json (and the page: see test_cli_room)
    first = len(files[room.decoder]) + len(files[room.points]) + len(room.to_json())
    assert first < MAX_DECODER_BYTES + 60_000 < FIRST_VISIT_BUDGET - 100_000
    assert first + len(files[room.conditional]) < TOTAL_BUDGET - 300_000
    assert RoomManifest.from_json(room.to_json()) == room


def test_the_same_model_gives_the_same_room_and_id(tiny_room_model):
    first, again = build_room(tiny_room_model), build_room(tiny_room_model)
    assert first.files == again.files and first.manifest.id == again.manifest.id
    renamed = build_room(tiny_room_model, title="Another title")  # its own room: the page shows the title
    assert renamed.files == first.files and renamed.manifest.id != first.manifest.id
    assert first.manifest.title == "MNIST" and first.manifest.conditional is None
    assert first.manifest.id == room_id(first.manifest.decoder, first.manifest.points, None, first.manifest.title)
    other = vc.Checkpoint.from_model(build_model(VAEConfig(hidden=(16,)), seed=9), dataset="mnist",
                                     classes=tuple("0123456789"), latents=tiny_room_model.latents)
    assert build_room(other).manifest.id != first.manifest.id


def checkpoint_with_latents(config: VAEConfig, seed: int = 0, dataset: str = "mnist", n: int = 300,
                            latents: bool = True) -> vc.Checkpoint:
    rng = np.random.default_rng(seed)
    d = config.latent_dim
    lat = vc.Latents(rng.normal(0, 1, (n, d)).astype(np.float32), np.full((n, d), -2, np.float32),
                     np.arange(n) % 10) if latents else None
    return vc.Checkpoint.from_model(build_model(config, seed=seed), dataset=dataset, classes=tuple("0123456789"),
                                    latents=lat)


@pytest.fixture(scope="module")
def tiny_room_model() -> vc.Checkpoint:
    return checkpoint_with_latents(VAEConfig(hidden=(16,)))


def test_a_decoder_that_int8_would_spoil_falls_back_to_float16():
    """A decoder whose every output row has one huge weight on a unit that is always off: int8's
    per-row scale then rounds the row's real weights to 0 and its images go flat, so the room
    takes float16, which keeps them."""
    import torch

    ckpt = checkpoint_with_latents(VAEConfig(hidden=(8,), activation="relu"), seed=3)
    model = ckpt.model
    with torch.no_grad():
        model.decoder[0].bias[0] = -1e3  # unit 0 never fires
        model.decoder[2].weight[:, 0] = 1e4
    ckpt = vc.Checkpoint.from_model(model, dataset="mnist", classes=tuple("0123456789"), latents=ckpt.latents)
    room = build_room(ckpt)
    assert read_decoder_export(room.files[room.manifest.decoder]).weights_kind == "float16"


@pytest.mark.parametrize("make, message", [
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,), latent_dim=8)),
     "The room page draws a 2-D latent plane; this model's latent space has 8 dimensions."),
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,), latent_dim=1)),
     "The room page draws a 2-D latent plane; this model's latent space has 1 dimension."),
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,)), latents=False),
     "The room page draws the test set's codes, and this checkpoint carries none."),
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,), num_classes=10)),
     "This is a conditional VAE, whose plane is style alone; give it as the room's conditional model, beside an "
     "unconditional one."),
    (lambda: build_toy_model(seed=0),
     "The room page draws an image model's checkpoint (MNIST or Fashion-MNIST); a toy model or any other object "
     "is not one."),
])
def test_a_model_the_room_cannot_draw_gets_one_sentence(make, message):
    with pytest.raises(RoomError) as caught:
        build_room(make())
    assert str(caught.value) == message


def test_a_decoder_too_large_for_phones_is_refused_with_its_size(tiny_room_model):
    with pytest.raises(RoomError) as caught:
        build_room(tiny_room_model, max_decoder_bytes=5_000)
    assert str(caught.value) == ("The decoder's export is 0.02 MB, more than the 0.01 MB a phone should fetch for "
                                 "the room page.")
    with pytest.raises(RoomError, match=r"^The room page draws a 2-D latent plane; this model's latent space has 8"):
        build_room(vc.load_checkpoint(vc.checkpoint_bytes(checkpoint_with_latents(VAEConfig(hidden=(16,),
                                                                                            latent_dim=8)))))


@pytest.mark.parametrize("conditional, message", [
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,))),
     "The room's conditional model must be a conditional VAE checkpoint (trained with --conditional); this one "
     "takes no class."),
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,), num_classes=10), dataset="fashion-mnist"),
     "The conditional model draws the classes of fashion-mnist, the room's model those of mnist; give one of the "
     "same dataset."),
    (lambda: checkpoint_with_latents(VAEConfig(hidden=(16,), num_classes=10, latent_dim=3)),
     "The room page's class buttons draw 2-D styles; this conditional model's style space has 3 dimensions."),
])
def test_a_conditional_model_that_does_not_fit_gets_one_sentence(tiny_room_model, conditional, message):
    with pytest.raises(RoomError) as caught:
        build_room(tiny_room_model, conditional())
    assert str(caught.value) == message


@pytest.mark.parametrize("title", ["", " padded", "two\nlines", "x" * 121, "nul\x00"])
def test_a_bad_title_is_refused(tiny_room_model, title):
    with pytest.raises(RoomError, match=r"^The room's title must be 1 to 120 characters of plain text, without line "
                                        r"breaks or spaces at its ends\.$"):
        build_room(tiny_room_model, title=title)


def test_a_tiny_conditional_model_adds_its_decoder(tiny_room_model):
    maker = checkpoint_with_latents(VAEConfig(hidden=(16,), num_classes=10), seed=2)
    room = build_room(tiny_room_model, maker)
    export = read_decoder_export(room.files[room.manifest.conditional])
    assert export.classes == 10 and export.input_size == 12
    assert room.manifest.id != build_room(tiny_room_model).manifest.id


# --- room.json --------------------------------------------------------------------------------------

def manifest_fields(room) -> dict:
    return json.loads(room.manifest.to_json())


@pytest.mark.parametrize("change, why", [
    (lambda f: {**f, "format": "something-else"}, "it is not format 'vae-explorer-room' version 1"),
    (lambda f: {**f, "version": 2}, "it is not format 'vae-explorer-room' version 1"),
    (lambda f: {**f, "version": True}, "it is not format 'vae-explorer-room' version 1"),
    (lambda f: {k: v for k, v in f.items() if k != "sizes"}, "it must hold exactly the fields format, version, id"),
    (lambda f: {**f, "extra": 1}, "it must hold exactly the fields"),
    (lambda f: {**f, "title": ""}, "the title must be 1 to 120 characters of text"),
    (lambda f: {**f, "title": "<script>\u2028"}, "the title must be 1 to 120 characters of text"),
    (lambda f: {**f, "dataset": "../mnist"}, "the dataset must be a short lowercase name"),
    (lambda f: {**f, "classes": ["only one"]}, "the classes must be 2 to 1000 names"),
    (lambda f: {**f, "classes": [1, 2]}, "the classes must be 2 to 1000 names"),
    (lambda f: {**f, "colors": f["colors"][:3]}, "the colors must be one #RRGGBB colour per class"),
    (lambda f: {**f, "colors": ["red"] * 10}, "the colors must be one #RRGGBB colour per class"),
    (lambda f: {**f, "extent": -1}, "the extent must be a positive number"),
    (lambda f: {**f, "extent": "5"}, "the extent must be a positive number"),
    (lambda f: {**f, "temperature": 0}, "the temperature must be a number above 0 and at most 10"),
    (lambda f: {**f, "decoder": "../../etc/passwd"}, "the decoder file must be named decoder-<16 hex digits>"),
    (lambda f: {**f, "decoder": f["points"]}, "the decoder file must be named decoder-<16 hex digits>"),
    (lambda f: {**f, "points": None}, "the points file must be named points-<16 hex digits>"),
    (lambda f: {**f, "conditional": "/tmp/x"}, "the conditional file must be named conditional-<16 hex digits>"),
    (lambda f: {**f, "sizes": {}}, "the sizes must give the bytes of each data file it names"),
    (lambda f: {**f, "sizes": {k: -1 for k in f["sizes"]}}, "the sizes must give the bytes of each data file"),
    (lambda f: {**f, "id": "0" * 12}, "the id is not the one its files give"),
    (lambda f: {**f, "id": "../" * 4}, "the id is not the one its files give"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_malformed_room_json_is_refused_in_one_sentence(tiny_room_model, change, why):
    fields = change(manifest_fields(build_room(tiny_room_model)))
    with pytest.raises(RoomError) as caught:
        RoomManifest.from_json(json.dumps(fields))
    text = str(caught.value)
    assert text.startswith(f"This room.json is not a valid room manifest: {why}") and text.endswith(".")
    assert "\n" not in text


@pytest.mark.parametrize("text, why", [
    ("", "it is not JSON"), ("[1, 2]", "it must hold exactly the fields"), ("{" * 100_000, "it is not JSON"),
    ('{"extent": NaN}', "it must hold exactly the fields"), (b"\xff\xfe", "it is not UTF-8 text"),
    (b" " * 300_000, "it is too large"),
])
def test_room_json_that_is_not_a_manifest_at_all_is_refused(text, why):
    with pytest.raises(RoomError, match=f"^This room.json is not a valid room manifest: {why}"):
        RoomManifest.from_json(text)


def test_nan_in_a_manifest_is_refused(tiny_room_model):
    text = build_room(tiny_room_model).manifest.to_json().replace('"temperature": 1.0', '"temperature": NaN')
    with pytest.raises(RoomError, match="the temperature must be a number above 0 and at most 10"):
        RoomManifest.from_json(text)


# --- the folder -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web_dir(tmp_path_factory) -> Path:
    """A stand-in for vae_core/web: the page, modules in folders, and what must not be copied."""
    web = tmp_path_factory.mktemp("web")
    for name, text in {"room/index.html": "<!doctype html><title>room</title>", "room/main.js": "export {};",
                       "decoder.js": "export {};", "modes/explore.js": "export {};", "tests/test_x.js": "x",
                       "test_page.py": "x", "__pycache__/a.pyc": "x", ".hidden": "x", "plane.test.js": "x"}.items():
        (web / name).parent.mkdir(parents=True, exist_ok=True)
        (web / name).write_text(text)
    return web


def listing(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_write_room_writes_the_data_and_the_page(tiny_room_model, tmp_path, web_dir):
    files = build_room(tiny_room_model)
    out = write_room(files, tmp_path / "site" / "room", web_dir=web_dir)
    room = files.manifest
    assert out == (tmp_path / "site" / "room").absolute()
    assert listing(out) == {"room.json", room.decoder, room.points, "index.html", "room/index.html", "room/main.js",
                            "decoder.js", "modes/explore.js"}
    assert (out / "index.html").read_text() == "<!doctype html><title>room</title>"
    assert RoomManifest.from_json((out / "room.json").read_text()) == room
    assert (out / room.decoder).read_bytes() == files.files[room.decoder]
    assert os.listdir(tmp_path / "site") == ["room"]  # no temporary folder left beside it
    assert (out.stat().st_mode & 0o777) == 0o755 and ((out / "room.json").stat().st_mode & 0o777) == 0o644
    first, total = site_bytes(out)
    assert first == total == sum((out / n).stat().st_size for n in listing(out))
    data_only = write_room(files, tmp_path / "data", site=False)
    assert listing(data_only) == {"room.json", room.decoder, room.points}


def test_write_room_copies_the_packages_web_folder(tiny_room_model, tmp_path):
    out = write_room(build_room(tiny_room_model), tmp_path / "room")
    for name in ("decoder.js", "safetensors.js", "random.js"):
        assert (out / name).read_bytes() == (ROOT / "vae_core" / "web" / name).read_bytes()
    assert (out / "index.html").is_file() == (ROOT / "vae_core" / "web" / "room" / "index.html").is_file()


def test_write_room_replaces_a_previous_export_and_nothing_else(tiny_room_model, tmp_path, web_dir):
    out = tmp_path / "room"
    write_room(build_room(tiny_room_model), out, web_dir=web_dir)
    (out / "stale.txt").write_text("from before")
    maker = checkpoint_with_latents(VAEConfig(hidden=(16,), num_classes=10), seed=2)
    files = build_room(tiny_room_model, maker)
    write_room(files, out, web_dir=web_dir)
    assert not (out / "stale.txt").exists() and (out / files.manifest.conditional).is_file()
    assert os.listdir(tmp_path) == ["room"]
    first, total = site_bytes(out)
    assert total - first == files.manifest.sizes[files.manifest.conditional]
    # an empty folder is fine; a folder of something else, or a file, is left alone
    (tmp_path / "empty").mkdir()
    write_room(files, tmp_path / "empty", site=False)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(RoomError) as caught:
        write_room(files, tmp_path / "mine")
    assert str(caught.value) == ("The room's folder is not empty and holds no previous room export (no valid "
                                 "room.json); give a new or empty folder.")
    assert listing(tmp_path / "mine") == {"thesis.tex"}
    (tmp_path / "mine" / "room.json").write_text("{}")  # a room.json of something else is no room export either
    with pytest.raises(RoomError, match="holds no previous room export"):
        write_room(files, tmp_path / "mine")
    assert listing(tmp_path / "mine") == {"thesis.tex", "room.json"}
    (tmp_path / "file").write_text("x")
    with pytest.raises(RoomError, match="^The room's folder exists and is not a folder"):
        write_room(files, tmp_path / "file")
    assert sorted(os.listdir(tmp_path)) == ["empty", "file", "mine", "room"]


def test_a_failed_write_leaves_the_previous_room_whole(tiny_room_model, tmp_path, web_dir, monkeypatch):
    out = tmp_path / "room"
    before = build_room(tiny_room_model)
    write_room(before, out, web_dir=web_dir)
    snapshot = {n: (out / n).read_bytes() for n in listing(out)}

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    maker = checkpoint_with_latents(VAEConfig(hidden=(16,), num_classes=10), seed=2)
    with pytest.raises(RoomError) as caught:
        write_room(build_room(tiny_room_model, maker), out, web_dir=web_dir)
    assert str(caught.value) == "The room could not be written: no space left on device."
    assert {n: (out / n).read_bytes() for n in listing(out)} == snapshot
    assert os.listdir(tmp_path) == ["room"]


def test_write_room_refuses_files_that_are_not_its_manifests(tiny_room_model, tmp_path):
    files = build_room(tiny_room_model)
    bad = vc.RoomFiles(files.manifest, {**files.files, "decoder-0000000000000000.safetensors": b"x"})
    with pytest.raises(RoomError, match=r"^The room's files are not the ones its manifest names\.$"):
        write_room(bad, tmp_path / "room")
    assert not (tmp_path / "room").exists()


# --- the names a URL may give ------------------------------------------------------------------------

GOOD_ID, GOOD_FILE = "0123456789ab", "decoder-0123456789abcdef.safetensors"
HOSTILE = ["", ".", "..", "../room.json", "..%2f", "%2e%2e", "%2e%2e%2froom.json", "/etc/passwd", "/room.json",
           "room.json/", "./room.json", "room.json\x00", "room.json\x00.png", "ROOM.JSON", "room.json ", " room.json",
           "room.json\n", "decoder-0123456789abcdef.safetensors\n", "decoder-0123456789ABCDEF.safetensors",
           "decoder-0123456789abcde.safetensors", "decoder-0123456789abcdef0.safetensors",
           "decoder-0123456789abcdef.safetensors/..", "weights-0123456789abcdef.safetensors",
           "decoder-０１２３４５６７８９abcdef.safetensors", "decoder-0123456789abcdef.SAFETENSORS",
           "C:\\room.json", "..\\room.json", "a" * 10_000, "room.json" * 1000, "0123456789ab/", "0123456789AB",
           "0123456789a", "0123456789abc", "０１２３４５６７８９ab", "0123456789ab\n", "\u202e0123456789ab",
           "0123456789a\u0431", None, 12, b"room.json", b"0123456789ab", ["room.json"]]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_are_refused(text):
    assert safe_room_id(text) is None and safe_room_file(text) is None


def test_good_names_pass_as_they_are():
    assert safe_room_id(GOOD_ID) == GOOD_ID and safe_room_file(GOOD_FILE) == GOOD_FILE
    assert safe_room_file("room.json") == "room.json"
    for kind in ("points", "conditional"):
        assert safe_room_file(f"{kind}-0123456789abcdef.safetensors") == f"{kind}-0123456789abcdef.safetensors"
    assert safe_room_id(GOOD_FILE) is None and safe_room_file(GOOD_ID) is None


@FUZZ
@given(st.text(max_size=80) | st.text(alphabet="0123456789abcdef./%-jnorstedcfilpnaoms\x00", max_size=40))
def test_any_name_a_validator_accepts_is_a_plain_file_name(text):
    for check in (safe_room_id, safe_room_file):
        name = check(text)
        assert name is None or (name == text and name.isascii() and "/" not in name and "\\" not in name
                                and ".." not in name and "\x00" not in name and name == name.strip()
                                and not name.startswith("."))


def test_the_shipped_conditional_model_is_found_by_dataset():
    assert shipped_conditional("mnist") == PRETRAINED.resolve() / "conditional" / "mnist.safetensors"
    assert shipped_conditional("fashion-mnist").name == "fashion-mnist.safetensors"
    for hostile in ("../mnist", "/etc/passwd", "kmnist", "", None, "MNIST"):
        assert shipped_conditional(hostile) is None
