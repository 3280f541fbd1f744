"""Interpolate: walk the latent space from one image to another."""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import vae_core as vc
from vae_core.figures import add_path, pick_from_points
from vae_core.scrubber import scrubber_figure
from ui.state import latent_view, model_state
from ui.widgets import base_scatter, pixel_image, png_download, require_model, selected_points

WALK_POSITIONS = 101  # t = 0.00, 0.01, ..., 1.00

entry = require_model()
ckpt = entry.ckpt
view = latent_view(entry, entry.id)
state = model_state(entry)

st.title("Interpolate between two images")
if view is None:
    st.warning("This checkpoint carries no test-set latents and the dataset is not on disk.")
    st.stop()


def first_of(label: int) -> dict:
    idx = int(np.flatnonzero(view.labels == label)[0]) if (view.labels == label).any() else 0
    return {"index": idx, "z": view.z_mean[idx].tolist()}


ends = state.setdefault("endpoints", {})  # a shared link may have set one or both
if len(ends) < 2:  # a useful start: a "1" turning into a "7" (or the first two classes)
    a, b = (1, 7) if len(ckpt.classes) > 7 else (0, 1)
    ends.setdefault("a", first_of(a))
    ends.setdefault("b", first_of(b))
    state["next_endpoint"] = "a"


def describe(end: dict) -> str:
    if end["index"] is None:
        return f"location ({end['z'][0]:.2f}, {end['z'][1]:.2f})"
    return f"test image #{end['index']} ({ckpt.classes[int(view.labels[end['index']])]})"


def on_click() -> None:
    pick = pick_from_points(selected_points("interp_scatter"))
    if pick is not None:
        which = state.get("next_endpoint", "a")
        ends[which] = pick
        state["next_endpoint"] = "b" if which == "a" else "a"


# Bounded caches: a path figure holds a copy of the 10,000-point scatter (~2 MB), a walk ~0.5 MB.
@st.cache_resource(show_spinner=False, max_entries=8)
def _path_figure(_entry, _view, entry_id: str, a: tuple, b: tuple, method: str) -> go.Figure:
    return add_path(base_scatter(_entry, _view), vc.interpolate(a, b, 48, method))


def path_figure(entry, view, a: tuple, b: tuple, method: str) -> go.Figure:
    """The scatter with the path drawn on it, built once per path (shared: never change it)."""
    return _path_figure(entry, view, entry.id, a, b, method)


@st.cache_resource(show_spinner=False, max_entries=16)
def _walk_figure(_entry, entry_id: str, a: tuple, b: tuple, method: str) -> go.Figure:
    t = np.linspace(0.0, 1.0, WALK_POSITIONS)
    z = vc.interpolate_at(a, b, t, method)
    titles = [f"t = {ti:.2f} · z = ({zi[0]:.2f}, {zi[1]:.2f})" for ti, zi in zip(t, z)]
    return scrubber_figure(vc.decode(_entry.ckpt.model, z), titles, active=WALK_POSITIONS // 2)


def walk_figure(entry, a: tuple, b: tuple, method: str) -> go.Figure:
    """The decoded image at t, with a slider over t = 0.00 ... 1.00 (shared: never change it)."""
    return _walk_figure(entry, entry.id, a, b, method)


controls, plot = st.columns([2, 3], gap="large")
with controls:
    mode = st.radio("Choose the endpoints", ["Click two points", "By class and example"], horizontal=True,
                    key="interp_mode")
    if mode == "By class and example":
        for which, column in zip("ab", st.columns(2)):
            with column:
                current = ends[which]["index"]
                default = int(view.labels[current]) if current is not None else 0
                label = st.selectbox(f"{'Start' if which == 'a' else 'End'} class", range(len(ckpt.classes)),
                                     index=default, format_func=lambda c: ckpt.classes[c], key=f"interp_class_{which}")
                members = np.flatnonzero(view.labels == label)
                pos = int(np.searchsorted(members, current)) if current in members else 0
                k = st.number_input(f"Example (of {len(members):,})", 1, len(members), pos + 1,
                                    key=f"interp_example_{which}_{label}")
                idx = int(members[k - 1])
                ends[which] = {"index": idx, "z": view.z_mean[idx].tolist()}
    else:
        st.caption(f"Next click sets the **{'start' if state.get('next_endpoint', 'a') == 'a' else 'end'}**. "
                   "Clicks alternate between start and end; empty space works too.")
    st.markdown(f"**Start:** {describe(ends['a'])}  \n**End:** {describe(ends['b'])}")
    method = st.radio("Path", ["linear", "slerp"], horizontal=True, key="interp_method",
                      help="slerp follows an arc, keeping the path away from the prior's low-density centre")
    steps = st.slider("Images in the strip", 3, 24, 10, key="interp_steps")

a_z, b_z = tuple(ends["a"]["z"]), tuple(ends["b"]["z"])
with plot:
    st.plotly_chart(path_figure(entry, view, a_z, b_z, method), key="interp_scatter", on_select=on_click,
                    selection_mode="points", config={"scrollZoom": True, "displaylogo": False})

with controls:
    # Every position is decoded up front and travels with the figure, so moving its slider
    # swaps images in the browser, with no round trip to the server.
    st.plotly_chart(walk_figure(entry, a_z, b_z, method), key="interp_walk",
                    config={"displayModeBar": False, "scrollZoom": False})
    st.html("<style>.st-key-interp_walk image { image-rendering: pixelated; }</style>")  # crisp pixels

frames = vc.decode(ckpt.model, vc.interpolate(a_z, b_z, steps, method))
strip = vc.tile(frames, cols=steps, pad=2, pad_value=40)
st.subheader("The path as a strip")
pixel_image(st, strip, f"{steps} images, {method} from start to end", scale=4)
left, right = st.columns(2)
# Both files are made when their button is pressed, not on every run.
png_download(left, strip, "interpolation.png", label="Download strip (PNG)")
right.download_button("Download animation (GIF)", lambda: vc.gif_bytes(vc.decode(ckpt.model, vc.interpolate(
    a_z, b_z, 32, method)), scale=6), file_name="interpolation.gif", mime="image/gif",
    on_click="ignore", icon=":material/animation:")
