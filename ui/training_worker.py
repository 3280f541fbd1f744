"""One training as a worker runs it, away from the web process: load the data, train through
``vae_core.pipeline.train_checkpoint``, and report every change of its progress as a small
message, whatever carries the messages (a pipe to a local process, a Dask queue).

A message is a dict of ``ui.jobs.JobState`` fields to change; the last one carries the finished
model as checkpoint bytes under ``checkpoint``. Nothing here knows Streamlit or the transport.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Callable

from vae_core.config import VAEConfig
from vae_core.errors import DivergedError
from vae_core.training import TrainConfig, TrainEvent

Report = Callable[[dict], None]
# Step events are many (a few hundred a second on a small model): the page shows one a second.
STEP_REPORT_SECONDS = 0.5


@dataclass(frozen=True)
class TrainingRequest:
    """Everything a worker needs to train one model; plain data, so it travels to any worker."""

    dataset: str
    model_config: VAEConfig
    train_config: TrainConfig
    limit: int | None = None  # the first N training images (and N // 6 test images)
    iwae_k: int = 100  # importance samples of the final evaluation
    root: str | None = None  # the data folder; None: the worker's own search order


class Aborted(Exception):
    """The training was called off (its visitor left): stop at once, without a model."""


def run_training(request: TrainingRequest, report: Report, stop_requested: Callable[[], str | None]) -> None:
    """Train as ``request`` says, reporting through ``report``; ``stop_requested()`` returns
    None to go on, "stop" to stop after this step and keep the model so far, or "abort" to
    end without a model (then ``Aborted`` is raised). Every failure ends as one sentence."""
    try:
        _train(request, report, stop_requested)
    except DivergedError as e:  # before any epoch ended: no model, and the CLI's sentence
        report({"status": "diverged", "message": str(e)})
    except Aborted:
        report({"status": "failed", "message": "the training was called off."})
    except Exception as e:  # noqa: BLE001  (every failure becomes one sentence for the visitor)
        report({"status": "failed", "message": failure_sentence(e)})


def failure_sentence(error: BaseException) -> str:
    """A visitor's sentence for an exception in a training: a VAEError's own sentence, else a
    plain one (the traceback goes to the server's log, never to the page)."""
    from vae_core.errors import VAEError

    if isinstance(error, VAEError):
        return str(error)
    if isinstance(error, MemoryError):
        return "out of memory; try a smaller model or batch size."
    traceback.print_exception(error)
    return f"an unexpected error ({type(error).__name__}) ended it; the server keeps running, so try again."


def download_reporter(dataset: str, report: Report) -> Callable[[str, int, int | None], None]:
    """The data module's ``progress(name, done, total)`` calls of a download of ``dataset`` (both
    splits) as progress messages: the share of its files downloaded, and which one and how much."""
    from vae_core.data import get_spec

    files = 2 * len(get_spec(dataset).files)
    done_files: dict[str, float] = {}

    def on_download(name: str, done: int, total: int | None) -> None:
        done_files[name] = done / total if total else 0.0
        report({"status": "downloading", "fraction": sum(done_files.values()) / files,
                "message": f"downloading {name}: {done / 1e6:.1f}" + (f" of {total / 1e6:.1f} MB" if total else " MB")})
    return on_download


def _train(request: TrainingRequest, report: Report, stop_requested: Callable[[], str | None]) -> None:
    from vae_core.checkpoint import checkpoint_bytes
    from vae_core.latents import compute_latents
    from vae_core.pipeline import load_splits, train_checkpoint

    report({"status": "loading", "message": f"loading {request.dataset}", "fraction": 0.0})
    train_set, test_set = load_splits(request.dataset, root=request.root, limit=request.limit,
                                      progress=download_reporter(request.dataset, report))
    report({"status": "training", "message": "training", "fraction": 0.0})
    model_box: list = []
    history: list[dict] = []
    last_sent = [0.0]

    def on_event(ev: TrainEvent) -> bool:
        asked = stop_requested()
        if asked == "abort":
            raise Aborted
        now = time.monotonic()
        changes: dict = {"last_event": ev, "fraction": ev.step / ev.total_steps}
        if ev.kind == "epoch":
            # the live scatter: the test set encoded with this epoch's weights (~50 ms)
            latents = compute_latents(model_box[0], test_set, scores=False)
            history.append(ev.record)
            changes.update(history=list(history), latents=(latents.z_mean, latents.labels))
        if ev.kind != "step" or now - last_sent[0] >= STEP_REPORT_SECONDS:
            last_sent[0] = now
            report(changes)
        return asked == "stop"

    def on_stage(stage: str, fraction: float) -> None:
        if stop_requested() == "abort":
            raise Aborted
        report({"status": "evaluating", "message": f"evaluating on the test set: {stage}", "fraction": fraction})

    ckpt, result = train_checkpoint(train_set, test_set, request.model_config, request.train_config, on_event,
                                    request.iwae_k, on_model=model_box.append, progress=on_stage)
    report({"status": result.status, "message": result.message, "history": result.history, "fraction": 1.0,
            "checkpoint": checkpoint_bytes(ckpt)})
