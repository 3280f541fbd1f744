"""The training loop: minibatch Adam(W) over images held in memory as one uint8 tensor.

Shuffling, batching and the uint8 -> float conversion are whole-tensor operations on
the training device, so there is no per-sample Python work and no DataLoader.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from .errors import ConfigError
from .evaluation import negative_elbo
from .config import IMAGE_SIZE, PIXELS
from .model import VAE, LossTerms, iwae_loss, to_input, vae_loss


PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class TrainConfig:
    epochs: int = 30
    # Batch 128 with a short warm-up reaches a given loss in the fewest seconds on a CPU
    # (measured: 151 nats after 2 epochs, where batch 256 with a 1-epoch warm-up needs 4).
    batch_size: int = 128
    lr: float = 2e-3  # peak learning rate, reached after the warm-up
    optimizer: str = "adam"  # "adam" or "adamw"
    weight_decay: float = 0.0
    warmup_epochs: float = 0.2  # linear warm-up of the learning rate, then cosine decay
    final_lr_ratio: float = 0.0  # the cosine ends at lr * final_lr_ratio
    beta: float = 1.0  # weight of the KL term (beta-VAE); 1 is the true ELBO
    kl_warmup_epochs: float = 0.0  # ramp beta from 0 over this many epochs
    shift: int = 0  # augmentation: translate each training image by up to this many pixels
    ema: float = 0.0  # decay of an exponential moving average of the weights (0 = off), e.g. 0.999
    # importance samples per image in the objective: 1 is the ELBO, K > 1 the tighter IWAE bound
    # (Burda et al., 2016), at K decodes per image
    iwae_samples: int = 1
    seed: int = 0
    device: str = "auto"  # "auto", "cpu", "cuda", "mps"
    threads: int | None = None  # CPU threads for torch; None leaves torch's default
    # "bf16" runs the matrix products in bfloat16 (autocast; weights, optimizer and loss stay
    # float32): 1.5x faster on CPUs with AMX or AVX512-BF16, with the same loss curve.
    # "auto" uses it where the hardware has it (see resolve_precision).
    precision: str = "auto"
    eval_batch_size: int = 2000

    def __post_init__(self) -> None:
        checks = [
            (isinstance(self.epochs, int) and self.epochs >= 1, "epochs must be a whole number >= 1"),
            (isinstance(self.batch_size, int) and self.batch_size >= 1, "batch size must be a whole number >= 1"),
            (math.isfinite(self.lr) and self.lr > 0, "learning rate must be a positive number"),
            (self.optimizer in ("adam", "adamw"), "optimizer must be 'adam' or 'adamw'"),
            (self.weight_decay >= 0, "weight decay must be >= 0"),
            (self.warmup_epochs >= 0 and self.kl_warmup_epochs >= 0, "warm-up lengths must be >= 0"),
            (0 <= self.final_lr_ratio <= 1, "final_lr_ratio must be in [0, 1]"),
            (math.isfinite(self.beta) and self.beta >= 0, "beta must be a number >= 0"),
            (self.threads is None or self.threads >= 1, "threads must be >= 1"),
            (isinstance(self.shift, int) and 0 <= self.shift <= 8, "shift must be a whole number from 0 to 8"),
            (0 <= self.ema < 1, "ema must be in [0, 1)"),
            (self.precision in PRECISIONS, f"precision must be one of: {', '.join(PRECISIONS)}"),
            (isinstance(self.iwae_samples, int) and 1 <= self.iwae_samples <= 1000,
             "importance samples in the objective must be a whole number from 1 to 1000"),
            (self.iwae_samples == 1 or (self.beta == 1 and not self.kl_warmup_epochs),
             "the importance-weighted objective is a bound on log p(x): it takes no beta and no KL warm-up"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainEvent:
    """What the callback receives after every step and every epoch.

    kind: "step", "epoch", or the final "done", "stopped" (the callback asked)
    or "diverged" (a NaN/inf loss; weights rolled back to the last good epoch).
    Losses are in nats per image; on "epoch" events they are the epoch's means.
    """

    kind: str
    epoch: int  # 1-based epoch the event belongs to
    epochs: int
    step: int  # optimizer steps completed so far
    total_steps: int
    loss: float
    recon: float
    kl: float
    lr: float
    elapsed: float  # seconds since training started
    eta: float  # estimated seconds left
    test: dict | None = None  # test-set loss terms, on "epoch" events when test data is given
    message: str = ""
    record: dict | None = None  # on "epoch" events: the epoch's row of TrainResult.history


# A model that predicts p = 0.5 for every pixel scores 784 ln 2 = 543 nats per image; a
# recon + KL beyond ~18 times that only happens when the optimisation has blown up (with
# Adam a too-high learning rate sends the loss to 1e10 and beyond before it ever turns NaN).
DIVERGED_NATS = 1e4
# One diverged batch (an outlier meeting a sharp spot of the loss) is skipped without an update;
# this many in a row mean the weights themselves have diverged, and training stops.
MAX_BAD_STEPS = 3

# Return True to stop training after the current step.
Callback = Callable[[TrainEvent], "bool | None"]


@dataclass
class TrainResult:
    model: VAE
    history: list[dict]  # one record per completed epoch
    status: str  # "done", "stopped" or "diverged"
    message: str
    steps: int
    seconds: float


def resolve_device(device: str = "auto") -> torch.device:
    """"auto" picks CUDA, then Apple's MPS, then the CPU."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise ConfigError(f"unknown device {device!r}; use auto, cpu, cuda or mps") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device 'mps' was asked for but Apple's MPS is not available")
    return dev


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" picks bf16 where it is native and fast (CPUs with AVX512-BF16 or AMX, CUDA GPUs
    that support it), else fp32; elsewhere bf16 would be emulated and slower."""
    if precision != "auto":
        return precision
    if device.type == "cpu":
        cpu = torch.cpu
        native = any(getattr(cpu, f, lambda: False)() for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
        return "bf16" if native else "fp32"
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "fp32"


def as_images(images) -> torch.Tensor:
    """Accept numpy or torch uint8 images [N, 28, 28] (or [N, 784])."""
    t = torch.from_numpy(np.ascontiguousarray(images)) if isinstance(images, np.ndarray) else images
    if t.dtype != torch.uint8 or math.prod(t.shape[1:]) != PIXELS:
        raise ConfigError(f"training images must be uint8 [N, {IMAGE_SIZE}, {IMAGE_SIZE}], "
                          f"got {t.dtype} {list(t.shape)}")
    return t.reshape(len(t), IMAGE_SIZE, IMAGE_SIZE)


def as_labels(labels, n: int, device: torch.device) -> torch.Tensor:
    """The classes a conditional model is trained with: int64 [n] on ``device``."""
    if labels is None or len(labels) != n:
        raise ConfigError("a conditional model is trained with one label per image")
    return torch.as_tensor(np.asarray(labels), dtype=torch.long).to(device)


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Translate each uint8 image [B, 28, 28] by its own random offset in [-max_shift, max_shift]
    pixels, filling with zeros: one gather for the whole batch."""
    b, h, w = images.shape
    padded = torch.nn.functional.pad(images, (max_shift,) * 4)
    offsets = torch.randint(0, 2 * max_shift + 1, (2, b, 1), generator=generator, device=generator.device)
    offsets = offsets.to(images.device)
    rows = (torch.arange(h, device=images.device) + offsets[0])[:, :, None]  # [B, h, 1]
    cols = (torch.arange(w, device=images.device) + offsets[1])[:, None, :]  # [B, 1, w]
    return padded[torch.arange(b, device=images.device)[:, None, None], rows, cols]


