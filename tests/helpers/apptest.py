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


def show(at: AppTest, model_id: str, pin: dict | None = None) -> None:
    """Make the session's view show ``model_id`` (with ``pin``), as a picker choice or a click would."""
    from ui.view_state import ViewState

    view = at.session_state["view"] if "view" in at.session_state else ViewState()
    view.show(model_id, pin)
    at.session_state["view"] = view


def pick(at: AppTest, **pick_value) -> None:
    """A pin on the shipped MNIST model, as a click on Explore's plane stores it."""
    show(at, f"pretrained/{Path(PRETRAINED).name}", pick_value)


def figure(at: AppTest, key: str) -> dict:
    """The figure (Plotly's JSON) of the page's one chart whose element id holds ``key``."""
    (chart,) = [c for c in at.get("plotly_chart") if key in c.proto.id]
    return json.loads(chart.proto.spec)


def url_params(at: AppTest) -> dict[str, str]:
    """The URL's query parameters after the run (the share link)."""
    return {key: at.query_params[key][0] if isinstance(at.query_params[key], list) else at.query_params[key]
            for key in at.query_params}


def planes(at: AppTest) -> dict[str, dict]:
    """The latent planes of the page: user key (the end of the element's id) -> the data it was sent
    (as JSON bytes: see ui.latent_plane.latent_plane)."""
    return {el.proto.id.rsplit("-", 1)[-1]: json.loads(el.proto.bytes) for el in at.get("bidi_component")
            if el.proto.component_name == "vae_explorer.latent_plane"}


def plane_event(at: AppTest, key: str, name: str, value) -> AppTest:
    """Rerun as the browser does when the plane ``key`` sends the event ``name`` (e.g. "pick") with
    ``value``: the other widgets keep their values, the page's ``on_<name>`` callback runs first.
    (AppTest has no way to act on a component: this sends the frontend's trigger widget state.)"""
    from streamlit.components.v2.bidi_component.main import _make_trigger_id
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    (element,) = [el for el in at.get("bidi_component") if el.proto.component_name == "vae_explorer.latent_plane"
                  and el.proto.id.rsplit("-", 1)[-1] == key]
    states = WidgetStates()
    states.widgets.extend(at._tree.get_widget_states().widgets)
    trigger = states.widgets.add()
    trigger.id = _make_trigger_id(element.proto.id, "events")
    trigger.json_trigger_value = json.dumps([{"event": name, "value": value}])
    return at._run(states)
