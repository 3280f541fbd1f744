"""The Train page and the server's queue, in AppTest: a visitor's place in line and honest wait,
leaving the line, a full queue's sentence, and figures built only when an epoch was added (the
curves, and the epoch's codes on the live latent plane)."""

import json

import numpy as np
import pytest
from safetensors.numpy import load as np_load

import ui.figures
import ui.latent_plane
import ui.training_service
from ui.jobs import JobState, TrainingJob
from ui.training_queue import TrainingQueue

from helpers.apptest import open_page, planes
from helpers.training import FakeExecutor, fake_job, wait_until


@pytest.fixture
def fake_queue(monkeypatch):
    """The server's queue, on a fake executor with room for 2 trainings, one worker."""
    executor = FakeExecutor(workers=1)
    queue = TrainingQueue(executor, capacity=2, poll_seconds=0.02)
    monkeypatch.setattr(ui.training_service, "_queue", queue)
    yield queue, executor
    queue.shutdown()


def test_a_waiting_visitor_sees_their_place_and_can_leave(app, fake_queue):
    queue, executor = fake_queue
    fake_job().start(queue, "someone else")  # trains first
    wait_until(lambda: executor.runs, 5, "the other training's start")
    open_page(app, "train")
    app.button(key="train_start").click().run()
    job = app.session_state["train_job"]
    assert job.snapshot().status == "queued" and job.snapshot().place == 1
    info = [i.value for i in app.info]
    assert len(info) == 1 and info[0].startswith("**1st in line, starts in about ") and " s.** Trainings take turns" in info[0]
    assert app.button(key="train_start").disabled
    app.button(key="train_leave").click().run()
    assert job.snapshot().status == "left" and "train_job" not in app.session_state
    assert queue.counts() == (1, 0) and not app.button(key="train_start").disabled
    assert not app.exception


def test_a_full_queue_answers_with_one_sentence(app, fake_queue):
    queue, executor = fake_queue
    for session in ("a", "b"):
        fake_job().start(queue, session)
    open_page(app, "train")
    app.button(key="train_start").click().run()
    assert [e.value for e in app.error] == [
        "The training queue is full (2 trainings are running or waiting); try again in a few minutes."]
    assert "train_job" not in app.session_state and not app.exception


class EpochsJob(TrainingJob):
    """A training the test moves on epoch by epoch, as the worker's messages would: each epoch's
    codes are new (300 test images, 10 classes)."""

    def __init__(self) -> None:
        super().__init__("mnist", None, None)
        self.update(status="training", message="training")

    def add_epoch(self) -> None:
        epoch = len(self.snapshot().history) + 1
        history = self.snapshot().history + [{"epoch": epoch, "train_loss": 200.0,
                                              "test_loss": 210.0, "train_recon": 190.0, "train_kl": 10.0}]
        z = np.random.default_rng(epoch).normal(size=(300, 2)).astype(np.float32)
        self.update(history=history, latents=(z, np.arange(300) % 10))


def test_figures_are_built_only_when_an_epoch_is_added(app, monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_ASSET_DIR", str(tmp_path))
    built, files = [], []
    real, real_points = ui.figures.history_figure, ui.latent_plane.points_asset
    monkeypatch.setattr(ui.figures, "history_figure", lambda history: built.append(len(history)) or real(history))
    monkeypatch.setattr(ui.latent_plane, "points_asset", lambda *a: files.append(len(a[0])) or real_points(*a))
    job = EpochsJob()
    app.session_state["train_job"] = job
    open_page(app, "train")
    assert built == [] and not app.get("plotly_chart") and not planes(app)
    job.add_epoch()
    app.run()
    assert built == [1] and files == [300] and len(app.get("plotly_chart")) == 1 and set(planes(app)) == {"train_plane"}
    first = planes(app)["train_plane"]
    app.run()
    app.run()  # polls and reruns with nothing new: the figures are kept, not built again
    assert built == [1] and files == [300] and len(app.get("plotly_chart")) == 1
    assert planes(app)["train_plane"] == first  # the same payload: the browser's plane only refreshes
    job.add_epoch()
    app.run()
    assert built == [1, 2] and files == [300, 300]
    assert planes(app)["train_plane"]["model"]["points"] != first["model"]["points"]  # the new codes: a new file
    assert JobState().version == 0 and job.snapshot().version == 3  # every change counted


def test_the_live_plane_draws_the_epochs_codes_from_a_served_file_without_a_decoder(app, monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_ASSET_DIR", str(tmp_path))
    job = EpochsJob()
    app.session_state["train_job"] = job
    open_page(app, "train")
    job.add_epoch()
    job.add_epoch()
    app.run()
    assert not app.exception
    sent = planes(app)["train_plane"]
    z, labels = job.snapshot().latents
    file = np_load((tmp_path / sent["model"]["points"].rsplit("/", 1)[1]).read_bytes())  # the file the browser gets
    assert np.array_equal(file["z"], z) and file["labels"].tolist() == labels.tolist() and "sigma" not in file
    assert sent["mode"] == "compare" and sent["group"] is None and sent["marks"] == []
    assert sent["title"] == "The test images' codes after epoch 2"
    model = sent["model"]
    assert model["decoder"] is None and model["fallback"] == "Decoding comes with the trained model."
    assert model["classes"] == [str(k) for k in range(10)] and model["extent"] == pytest.approx(
        max(3.0, np.percentile(np.abs(z), 99.9) + 0.5))
    assert "click" not in sent["hint"] and "Point at the plane to read a spot's z" in sent["hint"]  # (hovering shows z)
    assert len(json.dumps(sent)) < 1000  # the codes travel as a file, not in the payload
