"""The server's one training queue: at most W trainings at once, first come first served, one
per session, a bounded line with an honest wait, and nothing left behind by a visitor who goes.

``TrainingQueue`` hands each training to an executor (ui.executors) when its turn comes and,
from one monitor thread, carries the worker's messages into the visitor's ``TrainingJob``,
notices a worker that died or hangs, and ends the trainings of sessions that closed.
Nothing here knows Streamlit: the app passes in how to tell that a session is still open.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

from vae_core.checkpoint import load_checkpoint
from vae_core.errors import VAEError

from ui.executors import Executor, TrainingRun
from ui.jobs import FINAL_STATUSES, TrainingJob

DEFAULT_CAPACITY = 32  # trainings running or waiting, at most
# Before any training finished here: a training's seconds per image and epoch (the Quick preset,
# 8 epochs of 60,000 images, took 22 s on 2 cores, its evaluation included).
DEFAULT_SECONDS_PER_IMAGE_EPOCH = 19.0 / (8 * 60_000)
STARTUP_SECONDS = 3.0  # a worker's start before it trains: a fresh interpreter, torch, the data
FULL_TRAINING_SET = 60_000
REAP_SECONDS = 10.0  # a worker that sent its last message exits within this, or is killed


class QueueError(VAEError):
    """A training that cannot join the queue; its message is the visitor's sentence."""


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st, …"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def about(seconds: float) -> str:
    """A wait in words: "about 40 s", "about 3 min"."""
    if seconds < 60:
        return f"about {max(5, 5 * round(seconds / 5))} s"
    return f"about {round(seconds / 60)} min"


def line_sentence(place: int, wait: float | None) -> str:
    """What a waiting visitor reads: "2nd in line, starts in about 40 s"."""
    return f"{ordinal(place)} in line, starts in {about(wait)}" if wait is not None else f"{ordinal(place)} in line"


