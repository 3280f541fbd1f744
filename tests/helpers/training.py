"""Trainings for the queue and executor tests: a fake executor the test drives by hand, worker
targets that hang or crash (run in real worker processes), and the processes left on the machine."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

from ui.executors import Executor, TrainingRun
from ui.jobs import DownloadJob, JobState, TrainingJob
from ui.training_worker import TrainingRequest
from vae_core.config import VAEConfig
from vae_core.training import TrainConfig

from helpers.data import MNIST_DIR


def small_job(epochs: int = 2, limit: int = 1200, **train) -> TrainingJob:
    """A training of a one-layer model on the first ``limit`` MNIST images."""
    return TrainingJob("mnist", VAEConfig(hidden=(32,)), TrainConfig(epochs=epochs, batch_size=100, device="cpu", **train),
                       root=MNIST_DIR, limit=limit, iwae_k=5)


def wait_until(condition, timeout: float = 120.0, what: str = "the condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout:.0f} s")


def finished(job: TrainingJob | DownloadJob, timeout: float = 120.0) -> JobState:
    """The job's state once it has ended (a training or a download)."""
    wait_until(lambda: not job.snapshot().running, timeout, "the end of the job")
    return job.snapshot()


# ---------------------------------------------------------------- a fake executor

class FakeRun(TrainingRun):
    """A training the test moves on by hand: ``send`` a message, ``die`` with a sentence."""

    def __init__(self, request: TrainingRequest) -> None:
        self.request = request
        self.inbox: list[dict] = []
        self.reason: str | None = None
        self.stopped = self.killed = False

    def send(self, **changes) -> None:
        self.inbox.append(changes)

    def finish(self, status: str = "done", message: str = "trained.") -> None:
        self.send(status=status, message=message)
        self.reason = ""

    def die(self, sentence: str) -> None:
        self.reason = sentence

    def messages(self) -> list[dict]:
        out, self.inbox = self.inbox, []
        return out

    def ended(self) -> str | None:
        return None if self.inbox else self.reason

    def stop(self) -> None:
        self.stopped = True

    def kill(self) -> None:
        self.killed, self.reason = True, ""


class FakeExecutor(Executor):
    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self.runs: list[FakeRun] = []

    def start(self, request: TrainingRequest) -> FakeRun:
        self.runs.append(FakeRun(request))
        return self.runs[-1]


def fake_job(epochs: int = 8, limit: int | None = None) -> TrainingJob:
    return TrainingJob("mnist", VAEConfig(hidden=(32,)), TrainConfig(epochs=epochs), limit=limit)


# ---------------------------------------------------------------- worker targets (run_training's shape)

def hang(request, report, stop_requested) -> None:
    """A worker that says it is loading, then never answers again."""
    report({"status": "loading", "message": "loading"})
    time.sleep(3600)


def crash(request, report, stop_requested) -> None:
    """A worker that dies on the spot, as a segfault or os._exit in a library would."""
    report({"status": "training", "message": "training"})
    os._exit(3)


# ---------------------------------------------------------------- processes, from /proc

def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def in_group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
                out.append(int(entry.name))
    return out


def group_of(pid: int) -> int:
    return int(_stat(pid)[2])


def training_workers() -> list[int]:
    """Live worker processes started by this process (children named after the trainings)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is None or fields[0] == "Z" or int(fields[1]) != os.getpid():
                continue
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                out.append(int(entry.name))
    return out


def nan_loss_from(first_bad_step: int, real):
    """``real`` (vae_loss) made NaN from the given optimizer step on: a run that blows up late."""
    calls = itertools.count(1)

    def vae_loss(*args, **kwargs):
        terms = real(*args, **kwargs)
        if next(calls) >= first_bad_step:
            terms = terms._replace(loss=terms.loss * float("nan"), recon=terms.recon * float("nan"))
        return terms

    return vae_loss


def _poisoned_training(request, report, stop_requested, first_bad_step: int) -> None:
    from ui.training_worker import run_training
    from vae_core import training

    training.vae_loss = nan_loss_from(first_bad_step, training.vae_loss)  # in the worker process only
    run_training(request, report, stop_requested)


def nan_from_step_in_workers(first_bad_step: int):
    """A worker target: run_training with the loss NaN from optimizer step ``first_bad_step`` on
    (a run that blows up late), for a test that swaps it into the server's executor."""
    import functools

    return functools.partial(_poisoned_training, first_bad_step=first_bad_step)
