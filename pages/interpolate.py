"""Interpolate: walk the latent space from one image to another."""

import numpy as np
import streamlit as st

import vae_core as vc
from vae_core.figures import add_path, pick_from_points
from ui.state import latent_view, model_state
from ui.widgets import base_scatter, digit_image, require_model, selected_points

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


if "endpoints" not in state:  # a useful start: a "1" turning into a "7" (or the first two classes)
    a, b = (1, 7) if len(ckpt.classes) > 7 else (0, 1)
    state["endpoints"] = {"a": first_of(a), "b": first_of(b)}
    state["next_endpoint"] = "a"
ends = state["endpoints"]


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
    t = st.slider("Position t", 0.0, 1.0, 0.5, step=0.01, key="interp_t")

path = vc.interpolate(ends["a"]["z"], ends["b"]["z"], steps, method)
z_t = vc.interpolate_at(ends["a"]["z"], ends["b"]["z"], t, method)[0]
with plot:
    fig = add_path(base_scatter(entry, view), vc.interpolate(ends["a"]["z"], ends["b"]["z"], 48, method), z_t)
    st.plotly_chart(fig, key="interp_scatter", on_select=on_click, selection_mode="points",
                    config={"scrollZoom": True, "displaylogo": False})

with controls:
    digit_image(st, vc.decode(ckpt.model, z_t)[0], f"t = {t:.2f} · z = ({z_t[0]:.2f}, {z_t[1]:.2f})", scale=8)

frames = vc.decode(ckpt.model, path)
strip = vc.tile(frames, cols=steps, pad=2, pad_value=40)
st.subheader("The path as a strip")
strip_png = vc.png_bytes(strip, scale=4)
st.image(strip_png, caption=f"{steps} images, {method} from start to end")
left, right = st.columns(2)
left.download_button("Download strip (PNG)", strip_png, file_name="interpolation.png",
                     mime="image/png", on_click="ignore", icon=":material/download:")
right.download_button("Download animation (GIF)", vc.gif_bytes(vc.decode(ckpt.model, vc.interpolate(
    ends["a"]["z"], ends["b"]["z"], 32, method)), scale=6), file_name="interpolation.gif", mime="image/gif",
    on_click="ignore", icon=":material/animation:")
