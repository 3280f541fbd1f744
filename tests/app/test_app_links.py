"""Shareable links: the URL's query parameters carry the model, the pick and the
interpolation endpoints, and follow the view as it changes."""

import pytest
from streamlit.testing.v1 import AppTest

import vae_core as vc
from helpers.apptest import open_page, pick, planes, show, url_params
from helpers.data import ROOT
from ui.state import ModelEntry

MNIST_ID, FASHION_ID = "pretrained/mnist.safetensors", "pretrained/fashion-mnist.safetensors"


@pytest.fixture
def linked(monkeypatch):
    """An app opened from a link: call with the link's query parameters."""
    monkeypatch.chdir(ROOT)

    def open_link(**params) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at
    return open_link


def test_a_link_selects_the_model_and_the_picked_point(linked):
    at = linked(model="fashion-mnist", pick="5")
    assert at.sidebar.selectbox(key="model_id").value == FASHION_ID
    assert at.subheader[0].value.startswith("Test image #5 · class ")
    assert url_params(at) == {"model": "fashion-mnist", "pick": "5"}  # endpoints appear with the Interpolate page


def test_a_link_to_a_location_and_to_endpoints(linked):
    at = linked(pick="1.5,-0.25", a="3", b="0.5,-0.5")
    assert at.sidebar.selectbox(key="model_id").value == MNIST_ID
    assert at.subheader[0].value == "Location (1.50, -0.25)"
    assert planes(at)["explore_plane"]["pin"] == {"index": None, "z": [1.5, -0.25]}
    open_page(at, "interpolate")
    assert at.markdown[0].value == ("**Start A:** test image #3 (0) · "  # MNIST's fourth test image is a 0
                                    "**End B:** location (0.50, -0.50)")
    ends = planes(at)["interp_plane"]["endpoints"]
    assert ends["a"]["index"] == 3 and ends["b"] == {"index": None, "z": [0.5, -0.5]}


def test_the_url_follows_the_view(linked):
    at = linked()
    assert url_params(at) == {"model": "mnist"}  # nothing picked yet (endpoints appear with their page)
    pick(at, index=None, z=[1.25, 0.0])  # a click on the plane stores this pick
    at.run()
    assert url_params(at) == {"model": "mnist", "pick": "1.250,0.000"}
    open_page(at, "interpolate")
    assert set(url_params(at)) == {"model", "pick", "a", "b"}
    # "Share this view" shows the address bar itself (tests/browser/test_plane.py checks what it reads)
    assert "vae_explorer.share_link" in [el.proto.component_name for el in at.sidebar.get("bidi_component")]


def test_a_broken_link_is_named_and_the_rest_still_opens(linked):
    at = linked(model="../../etc/passwd", pick="not-a-point", a="4")
    assert at.sidebar.selectbox(key="model_id").value == MNIST_ID
    assert at.toast[0].value.startswith("Part of this link was left out: model '../../etc/passwd' is not one")
    assert "pick='not-a-point'" in at.toast[0].value
    open_page(at, "interpolate")
    assert at.markdown[0].value.startswith("**Start A:** test image #4 (")
    assert planes(at)["interp_plane"]["endpoints"]["a"]["index"] == 4


def test_a_visitors_own_model_is_not_put_in_a_link(linked):
    at = linked(pick="2")
    mine = ModelEntry("session/x", "mine (uploaded)", "uploaded", vc.load_checkpoint(str(ROOT / MNIST_ID)))
    at.session_state["user_models"] = {mine.id: mine}
    show(at, mine.id)
    at.run()
    assert at.sidebar.selectbox(key="model_id").value == mine.id
    assert url_params(at) == {}
    assert "Links can open the pretrained models only" in at.sidebar.caption[-1].value


def test_the_sidebar_offers_the_latents_as_csv(linked):
    at = linked()
    buttons = [b.proto for b in at.sidebar.get("download_button")]
    assert [b.label for b in buttons] == ["Test-set latents (CSV)"]
    assert buttons[0].deferred_file_id or buttons[0].url  # made on click, not on every run


def test_the_explore_panel_saves_its_images_as_png(linked):
    at = linked(pick="3")
    assert [b.proto.label for b in at.main.get("download_button")] == ["Download (PNG)"]
    at = linked(pick="0.5,0.5")
    assert [b.proto.label for b in at.main.get("download_button")] == ["Download (PNG)"]
