"""A visitor's jobs (ui/jobs.py): a dataset download in a thread, and trainings that run in real
worker processes through the server's queue (ui/training_queue.py, ui/executors.py): progress,
stop, failures in one sentence, a worker killed or hung, a closed session, and no orphan left."""

import os
import signal
import socket
import time

import pytest

from ui.executors import LocalProcessExecutor, default_workers, exit_sentence
from ui.jobs import DownloadJob, TrainingJob, training_threads
from ui.training_queue import TrainingQueue
from ui.training_worker import download_reporter
from vae_core.model import VAEConfig
from vae_core.training import TrainConfig

from helpers.data import MNIST_DIR, needs_mnist
from helpers.training import (alive, crash, finished, group_of, hang, in_group, small_job, training_workers,
                              wait_until)



@pytest.fixture
def queue():
    q = TrainingQueue(LocalProcessExecutor(workers=1), poll_seconds=0.05)
    yield q
    q.shutdown()
    assert training_workers() == []  # nothing outlives the queue


@needs_mnist
def test_training_job_runs_in_a_worker_process_and_returns_a_checkpoint(queue):
    seen, workers = [], set()
    job = small_job().start(queue, "a")
    while job.snapshot().running:
        seen.append(job.snapshot().status)
        workers.update(training_workers())
        time.sleep(0.01)
    snap = job.snapshot()
    assert snap.status == "done" and "trained 2 epochs" in snap.message and snap.fraction == 1.0, snap.message
    assert "training" in seen and "loading" in seen
    assert len(workers) == 1 and os.getpid() not in workers  # trained in one worker process, not this one
    assert [h["epoch"] for h in snap.history] == [1, 2]
    z, labels = snap.latents
    assert z.shape == (200, 2) and labels.shape == (200,)
    ckpt = snap.result
    assert ckpt.dataset == "mnist" and ckpt.latents.z_mean.shape == (200, 2) and "neg_elbo" in ckpt.metrics
    assert snap.last_event.kind == "done" and snap.finished >= snap.started
    wait_until(lambda: not training_workers(), 15, "the worker's exit")


@needs_mnist
def test_stopping_a_training_job_keeps_the_model_so_far(queue):
    job = small_job(epochs=50).start(queue, "a")
    wait_until(lambda: job.snapshot().history, 120, "the first epoch")
    job.stop()
    snap = finished(job)
    assert snap.status == "stopped" and snap.result is not None
    assert 1 <= len(snap.result.history) < 50


def test_a_failing_job_reports_a_clear_message(tmp_path, monkeypatch, queue):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("VAE_DATA_MIRRORS", f"http://127.0.0.1:{port}/")
    snap = finished(DownloadJob("mnist", root=tmp_path).start(), 60)
    assert snap.status == "failed" and snap.message.startswith("mnist could not be downloaded: none of its mirrors")
    assert "train-images-idx3-ubyte.gz" in snap.message and str(tmp_path) not in snap.message  # no server path
    assert "http" not in snap.message
    job = TrainingJob("mnist", VAEConfig(), TrainConfig(epochs=1), root=tmp_path)
    assert finished(job.start(queue, "a"), 60).status == "failed"


@needs_mnist
def test_divergence_in_a_job_is_reported(queue):
    job = TrainingJob("mnist", VAEConfig(hidden=(32,)), TrainConfig(epochs=2, lr=1e4, warmup_epochs=0, device="cpu"),
                      root=MNIST_DIR, limit=1000).start(queue, "a")
    snap = finished(job)
    assert snap.status == "diverged" and "lower learning rate" in snap.message and snap.result is None


def test_a_download_reports_its_share_of_the_four_files_and_its_megabytes():
    messages = []
    progress = download_reporter("mnist", messages.append)
    progress("t10k-labels-idx1-ubyte.gz", 2_000_000, 4_000_000)
    progress("t10k-images-idx3-ubyte.gz", 1_000_000, None)  # a mirror that sends no length
    progress("t10k-labels-idx1-ubyte.gz", 4_000_000, 4_000_000)
    assert messages == [
        {"status": "downloading", "fraction": 0.125, "message": "downloading t10k-labels-idx1-ubyte.gz: 2.0 of 4.0 MB"},
        {"status": "downloading", "fraction": 0.125, "message": "downloading t10k-images-idx3-ubyte.gz: 1.0 MB"},
        {"status": "downloading", "fraction": 0.25, "message": "downloading t10k-labels-idx1-ubyte.gz: 4.0 of 4.0 MB"}]


def test_a_training_job_leaves_a_core_to_the_app():
    assert training_threads(None, cpus=2) == 1 and training_threads(None, cpus=8) == 7
    assert training_threads(None, cpus=1) == 1 and training_threads(3, cpus=2) == 3  # asked for: as asked
    assert training_threads(None, cpus=8, workers=3) == 2 and training_threads(None, cpus=2, workers=4) == 1
    assert [default_workers(c) for c in (1, 2, 4, 16)] == [1, 1, 3, 15]


