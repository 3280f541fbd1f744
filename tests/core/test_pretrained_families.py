"""The shipped beta family and latent-size models: on disk within their size budget, one
architecture and recipe, ordered as the model card says, and the card's figures are the
checkpoints' own (rounded as printed)."""

import re
import shlex

import numpy as np
import pytest

import vae_core as vc
from vae_core.classifier import load_classifier
from vae_core.generate import prior_fidelity
from helpers.data import MNIST_DIR, ROOT

PRETRAINED = ROOT / "pretrained"
CARD = PRETRAINED / "README.md"
BETAS = ("0.02", "0.1", "0.5", "1", "2", "4", "8")
BETA_FILES = {beta: f"beta/mnist-beta-{beta}.safetensors" for beta in BETAS}
# latent size -> file: the 2-D model of the comparison is the family's beta = 1 model, not a copy
LATENT_FILES = {2: BETA_FILES["1"], 8: "latent/mnist-8d.safetensors", 32: "latent/mnist-32d.safetensors"}
ALL_FILES = sorted(set(BETA_FILES.values()) | set(LATENT_FILES.values()))
# Bytes per file: the weights (161 k float32, 0.64 MB) plus the test set's 10,000 codes, whose
# z_mean and z_logvar grow with the latent size (0.16 MB at 2-D, 2.56 MB at 32-D).
MAX_BYTES = {2: 1_000_000, 8: 1_500_000, 32: 3_500_000}
MAX_TOTAL_BYTES = 12_000_000  # issue 26: all the extra shipped models together
PRIOR_SAMPLES, SURE = 1000, 0.9


def card_tables() -> dict[str, dict[str, dict[str, str]]]:
    """The model card's tables of these families, by their first column ("β", "latent size"):
    file -> {column: cell}, for each row that names a file of beta/ or latent/."""
    tables, header = {}, None
    for line in CARD.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif len(cells) > 1 and (match := re.fullmatch(r"`((?:beta|latent)/[^`]+\.safetensors)`", cells[1])):
            tables.setdefault(header[0], {})[match.group(1)] = dict(zip(header, cells))
    return tables


def card_rows() -> list[tuple[str, dict[str, str]]]:
    """(file, row) of every row of both tables (the beta = 1 file has one in each)."""
    return [(name, row) for table in card_tables().values() for name, row in table.items()]


def number(cell: str) -> str:
    """The figure in a cell, as printed ("73.99 %" -> "73.99", "0.98 MB" -> "0.98")."""
    return re.sub(r"[^0-9.]", "", cell.split("(")[0])


@pytest.fixture(scope="module")
def checkpoints() -> dict[str, vc.Checkpoint]:
    return {name: vc.load_checkpoint(PRETRAINED / name) for name in ALL_FILES}


def test_the_files_exist_within_their_sizes_and_the_budget():
    sizes = {name: (PRETRAINED / name).stat().st_size for name in ALL_FILES}
    for name in BETA_FILES.values():
        assert sizes[name] <= MAX_BYTES[2], name
    for latent_dim, name in LATENT_FILES.items():
        assert sizes[name] <= MAX_BYTES[latent_dim], name
    assert sum(sizes.values()) <= MAX_TOTAL_BYTES
    assert not (PRETRAINED / "latent" / "mnist-2d.safetensors").exists()  # the beta = 1 file serves


def test_the_beta_family_shares_one_architecture_and_recipe(checkpoints):
    family = [checkpoints[BETA_FILES[b]] for b in BETAS]
    assert all(c.dataset == "mnist" and c.latents.z_mean.shape == (10_000, 2) for c in family)
    assert all(c.config == family[0].config for c in family)
    assert family[0].config.hidden == (96, 48) and family[0].config.latent_dim == 2
    assert [c.train_config["beta"] for c in family] == [float(b) for b in BETAS]
    recipe = {k: v for k, v in family[0].train_config.items() if k != "beta"}
    assert all({k: v for k, v in c.train_config.items() if k != "beta"} == recipe for c in family)
    assert all(c.metrics["status"] == "done" and c.metrics["epochs"] == recipe["epochs"] for c in family)


def test_the_latent_sizes_share_the_recipe_at_beta_one(checkpoints):
    models = {d: checkpoints[name] for d, name in LATENT_FILES.items()}
    assert {d: c.config.latent_dim for d, c in models.items()} == {2: 2, 8: 8, 32: 32}
    assert all(c.latents.z_mean.shape == (10_000, d) for d, c in models.items())
    base = models[2]
    for c in models.values():
        assert c.config.hidden == base.config.hidden and c.config.activation == base.config.activation
        assert c.train_config == base.train_config and c.train_config["beta"] == 1.0


def test_the_family_is_ordered_as_the_card_says(checkpoints):
    recon, kl, neg_elbo = (np.array([checkpoints[BETA_FILES[b]].metrics[k] for b in BETAS])
                           for k in ("recon", "kl", "neg_elbo"))
    at_one = BETAS.index("1")
    assert np.all(np.diff(kl) < 0), kl  # a larger beta buys a smaller KL, all along
    assert np.all(np.diff(recon[at_one:]) > 0), recon  # from beta = 1 up, paid in reconstruction
    # below 1 the 2-D code, not the KL, limits the reconstruction: it stays within a nat of beta = 1's
    assert np.all(np.abs(recon[:at_one] - recon[at_one]) < 1.0), recon
    assert np.argmin(neg_elbo) == at_one, neg_elbo  # the true ELBO is best where it was trained
    knn = [checkpoints[BETA_FILES[b]].metrics["knn_accuracy"] for b in BETAS]
    assert np.argmax(knn) == at_one, knn
    np.testing.assert_allclose(neg_elbo, recon + kl, atol=1e-6)


