"""Where trainings run: the one seam between the queue and the machines that train.

An executor starts a training (``ui.training_worker.run_training`` or another function of the
same shape) and hands back a ``TrainingRun``, which the queue polls for progress messages and
can stop or kill. Two executors:

- ``LocalProcessExecutor``, the embedded default: one worker process per training on this
  machine, started with "spawn" (the web process has threads, so fork is unsafe), in its own
  process group, with its torch threads limited.
- ``DaskExecutor``: the same trainings on a Dask distributed cluster (``VAE_TRAIN_CLUSTER``),
  their messages through a Dask queue and the finished model as the task's result.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import types
import uuid
from abc import ABC, abstractmethod
from typing import Callable

from ui.training_worker import TrainingRequest, run_training

Target = Callable  # run_training's shape: (request, report, stop_requested) -> None
FINAL = ("done", "stopped", "diverged", "failed")
# What a training's stop flag holds: go on, stop after this step (keeping the model), end now.
GO, STOP, ABORT = 0, 1, 2
FLAGS = {GO: None, STOP: "stop", ABORT: "abort"}


class TrainingRun(ABC):
    """One training started by an executor."""

    @abstractmethod
    def messages(self) -> list[dict]:
        """The progress messages that arrived since the last call (never blocks)."""

    @abstractmethod
    def ended(self) -> str | None:
        """None while the training may still send messages; once it cannot, why it ended
        without its final message, as a sentence for the visitor ("" when it did send it)."""

    @abstractmethod
    def stop(self) -> None:
        """Ask it to stop after the current step and keep its model."""

    @abstractmethod
    def kill(self) -> None:
        """End it now, without a model, and free what it holds."""


class Executor(ABC):
    """Starts trainings somewhere."""

    workers: int  # how many trainings it runs at once, at most

    @abstractmethod
    def start(self, request: TrainingRequest) -> TrainingRun:
        """Start a training now."""

    def close(self) -> None:
        """Let go of what the executor holds (its cluster connection)."""


# ---------------------------------------------------------------- local worker processes

def default_workers(cpus: int | None = None) -> int:
    """Trainings at once on this machine: one per core beyond the first (that one is the web
    pages'), at least one."""
    return max(1, (cpus or os.cpu_count() or 1) - 1)


def _watch_parent(parent: int) -> None:
    """End this worker when the process that started it is gone (killed without a chance to
    end its workers): a worker never outlives its server."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _worker_main(target: Target, request: TrainingRequest, conn, flag, threads: int, parent: int) -> None:
    """A worker process: its own process group (so a kill takes anything it started along),
    ``threads`` torch threads, then the training, its messages sent through ``conn``."""
    os.setpgrp()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    import torch

    torch.set_num_threads(threads)
    if request.train_config.threads is None:
        request = dataclasses.replace(request, train_config=dataclasses.replace(request.train_config, threads=threads))
    try:
        target(request, conn.send, lambda: FLAGS.get(flag.value))
    finally:
        conn.close()


def exit_sentence(exitcode: int) -> str:
    """Why a worker process ended before its training did, for the visitor."""
    if exitcode == -signal.SIGKILL:
        return ("its worker process was killed (as the system does when memory runs out); "
                "try a smaller model or batch size, or try again.")
    if exitcode < 0:
        return f"its worker process was ended by signal {signal.Signals(-exitcode).name}; try again."
    return f"its worker process ended unexpectedly (exit code {exitcode}); try again."


class LocalRun(TrainingRun):
    """A training in a local worker process: its messages come through a pipe, its stop flag is
    shared memory, and a kill takes its whole process group."""

    def __init__(self, process, conn, flag) -> None:
        self.process, self.conn, self.flag = process, conn, flag
        self._closed = False

    def messages(self) -> list[dict]:
        out: list[dict] = []
        while not self._closed:
            try:
                if not self.conn.poll():
                    break
                out.append(self.conn.recv())
            except (EOFError, OSError):  # the worker closed its end, or died
                self._close_pipe()
        return out

    def ended(self) -> str | None:
        if self.process.exitcode is None or self.messages_pending():
            return None
        self.process.join()
        self._close_pipe()
        return "" if self.process.exitcode == 0 else exit_sentence(self.process.exitcode)

    def messages_pending(self) -> bool:
        try:
            return not self._closed and self.conn.poll()
        except (EOFError, OSError):
            return False

    def stop(self) -> None:
        self.flag.value = STOP

    def kill(self) -> None:
        self.flag.value = ABORT
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):  # gone, or not yet in its own group
            self.process.kill()
        self.process.join(10)
        self._close_pipe()

    def _close_pipe(self) -> None:
        if not self._closed:
            self._closed = True
            self.conn.close()

    @property
    def pid(self) -> int:
        return self.process.pid


class LocalProcessExecutor(Executor):
    """One worker process per training, at most ``workers`` at once (the queue keeps count),
    each with ``threads`` torch threads."""

    def __init__(self, workers: int | None = None, threads: int | None = None, target: Target = run_training,
                 start_method: str = "spawn") -> None:
        from ui.jobs import training_threads

        self.workers = workers or default_workers()
        self.threads = threads or training_threads(None, workers=self.workers)
        self.target = target
        self.context = multiprocessing.get_context(start_method)

    def start(self, request: TrainingRequest) -> LocalRun:
        receiver, sender = self.context.Pipe(duplex=False)
        flag = self.context.Value("i", GO, lock=False)
        process = self.context.Process(target=_worker_main, name="vae-explorer-training", daemon=True,
                                       args=(self.target, request, sender, flag, self.threads, os.getpid()))
        with _plain_main():
            process.start()
        sender.close()  # the worker holds the only writing end: its death closes the pipe
        return LocalRun(process, receiver, flag)


_main_lock = threading.Lock()


@contextlib.contextmanager
def _plain_main():
    """A bare ``__main__`` while a worker is spawned. Streamlit installs each page script as
    ``sys.modules["__main__"]`` and leaves it there, and a spawned child first runs its parent's
    ``__main__`` file: every worker would run the app. (Streamlit may install the next page's
    module meanwhile; putting back the one before changes nothing the app relies on.)"""
    with _main_lock:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


# ---------------------------------------------------------------- a Dask distributed cluster

STOP_CHECK_SECONDS = 0.5  # a worker asks the scheduler for its stop flag at most this often


def _dask_task(target: Target, request: TrainingRequest, name: str) -> bytes:
    """Runs on a cluster worker: progress into the Dask queue ``name``, the stop flag read from
    the Dask variable ``name``; returns the final message (with the model) pickled."""
    from distributed import Queue, Variable

    queue, flag = Queue(name), Variable(name)
    final: dict = {}
    checked = {"at": 0.0, "value": None}

    def report(changes: dict) -> None:
        if changes.get("status") in FINAL:
            final.update(changes)  # returned as the task's result, with the model
        else:
            queue.put(pickle.dumps(changes))

    def stop_requested() -> str | None:
        now = time.monotonic()
        if now - checked["at"] >= STOP_CHECK_SECONDS:
            checked["at"], checked["value"] = now, FLAGS.get(flag.get(timeout=10))
        return checked["value"]

    target(request, report, stop_requested)
    return pickle.dumps(final)


class DaskRun(TrainingRun):
    """A training as a Dask task: its messages through a Dask queue, its stop flag a Dask
    variable, both named after the task."""

    def __init__(self, client, target: Target, request: TrainingRequest) -> None:
        from distributed import Queue, Variable

        self.client = client
        self.name = f"vae-explorer-training-{uuid.uuid4().hex}"
        self.queue, self.flag = Queue(self.name, client=client), Variable(self.name, client=client)
        self.flag.set(GO)
        self.future = client.submit(_dask_task, target, request, self.name, key=self.name, pure=False)
        self._result_taken = False
        self._reason: str | None = None

    def messages(self) -> list[dict]:
        out = [pickle.loads(item) for item in self.queue.get(batch=True)]
        if not self._result_taken and self.future.done():
            self._result_taken = True
            if self.future.status == "finished":
                final = pickle.loads(self.future.result())
                out.append(final)
                self._reason = "" if final else "it ended without a result; try again."
            else:
                self._reason = "the cluster could not run it (its worker failed or was lost); try again."
            self._release()
            self.flag.delete()  # the task has ended: nobody reads its flag any more
        return out

    def ended(self) -> str | None:
        return self._reason if self._result_taken else None

    def stop(self) -> None:
        self.flag.set(STOP)

    def kill(self) -> None:
        # A running task cannot be interrupted from outside: it reads the flag within
        # STOP_CHECK_SECONDS and ends without a model.
        self.flag.set(ABORT)
        self.future.cancel()
        self._result_taken, self._reason = True, ""
        self._release()

    def _release(self) -> None:
        self.queue.close()


class DaskExecutor(Executor):
    """Trainings on a Dask distributed cluster; ``workers`` at once (default: as many as the
    cluster has worker threads when it connects). The cluster's workers need the project
    (this checkout and requirements.txt) and the datasets (their own VAE_DATA_DIR)."""

    def __init__(self, address, workers: int | None = None, target: Target = run_training) -> None:
        from distributed import Client

        self.client = address if hasattr(address, "submit") else Client(address, set_as_default=False)
        self.target = target
        self.workers = workers or max(1, sum(self.client.nthreads().values()))

    def start(self, request: TrainingRequest) -> DaskRun:
        return DaskRun(self.client, self.target, request)

    def close(self) -> None:
        self.client.close()