@needs_mnist
def test_a_worker_killed_mid_training_costs_that_training_only():
    queue = TrainingQueue(LocalProcessExecutor(workers=2), poll_seconds=0.05)
    try:
        victim, other = small_job(epochs=40).start(queue, "victim"), small_job(epochs=3).start(queue, "other")
        wait_until(lambda: victim.snapshot().history and len(training_workers()) == 2, 120, "both training")
        pid = queue._running[victim].pid
        assert group_of(pid) == pid  # a worker leads its own process group
        os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer does
        snap = finished(victim)
        assert snap.status == "failed" and snap.message == (
            "its worker process was killed (as the system does when memory runs out); try a smaller model or batch "
            "size, or try again.")
        assert finished(other).status == "done" and finished(other).result is not None  # the other visitor's
        wait_until(lambda: not training_workers(), 15, "every worker's exit")
        assert not alive(pid) and in_group(pid) == []
        third = small_job(epochs=1).start(queue, "victim")  # the victim trains again
        assert finished(third).status == "done"
    finally:
        queue.shutdown()
    assert training_workers() == []


@needs_mnist
def test_a_closed_session_kills_its_worker_and_leaves_no_orphan():
    open_sessions = {"leaving", "staying"}
    queue = TrainingQueue(LocalProcessExecutor(workers=1), poll_seconds=0.05, grace_seconds=0.5,
                          session_alive=lambda s: s in open_sessions)
    try:
        leaving = small_job(epochs=200).start(queue, "leaving")
        waiting = small_job(epochs=1).start(queue, "staying")
        wait_until(lambda: leaving.snapshot().history, 120, "the first epoch")
        pid = queue._running[leaving].pid
        open_sessions.discard("leaving")
        # (the queue kills the worker, then marks the job: wait for both)
        wait_until(lambda: not alive(pid) and leaving.snapshot().status == "left", 15,
                   "the closed session's worker killed and its job marked as left")
        assert in_group(pid) == []
        assert finished(waiting).status == "done"  # the next in line trained
    finally:
        queue.shutdown()
    assert training_workers() == []


def test_a_hung_worker_is_killed_with_a_sentence():
    queue = TrainingQueue(LocalProcessExecutor(workers=1, target=hang), poll_seconds=0.05, hang_seconds=5)
    try:
        job = small_job().start(queue, "a")
        wait_until(lambda: job.snapshot().status == "loading" and training_workers(), 60, "the worker's start")
        pid = training_workers()[0]
        snap = finished(job, 60)
        assert snap.status == "failed" and snap.message == "its worker stopped answering for 5 s and was ended; try again."
        assert not alive(pid) and in_group(pid) == []
    finally:
        queue.shutdown()


def test_a_crashed_worker_fails_with_a_sentence():
    queue = TrainingQueue(LocalProcessExecutor(workers=1, target=crash), poll_seconds=0.05)
    try:
        snap = finished(small_job().start(queue, "a"), 60)
        assert snap.status == "failed" and snap.message == "its worker process ended unexpectedly (exit code 3); try again."
    finally:
        queue.shutdown()
    assert exit_sentence(-signal.SIGTERM) == "its worker process was ended by signal SIGTERM; try again."


@needs_mnist
def test_a_visitor_who_closes_the_page_leaves_no_worker_behind(tmp_path):
    """The real server: a visitor presses Start (Quick preset) over Streamlit's WebSocket and
    goes; after the grace the queue kills the worker and its process group, and the server lives."""
    import asyncio
    import urllib.request

    from bench.browser import AppServer, process_tree
    from bench.protocol import ProtocolVisitor

    def workers(server) -> list[int]:
        return [p for p in process_tree(server.proc.pid)[1:] if b"spawn_main" in _cmdline(p)]

    async def train_then_leave(url: str) -> int:
        async with ProtocolVisitor(url, "leaves") as visitor:
            await visitor.run_page("Train")
            await visitor.press("train_start")
            pid = (await asyncio.to_thread(wait_until, lambda: workers(server), 60, "a worker process"))[0]
            # its first act: its own process group, which the kill takes whole
            await asyncio.to_thread(wait_until, lambda: group_of(pid) == pid, 30, "the worker's own group")
            return pid

    with AppServer(tmp_path, env={"VAE_DATA_DIR": str(MNIST_DIR), "VAE_TRAIN_SESSION_GRACE": "1"}) as server:
        server.wait_healthy()
        pid = asyncio.run(train_then_leave(server.url))
        wait_until(lambda: not alive(pid), 30, "the worker killed after its visitor left")
        assert in_group(pid) == [] and workers(server) == []
        assert urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10).read() == b"ok"
    assert not server.log_errors()


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""
