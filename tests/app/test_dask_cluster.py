"""Trainings on a Dask distributed cluster (ui.executors.DaskExecutor, VAE_TRAIN_CLUSTER): a
LocalCluster of two worker processes on 127.0.0.1 runs a short training through the queue, its
progress streamed to the visitor's job and its model returned; Stop keeps the model so far."""

import os
import time

import pytest

from ui.executors import DaskExecutor
from ui.training_queue import TrainingQueue

from helpers.data import needs_mnist
from helpers.training import finished, small_job, wait_until

distributed = pytest.importorskip("distributed", reason="the cluster path needs distributed (requirements.txt)")


@pytest.fixture(scope="module")
def cluster():
    # distributed's nannies set MALLOC_TRIM_THRESHOLD_ and OMP_NUM_THREADS in this process's own
    # environment for their workers: put it back, or every later subprocess of the suite inherits them
    environment = dict(os.environ)
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=None, worker_dashboard_address=None) as local:
            yield local
    finally:
        os.environ.clear()
        os.environ.update(environment)


@needs_mnist
def test_a_training_runs_on_the_cluster_with_its_progress_and_model(cluster):
    executor = DaskExecutor(cluster.scheduler_address)
    assert executor.workers == 2  # one per worker thread of the cluster
    queue = TrainingQueue(executor, poll_seconds=0.05)
    try:
        job = small_job(epochs=3, limit=12_000).start(queue, "a")  # epochs long enough to be seen one by one
        seen = []
        while job.snapshot().running:
            snap = job.snapshot()
            seen.append((snap.status, len(snap.history)))
            time.sleep(0.02)
        snap = job.snapshot()
        assert snap.status == "done" and "trained 3 epochs" in snap.message, snap.message
        assert ("training", 1) in seen and ("training", 2) in seen  # epochs streamed while it trained
        assert [h["epoch"] for h in snap.history] == [1, 2, 3] and snap.latents[0].shape == (2000, 2)
        assert snap.result.dataset == "mnist" and "neg_elbo" in snap.result.metrics
        assert len(snap.result.history) == 3
    finally:
        queue.shutdown()


@needs_mnist
def test_stop_on_the_cluster_keeps_the_model_so_far(cluster):
    queue = TrainingQueue(DaskExecutor(cluster.scheduler_address), poll_seconds=0.05)
    try:
        job = small_job(epochs=100).start(queue, "a")
        wait_until(lambda: job.snapshot().history, 120, "the first epoch")
        job.stop()
        snap = finished(job)
        assert snap.status == "stopped" and snap.result is not None and 1 <= len(snap.result.history) < 100
    finally:
        queue.shutdown()
