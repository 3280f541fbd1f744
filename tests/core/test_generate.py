"""Class-true generation (vae_core.generate) and its judge (vae_core.classifier): shapes,
seeds, every class of a small model above a floor, the measurements, and the errors."""

import numpy as np
import pytest
import torch

from vae_core.checkpoint import Checkpoint, Latents, checkpoint_bytes, load_checkpoint
from vae_core.classifier import accuracy, classify, load_classifier, save_classifier, train_classifier
from vae_core.errors import CheckpointError, ConfigError
from vae_core.data import load_dataset
from vae_core.generate import (fidelity, generate_class, handwriting_in_every_class, pure_codes, style_in_every_class,
                               variety)
from vae_core.inference import decode, encode
from vae_core.model import VAEConfig, build_model
from vae_core.training import TrainConfig, train

from helpers.data import FASHION_DIR, MNIST_DIR, ROOT

CLASSES = tuple(str(i) for i in range(10))
# Measured on these 1,200 MNIST training images: the judge scores 0.93 on the 300 test images;
# the small conditional VAE (40 epochs) makes each class 0.53-0.97 of the time by that judge,
# the small unconditional one (20 epochs, its codes far less separated) 0.32 on average (chance:
# 0.1). The floors leave room for the judge's own errors; the shipped models' figures (>= 98 %
# for every class) are the benchmark's and the model card's.
CONDITIONAL_FLOOR, UNCONDITIONAL_MEAN_FLOOR = 0.4, 0.2


def _checkpoint(model, digits) -> Checkpoint:
    given = digits["test_y"] if model.config.num_classes else None
    z_mean, z_logvar = encode(model, digits["test_x"], labels=given)
    return Checkpoint.from_model(model, dataset="mnist", classes=CLASSES,
                      latents=Latents(z_mean, z_logvar, digits["test_y"]))


@pytest.fixture(scope="module")
def trained(digits):
    """A small conditional VAE, a small unconditional one, and a judge, all on the same images."""
    models = {}
    for name, classes, epochs in (("conditional", 10, 40), ("unconditional", 0, 20)):
        model = build_model(VAEConfig(hidden=(128,), num_classes=classes), seed=0)
        train(model, digits["train_x"], None, TrainConfig(epochs=epochs, batch_size=64, lr=3e-3),
              train_labels=digits["train_y"])
        models[name] = _checkpoint(model, digits)
    judge = train_classifier(digits["train_x"], digits["train_y"], 10, epochs=8, seed=0)
    return models, judge


def test_the_judge_learns_the_classes(trained, digits):
    _, judge = trained
    assert accuracy(judge, digits["test_x"], digits["test_y"]) > 0.85
    assert classify(judge, digits["test_x"][:7]).shape == (7,)


@pytest.mark.parametrize("kind", ["conditional", "unconditional"])
def test_generate_class_shapes_dtype_and_seeds(trained, kind):
    ckpt = trained[0][kind]
    images = generate_class(ckpt, 3, 12, seed=5)
    assert images.shape == (12, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images, generate_class(ckpt, 3, 12, seed=5))
    assert not np.array_equal(images, generate_class(ckpt, 3, 12, seed=6))
    assert generate_class(ckpt, 3, 0).shape == (0, 28, 28)


def shares(ckpt, judge) -> list[float]:
    return [fidelity(classify(judge, generate_class(ckpt, label, 60, seed=label)), label) for label in range(10)]


def test_every_class_of_a_conditional_model_comes_out_as_that_class(trained):
    by_class = shares(trained[0]["conditional"], trained[1])
    assert min(by_class) >= CONDITIONAL_FLOOR, by_class


def test_an_unconditional_model_makes_the_chosen_class_far_above_chance(trained):
    by_class = shares(trained[0]["unconditional"], trained[1])
    assert np.mean(by_class) >= UNCONDITIONAL_MEAN_FLOOR, by_class


def test_temperature_spreads_the_styles(trained):
    ckpt = trained[0]["conditional"]
    calm, wild = (variety(generate_class(ckpt, 2, 50, seed=1, temperature=t)) for t in (0.2, 1.5))
    assert wild > calm > 0