def active_dimensions(ckpt: vc.Checkpoint) -> int:
    """Latent dimensions whose z_mean varies over the test set (variance > 0.01, Burda et al., 2016)."""
    return int((ckpt.latents.z_mean.var(0) > 0.01).sum())


def test_a_larger_code_reconstructs_better_up_to_the_dimensions_it_uses(checkpoints):
    recon, neg_elbo = ([checkpoints[LATENT_FILES[d]].metrics[k] for d in (2, 8, 32)] for k in ("recon", "neg_elbo"))
    assert recon[0] > recon[1] > recon[2] and neg_elbo[0] > neg_elbo[1] > neg_elbo[2]
    assert neg_elbo[0] - neg_elbo[1] > 20 > 1 > neg_elbo[1] - neg_elbo[2]  # 2 -> 8 buys much, 8 -> 32 little
    for name, row in card_tables()["latent size"].items():
        assert row["active dimensions"] == str(active_dimensions(checkpoints[name])), name
    assert [active_dimensions(checkpoints[LATENT_FILES[d]]) for d in (2, 8, 32)] == [2, 7, 7]


def test_the_cards_figures_are_the_checkpoints(checkpoints):
    tables = card_tables()
    assert set(tables) == {"β", "latent size"}
    assert list(tables["β"]) == list(BETA_FILES.values())
    assert list(tables["latent size"]) == list(LATENT_FILES.values())  # its 2-D row names the beta = 1 file
    for name, row in card_rows():
        m = checkpoints[name].metrics
        assert number(row["recon (nats)"]) == f"{m['recon']:.2f}", name
        assert number(row["KL (nats)"]) == f"{m['kl']:.2f}", name
        assert number(row["−ELBO (nats)"]) == f"{m['neg_elbo']:.2f}", name
        assert number(row["−log p(x), K = 100 (nats)"]) == f"{m['iwae_nll']:.2f}", name
        assert number(row["k-NN (k = 5)"]) == f"{100 * m['knn_accuracy']:.2f}", name
        assert number(row["size"]) == f"{(PRETRAINED / name).stat().st_size / 1e6:.2f}", name
    assert [row["β"] for row in tables["β"].values()] == list(BETAS)
    assert [row["latent size"] for row in tables["latent size"].values()] == [str(d) for d in LATENT_FILES]


def test_the_cards_prior_fidelity_is_recomputed(checkpoints):
    judge, meta = load_classifier(PRETRAINED / "classifier" / "mnist.safetensors")
    assert meta["dataset"] == "mnist"
    shares = {name: prior_fidelity(checkpoints[name], judge, n=PRIOR_SAMPLES, seed=0, sure=SURE) for name in ALL_FILES}
    for name, row in card_rows():
        assert number(row["prior fidelity"]) == f"{100 * shares[name]:.1f}", name
    family = [shares[BETA_FILES[b]] for b in BETAS]
    assert np.argmax(family) == BETAS.index("1"), family  # best at beta = 1, as the card says


def test_the_card_has_the_command_of_every_model(checkpoints):
    commands = [shlex.split(line) for line in CARD.read_text().splitlines()
                if line.startswith("python -m vae_core train ") and re.search(r"pretrained/(beta|latent)/", line)]
    by_out = {args[args.index("--out") + 1]: args for args in commands}
    assert set(by_out) == {f"pretrained/{name}" for name in ALL_FILES}
    for name in ALL_FILES:
        args, ckpt = by_out[f"pretrained/{name}"], checkpoints[name]

        def flag(option: str, default: str | None = None) -> str | None:
            return args[args.index(option) + 1] if option in args else default

        assert float(flag("--beta", "1")) == ckpt.train_config["beta"]
        assert int(flag("--latent-dim", "2")) == ckpt.config.latent_dim
        assert int(flag("--epochs")) == ckpt.train_config["epochs"] and int(flag("--seed")) == ckpt.train_config["seed"]
        assert tuple(int(h) for h in flag("--hidden").split(",")) == ckpt.config.hidden
        assert float(flag("--ema")) == ckpt.train_config["ema"]
        assert float(flag("--warmup")) == ckpt.train_config["warmup_epochs"]


@pytest.mark.parametrize("name", ALL_FILES)
def test_reevaluation_matches_the_stored_figures(name, checkpoints):
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST test files not found in {MNIST_DIR}")
    ckpt = checkpoints[name]
    test = vc.load_dataset("mnist", "test", root=MNIST_DIR, download=False)
    measured = vc.negative_elbo(ckpt.model, test.images, seed=0)
    for key, stored in (("recon", "recon"), ("kl", "kl"), ("loss", "neg_elbo")):
        assert measured[key] == pytest.approx(ckpt.metrics[stored], abs=0.05), key
    z_mean, _ = vc.encode(ckpt.model, test.images)
    np.testing.assert_allclose(z_mean, ckpt.latents.z_mean, atol=1e-4)  # the stored codes are this model's
