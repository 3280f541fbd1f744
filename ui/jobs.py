"""A visitor's long work and its progress, as the pages poll it (``snapshot()``): a dataset
download, in a background thread of the web process (it waits on the network), and a training,
which waits its turn in the server's queue and runs in a worker process (ui.training_queue).

Both keep a thread-safe progress snapshot; a training keeps the latest epoch's test-set
latents so a live scatter can follow it. Nothing here knows Streamlit.
"""

from __future__ import annotations

import copy
import os
import threading
import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from vae_core.checkpoint import Checkpoint
from vae_core.config import VAEConfig
from vae_core.data import DatasetSpec, archive_names, download, get_spec
from vae_core.errors import DataError, VAEError
from vae_core.training import TrainConfig, TrainEvent

from ui.training_worker import TrainingRequest, download_reporter

if TYPE_CHECKING:
    from ui.training_queue import TrainingQueue


# What a job is doing: the first six while it runs ("queued": a training waiting for a worker),
# then how it ended ("stopped" and "diverged" training jobs may still hold a model: see
# JobState.result; "left": the visitor left the queue before it started).
JobStatus = Literal["waiting", "queued", "downloading", "loading", "training", "evaluating",
                    "done", "stopped", "diverged", "failed", "left"]
FINAL_STATUSES = ("done", "stopped", "diverged", "failed", "left")


@dataclass
class JobState:
    """What a job is doing; copied out by ``snapshot()``."""

    status: JobStatus = "waiting"
    message: str = ""
    fraction: float = 0.0  # 0..1 of the current phase
    last_event: TrainEvent | None = None
    history: list[dict] = field(default_factory=list)
    latents: tuple[np.ndarray, np.ndarray] | None = None  # (test z_mean, labels) after the latest epoch
    result: Checkpoint | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    place: int = 0  # a queued training: 1 when it is next in line
    wait: float | None = None  # a queued training: seconds until it starts, as the queue estimates them
    version: int = 0  # counts the changes: an unchanged version means nothing new to draw

    @property
    def running(self) -> bool:
        return self.finished is None


class Progress:
    """A job's progress, thread-safe: ``update`` changes it, ``snapshot`` copies it out."""

    def __init__(self, state: JobState) -> None:
        self._lock = threading.Lock()
        self._state = state

    def snapshot(self) -> JobState:
        with self._lock:
            return copy.copy(self._state)

    def update(self, **changes) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._state, k, v)
            self._state.version += 1


class Job(Progress, ABC):
    """Runs ``work(job)`` in a daemon thread; ``work`` reports through ``update``."""

    def __init__(self) -> None:
        super().__init__(JobState())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "Job":
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the job to stop at the next step; a training job keeps its model so far."""
        self._stop.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self.work()
        except VAEError as e:
            self.update(status="failed", message=str(e))
        except MemoryError:
            self.update(status="failed", message="out of memory; try a smaller model or batch size")
        except Exception as e:  # a bug: keep the server alive and say so
            traceback.print_exc()
            self.update(status="failed", message=f"unexpected error: {type(e).__name__}: {e}")
        finally:
            self.update(finished=time.time())

    @abstractmethod
    def work(self) -> None:
        """The job's work, run in the thread; report with ``self.update``."""


class DownloadJob(Job):
    """Download and verify a dataset."""

    def __init__(self, dataset: str, root=None) -> None:
        super().__init__()
        self.dataset, self.root = dataset, root

    def work(self) -> None:
        spec = get_spec(self.dataset)
        progress = download_reporter(self.dataset, lambda changes: self.update(**changes))
        try:
            download(spec, root=self.root, progress=progress)
        except DataError as e:  # its own message names mirrors' URLs and server folders: not for a visitor
            raise DataError(download_failed(spec)) from e
        self.update(status="done", fraction=1.0, message=f"{spec.name} is ready")


def download_failed(spec: DatasetSpec) -> str:
    """The visitor's sentence when a download fails (offline, or no mirror served a valid file)."""
    return (f"{spec.name} could not be downloaded: none of its mirrors could be reached or gave a valid file "
            f"(is this server offline?). Place its four files, {archive_names(spec)}, in the server's data folder (the one "
            "VAE_DATA_DIR names, or its data cache) and reload this page.")


def training_threads(requested: int | None, cpus: int | None = None, workers: int = 1) -> int:
    """CPU threads for each of ``workers`` trainings that share a machine with an app: the number
    asked for, else the cores but one shared among them, at least one each, so other visitors'
    clicks never wait behind a training step (torch's default takes all cores: its threads then
    fight the app's and each other's for them)."""
    if requested:
        return requested
    return max(1, ((cpus or os.cpu_count() or 1) - 1) // max(1, workers))


class TrainingJob(Progress):
    """One visitor's training: its settings, and its progress as the server's queue reports it
    (the queue starts it in a worker when its turn comes; see ui.training_queue)."""

    def __init__(self, dataset: str, model_config: VAEConfig, train_config: TrainConfig, root=None,
                 limit: int | None = None, iwae_k: int = 100, name: str = "") -> None:
        self.dataset, self.model_config, self.train_config = dataset, model_config, train_config
        self.root, self.limit, self.iwae_k, self.name = root, limit, iwae_k, name
        super().__init__(JobState(status="queued", message="waiting for a free worker"))
        self._queue: TrainingQueue | None = None

    @property
    def request(self) -> TrainingRequest:
        """What a worker needs to run it."""
        return TrainingRequest(self.dataset, self.model_config, self.train_config, self.limit, self.iwae_k,
                               None if self.root is None else str(self.root))

    def start(self, queue: TrainingQueue, session: str = "") -> "TrainingJob":
        """Join ``queue`` for ``session`` (one training per session); raises QueueError with the
        visitor's sentence when it cannot."""
        self._queue = queue
        queue.submit(self, session)
        return self

    def stop(self) -> None:
        """A running training stops after the current step and keeps its model; a queued one
        leaves the queue."""
        if self._queue is not None:
            self._queue.stop(self)

    def leave(self) -> None:
        """Leave the queue, or end the training at once without a model."""
        if self._queue is not None:
            self._queue.leave(self)

    def snapshot(self) -> JobState:
        """The progress, and while it waits its place in line and its wait."""
        state = super().snapshot()
        if state.status == "queued" and self._queue is not None:
            state.place, state.wait = self._queue.place(self)
        return state