def test_one_style_in_every_class(trained):
    ckpt, judge = trained[0]["conditional"], trained[1]
    row = style_in_every_class(ckpt, [0.0, 0.0])
    assert row.shape == (10, 28, 28)
    assert np.mean(classify(judge, row) == np.arange(10)) >= 0.7
    with pytest.raises(ConfigError, match="only a conditional model"):
        style_in_every_class(trained[0]["unconditional"], [0.0, 0.0])


def same_class_errors(own, drawings, labels, pool, pool_labels) -> tuple[float, float]:
    """Mean squared pixel error of each image ``own[i]`` against its drawing, and against the
    other drawings of the same class in ``pool``."""
    own, drawings, pool = (np.asarray(a, float) for a in (own, drawings, pool))
    others = [np.mean((own[i] - pool[j]) ** 2) for i in range(len(own))
              for j in np.flatnonzero(pool_labels == labels[i]) if not np.array_equal(pool[j], drawings[i])]
    return float(np.mean((own - drawings) ** 2)), float(np.mean(others))


def test_handwriting_in_every_class_keeps_the_drawing_and_draws_every_class(trained, digits):
    ckpt, judge = trained[0]["conditional"], trained[1]
    x, y = digits["test_x"][:20], digits["test_y"][:20]
    rows = np.stack([handwriting_in_every_class(ckpt, image, int(label)) for image, label in zip(x, y)])
    assert rows.shape == (20, 10, 28, 28) and rows.dtype == np.uint8
    assert np.array_equal(rows[3], handwriting_in_every_class(ckpt, x[3], int(y[3])))  # deterministic
    # its own class's image is exactly the model's reconstruction of the drawing (the decode of mu) ...
    mu, _ = encode(ckpt.model, x, labels=y)
    own = rows[np.arange(20), y]
    assert np.array_equal(own, decode(ckpt.model, mu, labels=y))
    # ... so it resembles that drawing more than other drawings of its class do (this small model
    # measured 0.76 of their squared error) and more than the class's typical style (z = 0) does
    own_error, other_error = same_class_errors(own, x, y, digits["test_x"], digits["test_y"])
    assert own_error < 0.85 * other_error, (own_error, other_error)
    typical = style_in_every_class(ckpt, [0.0, 0.0])[y]
    assert own_error < np.mean((typical.astype(float) - x) ** 2)
    assert np.mean(classify(judge, rows.reshape(-1, 28, 28)) == np.tile(np.arange(10), 20)) >= CONDITIONAL_FLOOR


def test_handwriting_in_every_class_refuses_what_it_cannot_draw(trained, digits):
    ckpt, image = trained[0]["conditional"], digits["test_x"][0]
    with pytest.raises(ConfigError, match="only a conditional model"):
        handwriting_in_every_class(trained[0]["unconditional"], image, 1)
    with pytest.raises(ConfigError, match=r"class 10 is not one of this model's classes \(0 to 9\)"):
        handwriting_in_every_class(ckpt, image, 10)
    with pytest.raises(ConfigError, match=r"^the image must be uint8 \[28, 28\], got float32 \[28, 28\]$"):
        handwriting_in_every_class(ckpt, image.astype(np.float32), 1)
    with pytest.raises(ConfigError, match=r"got uint8 \[1, 28, 28\]"):
        handwriting_in_every_class(ckpt, image[None], 1)


# Measured with the shipped models on the first 100 test images, each encoded with the class the
# judge reads in it (as Your digit does): MNIST 1,000 of 1,000 renderings are their class;
# Fashion-MNIST 70.2 % (sandals 12 %, shirts 41 %: the conditional VAE's own weakness, the same
# 72 % the model card gives for "make a ..."), so its floor only guards against a regression.
HANDWRITING_FLOOR = {"mnist": 0.95, "fashion-mnist": 0.6}


