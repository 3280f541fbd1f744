"""The server's training queue, made once per process from its environment, and how it
tells which Streamlit sessions are still open.

- ``VAE_TRAIN_WORKERS``: trainings at once (default: one per core beyond the first, at least one);
- ``VAE_TRAIN_CLUSTER=tcp://host:8786``: run them on that Dask distributed cluster instead of
  local worker processes;
- ``VAE_TRAIN_QUEUE``: trainings running or waiting, at most (default 32);
- ``VAE_TRAIN_SESSION_GRACE``: seconds a session may be gone (its browser closed, its phone
  asleep) before its training leaves the queue or is killed (default 30).
"""

from __future__ import annotations

import os
import threading

from ui.executors import DaskExecutor, Executor, LocalProcessExecutor
from ui.training_queue import DEFAULT_CAPACITY, QueueError, TrainingQueue

# A session whose browser is gone for this long leaves the queue (a phone that slept for a few
# seconds reconnects to the same session well within it).
SESSION_GRACE_SECONDS = 30.0

_lock = threading.Lock()
_queue: TrainingQueue | None = None


def _positive(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{name} must be a whole number >= 1, not {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    return number


def executor_from_environment() -> Executor:
    """The Dask cluster that VAE_TRAIN_CLUSTER names, else local worker processes."""
    workers = _positive("VAE_TRAIN_WORKERS")
    cluster = os.environ.get("VAE_TRAIN_CLUSTER", "").strip()
    if cluster:
        return DaskExecutor(cluster, workers)
    return LocalProcessExecutor(workers)


def session_alive(session: str) -> bool:
    """Whether a Streamlit session still has its browser (always, outside a server: AppTest)."""
    from streamlit import runtime

    if not runtime.exists():
        return True
    return runtime.get_instance().is_active_session(session)


def current_session() -> str:
    """The id of the session whose script is running."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def server_queue() -> TrainingQueue:
    """The process's one training queue, made on first use; raises QueueError with the
    visitor's sentence when this server cannot train (a bad setting, a cluster out of reach)."""
    global _queue
    with _lock:
        if _queue is None:
            try:
                executor = executor_from_environment()
                capacity = _positive("VAE_TRAIN_QUEUE") or DEFAULT_CAPACITY
                grace = _positive("VAE_TRAIN_SESSION_GRACE") or SESSION_GRACE_SECONDS
            except ValueError as e:  # its text names the setting and the value: the operator's, not a secret
                raise QueueError(f"Training is not available on this server: {e}.") from None
            except (OSError, TimeoutError):
                raise QueueError("Training is not available right now: this server's training cluster cannot be "
                                 "reached; try again later.") from None
            _queue = TrainingQueue(executor, capacity, session_alive=session_alive, grace_seconds=grace)
        return _queue
