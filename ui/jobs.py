"""Long work in a background thread: training (with the data download it may need) and
dataset downloads, with a thread-safe progress snapshot and a stop request.

The app polls ``snapshot()`` from its pages (it knows nothing of Streamlit). The job
keeps the latest epoch's test-set latents so a live scatter can follow training.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import threading
import time
import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from vae_core.checkpoint import Checkpoint
from vae_core.data import DatasetSpec, archive_names, download, get_spec
from vae_core.errors import DataError, VAEError
from vae_core.inference import encode
from vae_core.model import VAEConfig, build_model
from vae_core.pipeline import load_splits, package
from vae_core.train import TrainConfig, TrainEvent, train


# What a job is doing: the first five while it runs, then how it ended ("stopped" and
# "diverged" training jobs may still hold a model: see JobState.result).
JobStatus = Literal["waiting", "downloading", "loading", "training", "evaluating",
                    "done", "stopped", "diverged", "failed"]


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

    @property
    def running(self) -> bool:
        return self.finished is None


class Job(ABC):
    """Runs ``work(job)`` in a daemon thread; ``work`` reports through ``update``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = JobState()
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

    def snapshot(self) -> JobState:
        with self._lock:
            return copy.copy(self._state)

    def update(self, **changes) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(self._state, k, v)

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


def _download_reporter(job: Job, total_files: int):
    done_files: dict[str, float] = {}

    def report(name: str, done: int, total: int | None) -> None:
        done_files[name] = done / total if total else 0.0
        job.update(status="downloading", fraction=sum(done_files.values()) / total_files,
                   message=f"downloading {name}: {done / 1e6:.1f}" + (f" of {total / 1e6:.1f} MB" if total else " MB"))
    return report


class DownloadJob(Job):
    """Download and verify a dataset."""

    def __init__(self, dataset: str, root=None) -> None:
        super().__init__()
        self.dataset, self.root = dataset, root

    def work(self) -> None:
        spec = get_spec(self.dataset)
        try:
            download(spec, root=self.root, progress=_download_reporter(self, 2 * len(spec.files)))
        except DataError as e:  # its own message names mirrors' URLs and server folders: not for a visitor
            raise DataError(download_failed(spec)) from e
        self.update(status="done", fraction=1.0, message=f"{spec.name} is ready")


def download_failed(spec: DatasetSpec) -> str:
    """The visitor's sentence when a download fails (offline, or no mirror served a valid file)."""
    return (f"{spec.name} could not be downloaded: none of its mirrors could be reached or gave a valid file "
            f"(is this server offline?). Place its four files, {archive_names(spec)}, in the server's data folder (the one "
            "VAE_DATA_DIR names, or its data cache) and reload this page.")


def training_threads(requested: int | None, cpus: int | None = None) -> int:
    """CPU threads for a training job that shares its process with an app: the number asked
    for, else every core but one, so other visitors' clicks never wait behind a training step
    (torch's default takes all cores: its threads then fight the app's for them)."""
    if requested:
        return requested
    return max(1, (cpus or os.cpu_count() or 1) - 1)


class TrainingJob(Job):
    """Load (downloading if needed), train, evaluate and package a model."""

    def __init__(self, dataset: str, model_config: VAEConfig, train_config: TrainConfig, root=None,
                 limit: int | None = None, iwae_k: int = 100, name: str = "") -> None:
        super().__init__()
        self.dataset, self.model_config, self.train_config = dataset, model_config, train_config
        self.root, self.limit, self.iwae_k, self.name = root, limit, iwae_k, name

    def work(self) -> None:
        self.update(status="loading", message=f"loading {self.dataset}")
        spec = get_spec(self.dataset)
        train_set, test_set = load_splits(self.dataset, root=self.root, limit=self.limit,
                                          progress=_download_reporter(self, 2 * len(spec.files)))
        config = dataclasses.replace(self.train_config, threads=training_threads(self.train_config.threads))
        model = build_model(self.model_config, seed=config.seed)
        self.update(status="training", message="training")

        def on_event(ev: TrainEvent) -> bool:
            changes: dict = {"last_event": ev, "fraction": ev.step / ev.total_steps}
            if ev.kind == "epoch":
                # the live scatter: encode the test set with this epoch's weights (~50 ms)
                z, _ = encode(model, test_set.images)
                changes.update(history=list(self.snapshot().history) + [ev.record],
                               latents=(z, test_set.labels))
            self.update(**changes)
            return self.stop_requested

        result = train(model, train_set.images, test_set.images, config, on_event)
        if result.status == "diverged" and not result.history:
            self.update(status="diverged", message=result.message + " No epoch completed, so there is no model.")
            return
        def on_stage(stage: str, fraction: float) -> None:
            self.update(status="evaluating", message=f"evaluating on the test set: {stage}", fraction=fraction)

        on_stage("starting", 0.0)
        ckpt = package(model, train_set, test_set, result, config, self.iwae_k, config.seed, on_stage)
        self.update(status=result.status, message=result.message, result=ckpt, history=result.history, fraction=1.0)