class TrainingQueue:
    """Trainings of every session of a server, run by ``executor`` (``executor.workers`` at once)."""

    def __init__(self, executor: Executor, capacity: int = DEFAULT_CAPACITY,
                 session_alive: Callable[[str], bool] = lambda session: True, grace_seconds: float = 30.0,
                 hang_seconds: float = 300.0, poll_seconds: float = 0.2) -> None:
        self.executor, self.capacity = executor, capacity
        self.session_alive, self.grace_seconds = session_alive, grace_seconds
        self.hang_seconds, self.poll_seconds = hang_seconds, poll_seconds
        self._lock = threading.RLock()
        self._waiting: deque[TrainingJob] = deque()
        self._running: dict[TrainingJob, TrainingRun] = {}
        self._session_of: dict[TrainingJob, str] = {}
        self._started_at: dict[TrainingJob, float] = {}
        self._heard_at: dict[TrainingJob, float] = {}
        self._gone_since: dict[str, float] = {}  # sessions seen closed, since when
        self._reaping: list[tuple[TrainingRun, float]] = []  # ended trainings' workers, and until when they may exit
        self._seconds_per_unit = DEFAULT_SECONDS_PER_IMAGE_EPOCH
        self._wake = threading.Event()
        self._closed = False
        self._monitor = threading.Thread(target=self._watch, name="vae-explorer-training-queue", daemon=True)
        self._monitor.start()

    # ------------------------------------------------------------ what a visitor does

    def submit(self, job: TrainingJob, session: str) -> None:
        """Put ``job`` at the end of the line for ``session``; raises QueueError when the
        session already has a training in line or the line is full."""
        with self._lock:
            if any(s == session for s in self._session_of.values()):
                raise QueueError("You already have a training in line or running: wait for it, or stop it first.")
            if len(self._session_of) >= self.capacity:
                raise QueueError(f"The training queue is full ({self.capacity} trainings are running or waiting); "
                                 "try again in a few minutes.")
            self._session_of[job] = session
            self._waiting.append(job)
            job.update(status="queued", message="waiting for a free worker", started=time.time())
        self._wake.set()

    def stop(self, job: TrainingJob) -> None:
        """A running training stops after its current step and keeps its model; a waiting one leaves."""
        with self._lock:
            run = self._running.get(job)
            if run is None:
                self._remove_waiting(job)
                return
            job.update(message="stopping after this step…")
            run.stop()

    def leave(self, job: TrainingJob) -> None:
        """Out of the line, or, when it runs, ended at once without a model."""
        with self._lock:
            run = self._running.pop(job, None)
            if run is None:
                self._remove_waiting(job)
                return
            self._forget(job)
        run.kill()
        job.update(status="left", message="the training was ended.", finished=time.time())
        self._wake.set()

    def close_session(self, session: str) -> None:
        """A session that closed: its trainings leave the line, and a running one is killed."""
        with self._lock:
            jobs = [job for job, s in self._session_of.items() if s == session]
        for job in jobs:
            self.leave(job)

    def place(self, job: TrainingJob) -> tuple[int, float | None]:
        """(1-based place in line, estimated seconds until it starts); (0, None) when not waiting."""
        with self._lock:
            if job not in self._waiting:
                return 0, None
            now = time.time()
            # when each worker will be free, then the jobs ahead served in order by the first free one
            free = sorted(self._remaining(j, now) for j in self._running)
            free += [0.0] * (self.executor.workers - len(free))
            free = sorted(free)[:max(1, self.executor.workers)]
            ahead = list(self._waiting)[:self._waiting.index(job)]
            for other in ahead:
                free[0] += self.expected_seconds(other)
                free.sort()
            return len(ahead) + 1, free[0]

    def expected_seconds(self, job: TrainingJob) -> float:
        """How long ``job`` will take, at the pace of the trainings that finished here."""
        images = job.limit or FULL_TRAINING_SET
        return STARTUP_SECONDS + self._seconds_per_unit * images * job.train_config.epochs

    def counts(self) -> tuple[int, int]:
        """(running, waiting)."""
        with self._lock:
            return len(self._running), len(self._waiting)

    def shutdown(self) -> None:
        """Kill every training and stop watching (the server is going away)."""
        with self._lock:
            self._closed = True
            jobs = list(self._session_of)
        for job in jobs:
            self.leave(job)
        self._wake.set()
        self._monitor.join(5)
        for run, _ in self._reaping:
            run.kill()
        self.executor.close()

    # ------------------------------------------------------------ the monitor thread

    def _remaining(self, job: TrainingJob, now: float) -> float:
        ev = job.snapshot().last_event
        left = self.expected_seconds(job) - (now - self._started_at.get(job, now))
        return max(0.0, ev.eta if ev is not None and ev.kind == "step" else 0.0, left)

    def _remove_waiting(self, job: TrainingJob) -> None:
        if job in self._waiting:
            self._waiting.remove(job)
            self._forget(job)
            job.update(status="left", message="you left the queue.", finished=time.time())

    def _forget(self, job: TrainingJob) -> None:
        for table in (self._session_of, self._started_at, self._heard_at):
            table.pop(job, None)

    def _watch(self) -> None:
        last_sessions_check = 0.0
        while not self._closed:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            try:
                self._carry_messages()
                if time.monotonic() - last_sessions_check >= 1.0:
                    last_sessions_check = time.monotonic()
                    self._end_closed_sessions()
                self._dispatch()
            except Exception:  # noqa: BLE001  (the monitor must outlive any one training's surprise)
                import traceback

                traceback.print_exc()

    def _dispatch(self) -> None:
        with self._lock:
            while self._waiting and len(self._running) < self.executor.workers and not self._closed:
                job = self._waiting.popleft()
                job.update(status="loading", message="starting a worker", fraction=0.0, started=time.time())
                self._started_at[job] = self._heard_at[job] = time.time()
                try:
                    self._running[job] = self.executor.start(job.request)
                except Exception as e:  # noqa: BLE001  (no worker could be started: that training fails alone)
                    self._forget(job)
                    job.update(status="failed", message=f"no worker could be started ({type(e).__name__}); try again.",
                               finished=time.time())

    def _carry_messages(self) -> None:
        with self._lock:
            running = list(self._running.items())
        now = time.time()
        for job, run in running:
            messages = run.messages()
            with self._lock:
                if self._running.get(job) is not run:
                    continue  # it left meanwhile: its visitor's word is the last
                for message in messages:
                    self._heard_at[job] = now
                    self._apply(job, message)
                if job.snapshot().status in FINAL_STATUSES:
                    self._finish(job, run)
                    continue
                reason = run.ended()
                if reason is not None:
                    job.update(status="failed", message=reason or "it ended without a result; try again.",
                               finished=time.time())
                    self._finish(job, run)
                elif now - self._heard_at.get(job, now) > self.hang_seconds:
                    job.update(status="failed", message=f"its worker stopped answering for {self.hang_seconds:.0f} s "
                                                        "and was ended; try again.", finished=time.time())
                    self._finish(job, run, kill=True)
        self._reap()

    def _apply(self, job: TrainingJob, message: dict) -> None:
        changes = dict(message)
        data = changes.pop("checkpoint", None)
        if data is not None:
            try:
                changes["result"] = load_checkpoint(data, name="the trained model")
            except VAEError as e:
                changes.update(status="failed", message=str(e))
        if changes.get("status") in FINAL_STATUSES:
            changes["finished"] = time.time()
        job.update(**changes)

    def _finish(self, job: TrainingJob, run: TrainingRun, kill: bool = False) -> None:
        """``job`` has ended (called with the lock held): free its worker slot; its worker,
        which sent its last message, gets a few seconds to exit before it is killed."""
        self._running.pop(job, None)
        started = self._started_at.get(job)
        self._forget(job)
        if job.snapshot().status == "done" and started is not None:  # the pace of the next estimates
            units = (job.limit or FULL_TRAINING_SET) * job.train_config.epochs
            pace = max(0.0, time.time() - started - STARTUP_SECONDS) / units
            self._seconds_per_unit = 0.5 * self._seconds_per_unit + 0.5 * pace
        if kill:
            run.kill()
        else:
            self._reaping.append((run, time.time() + REAP_SECONDS))
        self._wake.set()

    def _reap(self) -> None:
        """Workers that sent their last message: gone, or killed once their time is up."""
        keep = []
        for run, deadline in self._reaping:
            run.messages()
            if run.ended() is None:
                if time.time() < deadline:
                    keep.append((run, deadline))
                else:
                    run.kill()
        self._reaping = keep

    def _end_closed_sessions(self) -> None:
        with self._lock:
            sessions = set(self._session_of.values())
        now = time.time()
        for session in sessions:
            if self.session_alive(session):
                self._gone_since.pop(session, None)
                continue
            since = self._gone_since.setdefault(session, now)
            if now - since >= self.grace_seconds:
                self._gone_since.pop(session, None)
                self.close_session(session)
        for session in list(self._gone_since):
            if session not in sessions:
                self._gone_since.pop(session, None)
