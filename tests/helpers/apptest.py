"""Driving the app in AppTest (no browser): open pages, read images and planes, train briefly."""

from __future__ import annotations

import json
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

PRETRAINED = "pretrained/mnist.safetensors"


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def images(at: AppTest) -> list:
    """(url, caption) of every st.image; the url is the image itself, as a data URI."""
    return [img.proto.imgs[0] for img in at.get("image")]


def image_urls(at: AppTest) -> list[str]:
    return [img.url for img in images(at)]


def finish(job, timeout: float = 180.0) -> None:
    """Wait for a background job of the page and check it succeeded."""
    deadline = time.time() + timeout
    while job.snapshot().running and time.time() < deadline:
        time.sleep(0.1)
    assert job.snapshot().status == "done", job.snapshot().message


def train_briefly(at: AppTest, epochs: int, iwae_k: int) -> None:
    """On the Train page: train on 1,000 images, wait until done, and let the page add the model."""
    at.number_input(key="train_limit").set_value(1000).run()
    at.number_input(key="train_epochs").set_value(epochs).run()
    at.number_input(key="train_iwae_k").set_value(iwae_k).run()
    at.button(key="train_start").click().run()
    finish(at.session_state["train_job"])
    at.run()  # the page sees the finished job and adds its model...
    at.run()  # ...which the sidebar's picker shows from this run on


def pick(at: AppTest, **pick_value) -> None:
    at.session_state["per_model"] = {f"pretrained/{Path(PRETRAINED).name}": {"pick": pick_value}}


def planes(at: AppTest) -> dict[str, dict]:
    """The latent planes of the page: user key (the end of the element's id) -> the data it was sent
    (as JSON bytes: see ui.latent_plane.latent_plane)."""
    return {el.proto.id.rsplit("-", 1)[-1]: json.loads(el.proto.bytes) for el in at.get("bidi_component")
            if el.proto.component_name == "vae_explorer.latent_plane"}
