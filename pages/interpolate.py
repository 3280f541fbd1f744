"""Interpolate: walk the latent space from one image to another. The endpoints are placed and
dragged on the plane; the path, the image at t and the strip follow live, in the browser."""

import numpy as np
import streamlit as st

import vae_core as vc
from ui.latent_plane import event, latent_plane, parse_endpoints
from ui.state import latent_view, model_state
from ui.widgets import pixel_image, plane_model_of, require_model

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


def on_endpoints() -> None:
    """Endpoints placed or dragged on the plane (the browser sends both on release)."""
    placed = parse_endpoints(event("interp_plane", "endpoints"), view.z_mean)
    if placed is not None:
        ends.update(placed[0])
        state["next_endpoint"] = placed[1]
        st.session_state["interp_mode"] = "Place them on the plane"  # the class pickers would override them


st.session_state.setdefault("interp_steps", 10)  # once, so the widget needs no default of its own
top = st.columns([3, 2, 2], gap="large", vertical_alignment="bottom")
mode = top[0].radio("Choose the endpoints", ["Place them on the plane", "By class and example"], horizontal=True,
                    key="interp_mode")
method = top[1].radio("Path", ["linear", "slerp"], horizontal=True, key="interp_method",
                      help="slerp follows an arc, keeping the path away from the prior's low-density centre")
steps = top[2].slider("Images in the strip", 3, 24, key="interp_steps")
if mode == "By class and example":
    for which, column in zip("ab", st.columns(2, gap="large")):
        with column:
            current = ends[which]["index"]
            default = int(view.labels[current]) if current is not None else 0
            label = st.selectbox(f"{'Start A' if which == 'a' else 'End B'}: class", range(len(ckpt.classes)),
                                 index=default, format_func=lambda c: ckpt.classes[c], key=f"interp_class_{which}")
            members = np.flatnonzero(view.labels == label)
            pos = int(np.searchsorted(members, current)) if current in members else 0
            k = st.number_input(f"Example (of {len(members):,})", 1, len(members), pos + 1,
                                key=f"interp_example_{which}_{label}")
            idx = int(members[k - 1])
            ends[which] = {"index": idx, "z": view.z_mean[idx].tolist()}
st.markdown(f"**Start A:** {describe(ends['a'])} · **End B:** {describe(ends['b'])}")

a_z, b_z = tuple(ends["a"]["z"]), tuple(ends["b"]["z"])
model = plane_model_of(entry, view)
latent_plane("interp_plane", "interpolate", model, on_endpoints=on_endpoints, height=520,
             endpoints={"a": ends["a"], "b": ends["b"]}, next=state.get("next_endpoint", "a"), method=method,
             steps=steps)
if model.decoder_url is None:  # the browser cannot run this decoder: the strip comes from the server
    frames = vc.decode(ckpt.model, vc.interpolate(a_z, b_z, steps, method))
    pixel_image(st, vc.tile(frames, cols=steps, pad=2, pad_value=40), f"{steps} images, {method} from A to B",
                scale=4)
left, right = st.columns(2)
# Both files are made when their button is pressed, not on every run.
left.download_button("Download strip (PNG)", lambda: vc.png_bytes(vc.tile(vc.decode(ckpt.model, vc.interpolate(
    a_z, b_z, steps, method)), cols=steps, pad=2, pad_value=40), scale=4), file_name="interpolation.png",
    mime="image/png", on_click="ignore", icon=":material/download:", width="stretch")
right.download_button("Download animation (GIF)", lambda: vc.gif_bytes(vc.decode(ckpt.model, vc.interpolate(
    a_z, b_z, 32, method)), scale=6), file_name="interpolation.gif", mime="image/gif",
    on_click="ignore", icon=":material/animation:", width="stretch")