@pytest.mark.parametrize("dataset", HANDWRITING_FLOOR)
def test_the_shipped_models_draw_a_test_image_as_every_class(dataset):
    folder = {"mnist": MNIST_DIR, "fashion-mnist": FASHION_DIR}[dataset]
    if not (folder / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"the {dataset} test files are not in {folder}")
    maker = load_checkpoint(ROOT / "pretrained" / "conditional" / f"{dataset}.safetensors")
    judge, _ = load_classifier(ROOT / "pretrained" / "classifier" / f"{dataset}.safetensors")
    test = load_dataset(dataset, "test", root=folder, download=False)
    drawings, labels = test.images[:100], test.labels[:100]
    read_as = classify(judge, drawings)
    rows = np.stack([handwriting_in_every_class(maker, image, int(k)) for image, k in zip(drawings, read_as)])
    share = np.mean(classify(judge, rows.reshape(-1, 28, 28)) == np.tile(np.arange(10), 100))
    assert share >= HANDWRITING_FLOOR[dataset], share
    # the read class's image is the drawing itself, approximately: measured 0.45 (MNIST) and 0.25
    # (Fashion-MNIST) of the squared error against the other test images of its class
    own_error, other_error = same_class_errors(rows[np.arange(100), read_as], drawings, labels, drawings, labels)
    assert own_error < 0.6 * other_error, (own_error, other_error)


def test_bad_labels_and_models_get_one_sentence(trained, tiny_model):
    ckpt = trained[0]["conditional"]
    for label in (10, -1, 2.5, True):
        with pytest.raises(ConfigError, match=r"is not one of this model's classes \(0 to 9\)"):
            generate_class(ckpt, label, 4)
    bare = Checkpoint.from_model(tiny_model, dataset="mnist", classes=CLASSES)
    with pytest.raises(ConfigError, match="neither class inputs nor test-set codes"):
        generate_class(bare, 1, 4)


def test_pure_codes_keep_the_codes_among_their_own_kind():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(-3, 0.5, (100, 2)), rng.normal(3, 0.5, (100, 2)), rng.normal(0, 0.3, (40, 2))])
    labels = np.array([0] * 100 + [1] * 100 + [0] * 20 + [1] * 20)
    pure = pure_codes(z, labels, 0)
    assert set(pure) <= set(np.flatnonzero(labels == 0))
    assert 90 <= np.count_nonzero(pure < 100) and np.count_nonzero(pure >= 200) < 10  # the mixed blob is left out


def test_variety_is_zero_for_copies_and_grows_with_difference():
    one = np.zeros((5, 28, 28), np.uint8)
    assert variety(one) == 0.0
    two = one.copy()
    two[::2] = 255  # half black, half white: mean distance over the 10 pairs = 6/10 * 28
    assert variety(two) == pytest.approx(0.6 * 28)


def test_a_conditional_checkpoint_round_trips_and_its_classes_must_match(trained):
    ckpt = trained[0]["conditional"]
    again = load_checkpoint(checkpoint_bytes(ckpt))
    assert again.config.num_classes == 10
    assert np.array_equal(generate_class(again, 4, 6, seed=2), generate_class(ckpt, 4, 6, seed=2))
    wrong = Checkpoint.from_model(ckpt.model, dataset="mnist", classes=CLASSES[:9])
    with pytest.raises(CheckpointError, match="a conditional model of 10 classes, but it names 9"):
        load_checkpoint(checkpoint_bytes(wrong))


def test_a_classifier_file_round_trips_and_a_foreign_file_is_refused(trained, digits, tmp_path):
    judge = trained[1]
    path = save_classifier(judge, tmp_path / "judge.safetensors", "mnist", list(CLASSES), 0.9)
    loaded, meta = load_classifier(path)
    assert meta == {"dataset": "mnist", "classes": list(CLASSES), "test_accuracy": 0.9}
    assert np.array_equal(classify(loaded, digits["test_x"]), classify(judge, digits["test_x"]))
    checkpoint = tmp_path / "model.safetensors"
    checkpoint.write_bytes(checkpoint_bytes(trained[0]["conditional"]))
    with pytest.raises(CheckpointError, match="not a classifier of this project"):
        load_classifier(checkpoint)
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_classifier(tmp_path / "junk.safetensors")


def test_a_conditional_model_needs_its_classes(trained):
    model = trained[0]["conditional"].model
    with pytest.raises(ConfigError, match="needs the class of each image"):
        model.decode(torch.zeros(2, 2))
    with pytest.raises(ConfigError, match="one class from 0 to 9 per image"):
        model.decode(torch.zeros(2, 2), torch.tensor([1, 12]))
    with pytest.raises(ConfigError, match="mlp VAE"):
        VAEConfig(arch="conv", hidden=(8, 16, 32), num_classes=10)
