"""The view in one place: ui/view_state.ViewState, and the picker, the link and the planes derived from it."""

from helpers.apptest import open_page, planes, show, url_params
from ui.view_state import ModelView, ViewState

MNIST_ID, FASHION_ID = "pretrained/mnist.safetensors", "pretrained/fashion-mnist.safetensors"
SPOT = {"index": None, "z": [1.25, -0.5]}


def test_each_model_keeps_its_pin_and_endpoints_while_another_is_shown():
    view = ViewState()
    assert view.model is None and view.current == ModelView() and view.models == {}  # (an empty view keeps nothing)
    view.show("m1", SPOT, {"a": SPOT})
    view.show("m2")
    assert view.model == "m2" and view.current.pin is None and view.current.endpoints == {}
    view.show("m1")
    assert view.current == ModelView(pin=SPOT, endpoints={"a": SPOT})
    view.show("m1", endpoints={"b": SPOT})  # endpoints are added to, the pin kept
    assert view.current.pin == SPOT and set(view.current.endpoints) == {"a", "b"}


def test_a_model_let_go_takes_its_view_with_it():
    view = ViewState()
    view.show("old", SPOT)
    view.show("new")
    view.forget("old")
    assert "old" not in view.models and view.model == "new"
    view.forget("new")
    assert view.model is None and view.models == {}


def test_the_picker_the_link_and_the_plane_follow_the_one_view(app):
    show(app, FASHION_ID, SPOT)
    app.run()
    assert app.sidebar.selectbox(key="model_id").value == FASHION_ID
    assert url_params(app) == {"model": "fashion-mnist", "pick": "1.250,-0.500"}
    assert planes(app)["explore_plane"]["pin"] == SPOT and planes(app)["explore_plane"]["model"]["id"] == FASHION_ID
    # the picker writes the view: the other model, with its own (empty) view
    app.sidebar.selectbox(key="model_id").set_value(MNIST_ID).run()
    view = app.session_state["view"]
    assert view.model == MNIST_ID and view.current.pin is None
    assert planes(app)["explore_plane"]["pin"] is None
    assert url_params(app) == {"model": "mnist"}
    # and back: the Fashion-MNIST pin was kept, and the Interpolate page's endpoints join the link
    app.sidebar.selectbox(key="model_id").set_value(FASHION_ID).run()
    assert planes(app)["explore_plane"]["pin"] == SPOT
    open_page(app, "interpolate")
    ends = app.session_state["view"].current.endpoints
    assert planes(app)["interp_plane"]["endpoints"] == ends and set(url_params(app)) == {"model", "pick", "a", "b"}


def test_the_link_follows_the_view_on_a_page_that_stops_early(app):
    """Your digit stops (st.stop) until something is drawn: the URL is still the view's."""
    open_page(app, "encode")
    app.sidebar.selectbox(key="model_id").set_value(FASHION_ID).run()
    assert url_params(app) == {"model": "fashion-mnist"}