def make_optimizer(model: VAE, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam(W), fused into one kernel per step where the device supports it (a sixth of a
    CPU step is otherwise spent in Adam's many small per-tensor operations)."""
    optimizer_cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    kwargs = dict(lr=config.lr, weight_decay=config.weight_decay)
    try:
        return optimizer_cls(model.parameters(), fused=True, **kwargs)
    except (RuntimeError, TypeError):  # a device or dtype without a fused kernel
        return optimizer_cls(model.parameters(), **kwargs)


def lr_at(step: int, total: int, warmup: int, config: TrainConfig) -> float:
    """Linear warm-up to the peak, then cosine decay to ``lr * final_lr_ratio``."""
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    floor = config.lr * config.final_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def batches(data: torch.Tensor, labels: torch.Tensor | None, batch_size: int, shift: int,
            generator: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """One epoch of (float inputs [B, 784], their classes or None): the images in a fresh random
    order, each randomly translated by up to ``shift`` pixels when asked."""
    perm = torch.randperm(len(data), generator=generator).to(data.device)
    for i in range(0, len(data), batch_size):
        batch = data[perm[i:i + batch_size]]
        yield (to_input(random_shift(batch, shift, generator) if shift else batch),
               None if labels is None else labels[perm[i:i + batch_size]])


class EMA:
    """An exponential moving average of a model's weights. It is what gets evaluated and
    returned: an average of recent weights generalises better than the last noisy step."""

    def __init__(self, model: VAE, decay: float) -> None:
        self.model, self.decay = copy.deepcopy(model), decay

    @torch.no_grad()
    def update(self, model: VAE, step: int) -> None:
        # The warm-up keeps the average from dragging the initial weights along.
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(list(self.model.parameters()), list(model.parameters()), 1.0 - decay)


class DivergenceGuard:
    """Skips a diverged batch; after MAX_BAD_STEPS in a row, rolls the weights back to the end of
    the last good epoch (or to their initial values)."""

    def __init__(self, models: list[VAE]) -> None:
        self.models = models  # the model and its EMA copy, saved and restored together
        self.good = [copy.deepcopy(m.state_dict()) for m in models]
        self.good_epoch = self.streak = 0
        self.first_bad: tuple[float, int, int] | None = None  # (loss, epoch, step) that began the streak

    def batch_diverged(self, values: list[float], epoch: int, step: int) -> bool:
        """Whether a batch's (loss, recon, kl) is NaN, infinite or beyond DIVERGED_NATS (counted in the streak)."""
        if all(map(math.isfinite, values)) and values[1] + values[2] <= DIVERGED_NATS:
            self.streak, self.first_bad = 0, None
            return False
        self.streak += 1
        self.first_bad = self.first_bad or (values[0], epoch, step + 1)
        return True

    @property
    def weights_diverged(self) -> bool:
        """Whether MAX_BAD_STEPS batches in a row diverged: the weights themselves have."""
        return self.streak >= MAX_BAD_STEPS

    def epoch_done(self, epoch: int) -> None:
        if not self.streak:  # weights that just failed a batch are not known to be good
            self.good, self.good_epoch = [copy.deepcopy(m.state_dict()) for m in self.models], epoch

    def roll_back(self, lr: float) -> str:
        """Restore the last good weights; returns the message that says what happened."""
        for model, state in zip(self.models, self.good):
            model.load_state_dict(state)
        loss, epoch, step = self.first_bad
        restored = f"the end of epoch {self.good_epoch}" if self.good_epoch else "their initial values"
        return (f"training diverged: the loss became {loss:.4g} nats per image at epoch {epoch}, step {step}; "
                f"the weights were rolled back to {restored}. Try a lower learning rate (now {lr:g}).")


class TrainingState:
    """What lasts a whole run: the optimizer, the random generators, the schedule, the EMA,
    the divergence guard, the step count, and the events sent to the callback."""

    def __init__(self, model: VAE, config: TrainConfig, device: torch.device, n: int,
                 callback: Callback | None, n_test: int = 0) -> None:
        self.model, self.config, self.callback = model, config, callback
        self.shuffle_gen = torch.Generator().manual_seed(config.seed)
        self.noise_gen = torch.Generator(device=device).manual_seed(config.seed + 1)
        self.optimizer = make_optimizer(model, config)
        self.precision = resolve_precision(config.precision, device)
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16")
        steps_per_epoch = math.ceil(n / config.batch_size)
        self.total = config.epochs * steps_per_epoch
        self.warmup = round(config.warmup_epochs * steps_per_epoch)
        self.kl_warmup = config.kl_warmup_epochs * steps_per_epoch
        self.ema = EMA(model, config.ema) if config.ema else None
        self.guard = DivergenceGuard([model, self.ema.model] if self.ema else [model])
        self.step, self.lr, self.values = 0, 0.0, []  # lr and (loss, recon, kl) of the latest batch
        self.start = time.perf_counter()
        # for the ETA: the epochs' test evaluations, timed apart from the training steps
        self.n, self.n_test, self.eval_seconds = n, n_test, []

    def evaluated(self, seconds: float) -> None:
        """An epoch's test evaluation took ``seconds``."""
        self.eval_seconds.append(seconds)

    def eta(self) -> float:
        """Seconds left: the steps left at the pace of the steps so far, and the test evaluations
        left (each after an epoch) at the pace of those so far. Before the first one an evaluation
        is taken to cost a third of a training step per image (a forward pass without backward)."""
        if not self.step:
            return 0.0
        train_seconds = time.perf_counter() - self.start - sum(self.eval_seconds)
        per_step = train_seconds / self.step
        per_eval = (sum(self.eval_seconds) / len(self.eval_seconds) if self.eval_seconds
                    else per_step * self.n_test / self.config.batch_size / 3)
        evals_left = (self.config.epochs - len(self.eval_seconds)) if self.n_test else 0
        return per_step * (self.total - self.step) + per_eval * evals_left

    def schedule(self) -> float:
        """Set this step's learning rate on the optimizer; returns its KL weight beta."""
        self.lr = lr_at(self.step, self.total, self.warmup, self.config)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr
        ramp = min(1.0, (self.step + 1) / self.kl_warmup) if self.kl_warmup else 1.0
        return self.config.beta * ramp

    def send(self, kind: str, epoch: int, terms: list[float], test: dict | None = None, message: str = "",
             record: dict | None = None) -> bool:
        """Send an event to the callback; True when it asks to stop."""
        elapsed = time.perf_counter() - self.start
        eta = self.eta() if kind in ("step", "epoch") else 0.0
        event = TrainEvent(kind, epoch, self.config.epochs, self.step, self.total, *terms, self.lr, elapsed, eta,
                           test, message, record)
        return bool(self.callback(event)) if self.callback else False


def batch_loss(run: TrainingState, x: torch.Tensor, y: torch.Tensor | None, beta: float) -> LossTerms:
    """A batch's objective: the negative ELBO, or the IWAE bound with K > 1 samples; the matrix
    products in the run's precision, the loss terms in float32."""
    k = run.config.iwae_samples
    with run.autocast:
        if k > 1:
            return iwae_loss(run.model, x, k, run.noise_gen, y)
        logits, mu, logvar = run.model(x, run.noise_gen, y)
    return vae_loss(logits.float(), x, mu.float(), logvar.float(), beta)


def train_epoch(run: TrainingState, data: torch.Tensor, labels: torch.Tensor | None, epoch: int) -> dict | None:
    """One pass over ``data``; returns the epoch's record, or None when the callback asked to
    stop or the weights diverged (``run.guard.weights_diverged``)."""
    model, config = run.model, run.config
    model.train()
    start = time.perf_counter()
    sums, seen, skipped = torch.zeros(3, dtype=torch.float64), 0, 0
    for x, y in batches(data, labels, config.batch_size, config.shift, run.shuffle_gen):
        beta = run.schedule()
        terms = batch_loss(run, x, y, beta)
        run.values = torch.stack([t.detach() for t in terms]).cpu().tolist()  # one device sync per step
        if run.guard.batch_diverged(run.values, epoch, run.step):
            skipped += 1
            if run.guard.weights_diverged:
                return None
            continue
        run.optimizer.zero_grad(set_to_none=True)
        terms.loss.backward()
        run.optimizer.step()
        if run.ema:
            run.ema.update(model, run.step)
        run.step += 1
        sums += torch.tensor(run.values, dtype=torch.float64) * len(x)
        seen += len(x)
        if run.send("step", epoch, run.values):
            return None
    record = {"epoch": epoch, "lr": run.lr, "beta": beta, "seconds": time.perf_counter() - start,
              "precision": run.precision, "skipped_batches": skipped}
    record.update(zip(("train_loss", "train_recon", "train_kl"), (sums / max(1, seen)).tolist()))
    return record


def train(model: VAE, train_images, test_images=None, config: TrainConfig | None = None,
          callback: Callback | None = None, train_labels=None, test_labels=None) -> TrainResult:
    """Train ``model`` in place on uint8 images; returns its per-epoch history. A conditional
    model also needs the labels of its images.

    With the same seed, config and thread count the result is identical on the CPU.
    """
    config = config or TrainConfig()
    device = resolve_device(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    data = as_images(train_images).to(device)
    test = as_images(test_images).to(device) if test_images is not None else None
    if len(data) == 0:
        raise ConfigError("no training images")
    if config.iwae_samples > 1 and not model.config.variational:
        raise ConfigError("an autoencoder has no posterior to draw importance samples from: train it with 1 sample")
    labels = test_y = None  # the classes matter to a conditional model only
    if model.config.num_classes:
        labels = as_labels(train_labels, len(data), device)
        test_y = as_labels(test_labels, len(test), device) if test is not None else None
    model.to(device)
    run = TrainingState(model, config, device, len(data), callback, len(test) if test is not None else 0)
    history: list[dict] = []
    status, message = "done", ""
    for epoch in range(1, config.epochs + 1):
        record = train_epoch(run, data, labels, epoch)
        if run.guard.weights_diverged:
            del history[run.guard.good_epoch:]
            status, message = "diverged", run.guard.roll_back(config.lr)
            break
        if record is None:
            status = "stopped"
            kept = "the moving average of its weights up to that step" if run.ema else "the weights of that step"
            message = f"stopped at epoch {epoch}, step {run.step}; the model keeps {kept}."
            break
        test_terms = None
        if test is not None:
            start = time.perf_counter()
            test_terms = negative_elbo(run.ema.model if run.ema else model, test, batch_size=config.eval_batch_size,
                                       seed=config.seed, labels=test_y)
            run.evaluated(time.perf_counter() - start)
            record.update({f"test_{k}": v for k, v in test_terms.items()})
        history.append(record)
        run.guard.epoch_done(epoch)
        if run.send("epoch", epoch, [record["train_loss"], record["train_recon"], record["train_kl"]], test_terms,
                    record=dict(record)):
            status, message = "stopped", f"stopped after epoch {epoch}."
            break
    if run.ema:
        model.load_state_dict(run.ema.model.state_dict())
    model.eval()
    seconds = time.perf_counter() - run.start
    if status == "done":
        message = f"trained {config.epochs} epochs ({run.step} steps) in {seconds:.1f} s."
    run.send(status, epoch, run.values, message=message)
    return TrainResult(model, history, status, message, run.step, seconds)
