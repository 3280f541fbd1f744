import socket
import time

import pytest

from ui.jobs import DownloadJob, TrainingJob, training_threads
from vae_core.model import VAEConfig
from vae_core.train import TrainConfig

from helpers.data import MNIST_DIR

needs_mnist = pytest.mark.skipif(not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"MNIST files not found in {MNIST_DIR}")


def wait(job, timeout=120.0):
    deadline = time.time() + timeout
    while job.snapshot().running and time.time() < deadline:
        time.sleep(0.05)
    return job.snapshot()


@needs_mnist
def test_training_job_reports_progress_and_returns_a_checkpoint():
    seen = []
    job = TrainingJob("mnist", VAEConfig(hidden=(32,)), TrainConfig(epochs=2, batch_size=100, device="cpu"),
                      root=MNIST_DIR, limit=1200, iwae_k=5).start()
    while job.snapshot().running:
        seen.append(job.snapshot().status)
        time.sleep(0.01)
    snap = job.snapshot()
    assert snap.status == "done" and "trained 2 epochs" in snap.message and snap.fraction == 1.0
    assert "training" in seen
    assert [h["epoch"] for h in snap.history] == [1, 2]
    z, labels = snap.latents
    assert z.shape == (200, 2) and labels.shape == (200,)
    ckpt = snap.result
    assert ckpt.dataset == "mnist" and ckpt.latents.z_mean.shape == (200, 2) and "neg_elbo" in ckpt.metrics
    assert snap.last_event.kind == "done" and snap.finished >= snap.started


@needs_mnist
def test_stopping_a_training_job_keeps_the_model_so_far():
    job = TrainingJob("mnist", VAEConfig(hidden=(32,)), TrainConfig(epochs=50, batch_size=100, device="cpu"),
                      root=MNIST_DIR, limit=1200, iwae_k=2).start()
    while not job.snapshot().history:
        time.sleep(0.02)
    job.stop()
    snap = wait(job)
    assert snap.status == "stopped" and snap.result is not None
    assert 1 <= len(snap.result.history) < 50


def test_a_failing_job_reports_a_clear_message(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("VAE_DATA_MIRRORS", f"http://127.0.0.1:{port}/")
    snap = wait(DownloadJob("mnist", root=tmp_path).start(), timeout=60)
    assert snap.status == "failed" and snap.message.startswith("mnist could not be downloaded: none of its mirrors")
    assert "train-images-idx3-ubyte.gz" in snap.message and str(tmp_path) not in snap.message  # no server path
    assert "http" not in snap.message
    job = TrainingJob("mnist", VAEConfig(), TrainConfig(epochs=1), root=tmp_path)
    assert wait(job.start(), timeout=60).status == "failed"


def test_divergence_in_a_job_is_reported(monkeypatch):
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"MNIST files not found in {MNIST_DIR}")
    job = TrainingJob("mnist", VAEConfig(hidden=(32,)), TrainConfig(epochs=2, lr=1e4, warmup_epochs=0, device="cpu"),
                      root=MNIST_DIR, limit=1000).start()
    snap = wait(job)
    assert snap.status == "diverged" and "lower learning rate" in snap.message


def test_a_training_job_leaves_a_core_to_the_app():
    assert training_threads(None, cpus=2) == 1 and training_threads(None, cpus=8) == 7
    assert training_threads(None, cpus=1) == 1 and training_threads(3, cpus=2) == 3  # asked for: as asked
