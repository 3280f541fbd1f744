"""Command line: ``python -m vae_core {train,evaluate,sample,grid,scatter,encode,classifier,download,export-room} ...``.

Every failure a user can cause ends with one line ``error: ...`` on stderr and a
non-zero exit code (1 for a bad file or dataset, 2 for bad arguments); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import tempfile
from pathlib import Path

import torch
from tqdm import tqdm

from . import data as data_mod
from .checkpoint import MAX_UPLOAD_MB, load_checkpoint, read_file, save_checkpoint
from .classifier import accuracy, save_classifier, train_classifier
from .errors import ConfigError, ImageError, VAEError
from .evaluation import evaluate
from .generate import generate_class
from .images import latent_extent, png_bytes, scatter_image, tile
from .inference import decode, decode_grid, encode_image, sample_prior
from .latents import checkpoint_latents, score_arrays
from .config import ACTIVATIONS, ARCHITECTURES, VAEConfig, parse_layer_sizes
from .model import count_parameters
from .pipeline import load_splits, train_checkpoint
from .room import (DATASET_TITLES, FIRST_VISIT_BUDGET, SHIPPED_DIR, TOTAL_BUDGET, build_room, shipped_conditional,
                   site_bytes, write_room)
from .typicality import SCORE_KINDS, verdict
from .training import PRECISIONS, TrainConfig, TrainEvent

DEFAULTS_MODEL, DEFAULTS_TRAIN = VAEConfig(), TrainConfig()


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _layer_sizes(text: str) -> tuple[int, ...]:
    try:
        return parse_layer_sizes(text)
    except ConfigError as e:  # argparse reports it as a usage error (exit code 2)
        raise argparse.ArgumentTypeError(str(e)) from None


def build_parser() -> Parser:
    parser = Parser(prog="python -m vae_core", description="Train, evaluate and sample a VAE with a 2-D latent space "
                    "on MNIST or Fashion-MNIST.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def data_flags(p, download=True):
        p.add_argument("--data-dir", metavar="DIR", help="folder with the IDX files (default: $VAE_DATA_DIR, "
                       "then ~/.cache/vae-explorer/<dataset>/)")
        if download:
            p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing files")

    t = sub.add_parser("train", help="train a model and save it as a checkpoint",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    t.add_argument("--dataset", choices=list(data_mod.DATASETS), default="mnist", help="dataset to train on")
    t.add_argument("--out", required=True, metavar="FILE", help="checkpoint to write (.safetensors)")
    t.add_argument("--epochs", type=_positive_int, default=DEFAULTS_TRAIN.epochs, help="passes over the training set")
    t.add_argument("--batch-size", type=_positive_int, default=DEFAULTS_TRAIN.batch_size, help="images per step")
    t.add_argument("--lr", type=float, default=DEFAULTS_TRAIN.lr, help="peak learning rate")
    t.add_argument("--optimizer", choices=["adam", "adamw"], default=DEFAULTS_TRAIN.optimizer, help="optimizer")
    t.add_argument("--weight-decay", type=float, default=DEFAULTS_TRAIN.weight_decay, help="weight decay")
    t.add_argument("--warmup", type=float, default=DEFAULTS_TRAIN.warmup_epochs, metavar="EPOCHS",
                   help="linear learning-rate warm-up, then cosine decay")
    t.add_argument("--beta", type=float, default=DEFAULTS_TRAIN.beta, help="weight of the KL term (1 = true ELBO)")
    t.add_argument("--kl-warmup", type=float, default=DEFAULTS_TRAIN.kl_warmup_epochs, metavar="EPOCHS",
                   help="ramp beta up from 0 over this many epochs")
    t.add_argument("--shift", type=int, default=DEFAULTS_TRAIN.shift, metavar="PIXELS",
                   help="augmentation: random translation of training images by up to this many pixels")
    t.add_argument("--ema", type=float, default=DEFAULTS_TRAIN.ema, metavar="DECAY",
                   help="keep an exponential moving average of the weights (e.g. 0.999); 0 = off")
    t.add_argument("--iwae-train", type=_positive_int, default=DEFAULTS_TRAIN.iwae_samples, metavar="K",
                   help="importance samples per image in the training objective: 1 = the ELBO, K > 1 = the "
                        "tighter importance-weighted bound (K decodes per image)")
    t.add_argument("--arch", choices=ARCHITECTURES, default=DEFAULTS_MODEL.arch, help="encoder/decoder type")
    t.add_argument("--hidden", type=_layer_sizes, default=DEFAULTS_MODEL.hidden, metavar="SIZES",
                   help="mlp: encoder layer widths (decoder mirrors); conv: ch1,ch2,dense")
    t.add_argument("--activation", choices=list(ACTIVATIONS), default=DEFAULTS_MODEL.activation, help="activation")
    t.add_argument("--latent-dim", type=_positive_int, default=DEFAULTS_MODEL.latent_dim, help="latent size")
    t.add_argument("--dropout", type=float, default=DEFAULTS_MODEL.dropout, help="dropout on hidden layers")
    t.add_argument("--autoencoder", action="store_true", help="train a plain (deterministic) autoencoder of the "
                   "same architecture: the encoder outputs z itself and the loss is the reconstruction alone "
                   "(--beta and --kl-warmup then do nothing)")
    t.add_argument("--conditional", action="store_true", help="train a conditional VAE: encoder and decoder are "
                   "also given each image's class, so z becomes its style and `sample --label K` draws a true K")
    t.add_argument("--seed", type=int, default=DEFAULTS_TRAIN.seed, help="seed of weights, shuffling and noise")
    t.add_argument("--device", default=DEFAULTS_TRAIN.device, help="auto, cpu, cuda or mps")
    t.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: torch's choice)")
    t.add_argument("--precision", choices=list(PRECISIONS), default=DEFAULTS_TRAIN.precision,
                   help="bf16 runs the matrix products in bfloat16 (faster on CPUs with AMX/AVX512-BF16)")
    t.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                   help="use only the first N training images (and N/6 test images), for a quick run")
    t.add_argument("--iwae-k", type=int, default=100, metavar="K",
                   help="importance samples for the final -log p(x) estimate; 0 skips the final evaluation")
    data_flags(t)

    e = sub.add_parser("evaluate", help="print a checkpoint's test metrics as a table (or JSON)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    e.add_argument("checkpoint", help="checkpoint file")
    e.add_argument("--k", type=_positive_int, default=100, help="importance samples for -log p(x)")
    e.add_argument("--seed", type=int, default=0, help="seed of the sampled estimates")
    e.add_argument("--json", action="store_true", help="print the metrics as JSON instead of a table")
    e.add_argument("--limit", type=_positive_int, default=None, metavar="N", help="evaluate on N test images only")
    data_flags(e)

    def png_command(name: str, help: str, checkpoint: str = "checkpoint file") -> Parser:
        p = sub.add_parser(name, help=help, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.add_argument("checkpoint", help=checkpoint)
        p.add_argument("--out", required=True, metavar="FILE", help="PNG to write")
        return p

    s = png_command("sample", "decode random latent points into a PNG grid")
    s.add_argument("--n", type=_positive_int, default=64, help="number of images")
    s.add_argument("--temperature", type=_finite_float, default=1.0, help="scale of the prior's standard deviation")
    s.add_argument("--seed", type=int, default=0, help="random seed")
    s.add_argument("--label", default=None, help="make new images of one class (a class name or index): a "
                   "conditional model draws that class in random styles; another model samples near its test codes "
                   "of that class (vae_core.generate_class)")
    s.add_argument("--scale", type=_positive_int, default=2, help="pixel upscaling of the PNG")

    g = png_command("grid", "draw the manifold of decoded digits over the latent plane as a PNG")
    g.add_argument("--n", type=_positive_int, default=20, help="grid size (n x n)")
    g.add_argument("--method", choices=["ppf", "linear"], default="ppf",
                   help="ppf: normal quantiles (covers the prior evenly); linear: even spacing over --extent")
    g.add_argument("--extent", type=_finite_float, default=3.0, help="half-width of the linear grid")
    g.add_argument("--scale", type=_positive_int, default=1, help="pixel upscaling of the PNG")

    c = png_command("scatter", "draw a checkpoint's test-set latents, coloured by class, as a PNG",
                    "checkpoint file (with latents)")
    c.add_argument("--size", type=_positive_int, default=640, help="width and height in pixels")

    n = sub.add_parser("encode", help="encode your own image of a digit: its code, reconstruction and how typical "
                       "it is", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    n.add_argument("checkpoint", help="checkpoint file")
    n.add_argument("image", help="an image file (PNG, JPEG, GIF, ...) of one digit, dark on light or light on dark")
    n.add_argument("--out", metavar="FILE", help="also write the reconstruction as a PNG")
    n.add_argument("--scale", type=_positive_int, default=4, help="pixel upscaling of the PNG")
    n.add_argument("--json", action="store_true", help="print the result as JSON")
    n.add_argument("--data-dir", metavar="DIR", help="folder with the test set, used when the checkpoint carries "
                   "no per-image scores (never downloads)")

    k = sub.add_parser("classifier", help="train the small CNN that judges generated images (measurement only)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    k.add_argument("--dataset", choices=list(data_mod.DATASETS), default="mnist", help="dataset to train on")
    k.add_argument("--out", required=True, metavar="FILE", help="classifier file to write (.safetensors)")
    k.add_argument("--epochs", type=_positive_int, default=5, help="passes over the training set")
    k.add_argument("--seed", type=int, default=0, help="seed of weights, shuffling and shifts")
    k.add_argument("--threads", type=_positive_int, default=None, help="CPU threads (default: torch's choice)")
    k.add_argument("--limit", type=_positive_int, default=None, metavar="N", help="use only N training images")
    data_flags(k)

    d = sub.add_parser("download", help="download a dataset (verified by MD5)")
    d.add_argument("--dataset", choices=list(data_mod.DATASETS), default="mnist")
    data_flags(d, download=False)

    r = sub.add_parser("export-room", help="write the room page: a static folder that phones open to explore "
                       "a model's latent plane, decoded in the browser")
    r.add_argument("checkpoint", help="checkpoint file of a model with a 2-D latent space")
    r.add_argument("out_dir", metavar="OUT_DIR", help="folder to write (new, empty, or a previous room export, "
                   "which is replaced)")
    r.add_argument("--conditional", metavar="CKPT", help="conditional VAE of the same dataset, for the class "
                   "buttons (default: the shipped pretrained/conditional/<dataset>.safetensors when present)")
    r.add_argument("--no-conditional", action="store_true", help="no class buttons")
    r.add_argument("--title", help="the page's title (default: the dataset, and 'pretrained' or the file's name)")
    return parser


class ProgressPrinter:
    """Training's progress on stderr: a tqdm bar over the steps on a terminal (none in a log
    file), and a line per epoch everywhere."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.stop_requested = False

    def __call__(self, ev: TrainEvent) -> bool:
        if ev.kind == "step":
            desc = f"epoch {ev.epoch}/{ev.epochs}"
            if self.bar is None:
                self.bar = tqdm(desc=desc, total=ev.total_steps, unit="step", leave=False, file=sys.stderr,
                                disable=None, dynamic_ncols=True)
            self.bar.set_description(desc, refresh=False)
            self.bar.set_postfix_str(f"loss {ev.loss:7.2f}  lr {ev.lr:.2e}", refresh=False)
            self.bar.update(ev.step - self.bar.n)
        elif ev.kind == "epoch":
            test = f"  test {ev.test['loss']:.2f} (recon {ev.test['recon']:.2f} + kl {ev.test['kl']:.2f})" \
                if ev.test else ""
            self.write(f"epoch {ev.epoch:3d}/{ev.epochs}  train {ev.loss:.2f} (recon {ev.recon:.2f} + kl {ev.kl:.2f})"
                       f"{test}  {ev.elapsed:6.1f}s  eta {ev.eta:5.0f}s")
        else:
            self.close()
            if ev.kind == "stopped":  # a divergence ends the command with its error line instead
                self.write(f"{ev.kind}: {ev.message}")
        return self.stop_requested

    def write(self, line: str) -> None:
        """A line on stderr, above the bar."""
        tqdm.write(line, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar = None


class DownloadProgress:
    """The data module's progress(name, done, total) calls as a tqdm bar per file on a terminal,
    and a line per finished file everywhere; a context manager, so no bar outlives the download."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.name, self.done = None, 0

    def __call__(self, name: str, done: int, total: int | None) -> None:
        if name != self.name or done < self.done:  # a new file, or the same one again from another mirror
            self.close()
            self.bar = tqdm(desc=f"downloading {name}", total=total, unit="B", unit_scale=True, leave=False,
                            file=sys.stderr, disable=None, dynamic_ncols=True)
            self.name = name
        self.bar.update(done - self.done)
        self.done = done
        if done == total:
            self.close()
            tqdm.write(f"downloaded {name} ({done / 1e6:.1f} MB)", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.name, self.done = None, None, 0

    def __enter__(self) -> "DownloadProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _load_splits(args, dataset: str, limit: int | None = None) -> tuple[data_mod.Dataset, data_mod.Dataset]:
    """The train and test splits, downloading missing files unless --no-download."""
    with DownloadProgress() as progress:
        return load_splits(dataset, root=args.data_dir, limit=limit, download=not getattr(args, "no_download", False),
                           progress=progress)


def _check_writable(path: str) -> None:
    """Fail before a long run, not after it, when the output cannot be written."""
    folder = Path(path).resolve().parent
    if Path(path).is_dir():
        raise VAEError(f"{path} is a folder; give a file name such as {Path(path) / 'model.safetensors'}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as e:
        raise VAEError(f"cannot write to {folder}: {e.strerror or e}") from None


def cmd_train(args) -> int:
    _check_writable(args.out)
    model_config = VAEConfig(arch=args.arch, latent_dim=args.latent_dim, hidden=args.hidden,
                             activation=args.activation, dropout=args.dropout, variational=not args.autoencoder,
                             num_classes=len(data_mod.DATASETS[args.dataset].classes) if args.conditional else 0)
    train_config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                               optimizer=args.optimizer, weight_decay=args.weight_decay,
                               warmup_epochs=args.warmup, beta=args.beta, kl_warmup_epochs=args.kl_warmup,
                               shift=args.shift, ema=args.ema, seed=args.seed, device=args.device,
                               threads=args.threads, precision=args.precision, iwae_samples=args.iwae_train)
    train_set, test_set = _load_splits(args, args.dataset, args.limit)
    printer = ProgressPrinter()

    def on_interrupt(signum, frame):  # first Ctrl-C: finish the step and save; second: abort
        if printer.stop_requested:
            raise KeyboardInterrupt
        printer.stop_requested = True
        printer.write("stopping after this step (Ctrl-C again to abort without saving)...")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        sys.stderr.write(f"training on {len(train_set):,} {args.dataset} images, testing on {len(test_set):,}\n")
        # a divergence before any epoch raises DivergedError: --out keeps what it held
        ckpt, result = train_checkpoint(train_set, test_set, model_config, train_config, printer, args.iwae_k)
    finally:
        printer.close()
        signal.signal(signal.SIGINT, previous)
    save_checkpoint(ckpt, args.out)
    m = ckpt.metrics
    summary = f"saved {args.out}  ({count_parameters(ckpt.model):,} parameters, {result.seconds:.1f} s, " \
              f"{result.seconds / max(1, len(result.history)):.2f} s/epoch)"
    if "neg_elbo" not in m and "recon" in m:  # an autoencoder: no ELBO, no likelihood
        summary += f"\ntest reconstruction {m['recon']:.2f}  k-NN accuracy {100 * m.get('knn_accuracy', float('nan')):.2f}%"
    if "neg_elbo" in m:
        summary += f"\ntest -ELBO {m['neg_elbo']:.2f}  -log p(x) (K={m['iwae_k']}) {m['iwae_nll']:.2f}  " \
                   f"k-NN accuracy {100 * m.get('knn_accuracy', float('nan')):.2f}%"
    print(summary)
    if result.status == "diverged":
        raise VAEError(f"{result.message} The model of epoch {len(result.history)} was saved as {args.out}.")
    return 0


METRIC_ROWS = [("neg_elbo", "test negative ELBO", "nats"), ("recon", "  reconstruction", "nats"),
               ("kl", "  KL", "nats"), ("iwae_nll", "-log p(x), importance-weighted", "nats"),
               ("knn_accuracy", "k-NN (k=5) accuracy of z_mean", "%")]


def cmd_evaluate(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    train_set, test_set = _load_splits(args, ckpt.dataset)
    test_images, test_labels = test_set.images[:args.limit], test_set.labels[:args.limit]
    metrics = evaluate(ckpt.model, test_images, test_labels, train_set.images, train_set.labels,
                       k=args.k, seed=args.seed)
    if args.json:
        print(json.dumps({"checkpoint": args.checkpoint, "dataset": ckpt.dataset, **metrics}, indent=2))
        return 0
    print(f"{args.checkpoint}: {ckpt.dataset}, {ckpt.config.arch} {list(ckpt.config.hidden)}"
          + ("" if ckpt.config.variational else " autoencoder") + ", "
          f"latent size {ckpt.config.latent_dim}, {len(test_images):,} test images, K={args.k}")
    for key, label, unit in METRIC_ROWS:
        if key not in metrics:  # an autoencoder has no ELBO, KL or likelihood
            continue
        value = metrics[key] * (100 if unit == "%" else 1)
        print(f"  {label:<34} {value:9.2f} {unit}")
    return 0


def _label_index(label: str, classes: tuple[str, ...]) -> int:
    if label in classes:
        return classes.index(label)
    if label.isdigit() and int(label) < len(classes):
        return int(label)
    raise VAEError(f"unknown class {label!r}; choose one of: {', '.join(classes)}")


def cmd_sample(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    if args.label is not None:
        images = generate_class(ckpt, _label_index(args.label, ckpt.classes), args.n, args.seed, args.temperature)
    elif ckpt.config.num_classes:
        raise VAEError(f"{args.checkpoint} is a conditional model: name the class to draw with --label")
    else:
        images = decode(ckpt.model, sample_prior(args.n, ckpt.config.latent_dim, args.temperature, args.seed))
    cols = max(1, round(args.n ** 0.5))
    _write(args.out, png_bytes(tile(images, cols, pad=2), args.scale))
    print(f"wrote {args.out} ({args.n} samples)")
    return 0


def cmd_grid(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    _write(args.out, png_bytes(decode_grid(ckpt.model, args.n, args.method, args.extent), args.scale))
    print(f"wrote {args.out} ({args.n}x{args.n} grid)")
    return 0


def cmd_scatter(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    if ckpt.latents is None:
        raise VAEError(f"{args.checkpoint} carries no latents to draw")
    if ckpt.config.latent_dim < 2:
        raise VAEError(f"{args.checkpoint} has a 1-D latent space; scatter draws 2-D codes")
    z = ckpt.latents.z_mean
    image = scatter_image(z, ckpt.latents.labels, latent_extent(z), args.size)
    _write(args.out, png_bytes(image))
    print(f"wrote {args.out} ({len(z):,} points)")
    return 0


MAX_IMAGE_BYTES = MAX_UPLOAD_MB * 2**20  # what the app takes


def _read_image_file(path: str) -> bytes:
    return read_file(path, MAX_IMAGE_BYTES, "an image",
                     f"is too large for an image of a digit ({MAX_IMAGE_BYTES // 2**20} MB at most)", VAEError)


def _test_split_on_disk(dataset: str, data_dir: str | None) -> data_mod.Dataset | None:
    """The test split when its files are at hand (never downloads here), else None."""
    try:
        return data_mod.load_dataset(dataset, "test", root=data_dir, download=False)
    except VAEError:
        return None


def cmd_encode(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    data = _read_image_file(args.image)
    latents = checkpoint_latents(ckpt, lambda: _test_split_on_disk(ckpt.dataset, args.data_dir))
    z_mean, labels = (None, None) if latents is None else (latents.z_mean, latents.labels)
    reference = None if latents is None else score_arrays(latents)
    try:
        result = encode_image(ckpt.model, data, z_mean, reference)
    except ImageError as e:
        raise VAEError(f"{args.image}: {e}") from None
    if args.out:
        _write(args.out, png_bytes(result.reconstruction, args.scale))
    near = [] if result.nearest is None else [
        {"index": int(i), "class": ckpt.classes[int(labels[i])], "z_mean": [round(float(v), 4) for v in z_mean[i]]}
        for i in result.nearest]
    note = None if result.percentiles else (
        f"the checkpoint carries no per-image test scores and the {ckpt.dataset} test set is not on disk "
        f"(python -m vae_core download --dataset {ckpt.dataset}, or --data-dir)")
    if args.json:
        print(json.dumps({"checkpoint": args.checkpoint, "image": args.image,
                          "z_mean": result.mu.tolist(), "sigma": result.sigma.tolist(), **result.scores,
                          "percentiles": result.percentiles,
                          "verdict": verdict(result.percentiles["neg_elbo"]) if result.percentiles else None,
                          "nearest": near, "typicality_unknown": note, "reconstruction": args.out}, indent=2))
        return 0
    mu, sigma = result.mu, result.sigma
    print(f"{args.image}: z_mean = ({', '.join(f'{v:.3f}' for v in mu)})  "
          f"σ = ({', '.join(f'{v:.3f}' for v in sigma)})")
    for key, label in SCORE_KINDS.items():
        pct = f"  percentile {result.percentiles[key]:5.1f} of the test set" if result.percentiles else ""
        print(f"  {label:<22} {result.scores[key]:8.2f} nats{pct}")
    print(f"  typicality: {verdict(result.percentiles['neg_elbo']) if result.percentiles else 'unknown: ' + note}")
    if near:
        print("  nearest test images: " + ", ".join(f"#{n['index']} ({n['class']})" for n in near))
    if args.out:
        print(f"wrote {args.out} (the reconstruction)")
    return 0


def cmd_classifier(args) -> int:
    _check_writable(args.out)
    if args.threads:
        torch.set_num_threads(args.threads)
    train_set, test_set = _load_splits(args, args.dataset, args.limit)
    with tqdm(total=args.epochs, unit="epoch", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:
        def progress(epoch: int, step: int, steps_per_epoch: int) -> None:
            if step == steps_per_epoch - 1:
                bar.update(1)
        model = train_classifier(train_set.images, train_set.labels, len(train_set.classes), epochs=args.epochs,
                                 seed=args.seed, progress=progress)
    test_accuracy = accuracy(model, test_set.images, test_set.labels)
    save_classifier(model, args.out, args.dataset, list(train_set.classes), test_accuracy)
    print(f"saved {args.out}  (test accuracy {100 * test_accuracy:.2f}% on {len(test_set):,} images)")
    return 0


def cmd_download(args) -> int:
    with DownloadProgress() as progress:
        data_mod.download(args.dataset, root=args.data_dir, progress=progress)
    print(f"{args.dataset}: all files present and verified")
    return 0


def _write(path: str, content: bytes) -> None:
    try:
        Path(path).write_bytes(content)
    except OSError as e:
        raise VAEError(f"cannot write {path}: {e.strerror or e}") from None


def _room_title(path: str, dataset: str) -> str:
    """"MNIST (pretrained)" for a shipped checkpoint, else the dataset and the file's name."""
    name = DATASET_TITLES.get(dataset, dataset)
    if Path(path).resolve().parent == SHIPPED_DIR:
        return f"{name} (pretrained)"
    stem = "".join(c for c in Path(path).stem if c.isprintable()).strip()[:60]
    return f"{name} ({stem})" if stem else name


def _size(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB"


def _against(n: int, budget: int) -> str:
    """A size against its budget: "0.95 MB (budget 1.00 MB)", or "1.20 MB (OVER the budget of 1.00 MB)"."""
    verdict = "budget" if n <= budget else "OVER the budget of"
    return f"{_size(n)} ({verdict} {_size(budget)})"


def cmd_export_room(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    conditional_path = None if args.no_conditional else args.conditional or shipped_conditional(ckpt.dataset)
    conditional = load_checkpoint(conditional_path) if conditional_path else None
    files = build_room(ckpt, conditional, title=args.title if args.title is not None
                       else _room_title(args.checkpoint, ckpt.dataset))
    out = write_room(files, args.out_dir)
    room = files.manifest
    first, total = site_bytes(out)
    print(f"wrote {args.out_dir}: the room page of {room.title} (id {room.id})")
    for kind, name in (("decoder", room.decoder), ("points", room.points), ("conditional", room.conditional)):
        if name:
            print(f"  {kind:<12} {name:<42} {_size(room.sizes[name]):>9}")
    if not room.conditional:
        print("  (no conditional model: the page has no class buttons)")
    print(f"first visit, to tap and see a digit: {_against(first, FIRST_VISIT_BUDGET)}; "
          f"everything: {_against(total, TOTAL_BUDGET)}")
    return 0


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "sample": cmd_sample, "grid": cmd_grid,
            "scatter": cmd_scatter, "encode": cmd_encode, "classifier": cmd_classifier, "download": cmd_download,
            "export-room": cmd_export_room}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except VAEError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("error: out of memory; try a smaller --batch-size or model", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
