"""Interpolate: walk the latent space from one image to another. The endpoints are placed and
dragged on the plane; the path, the image at t and the strip follow live, in the browser."""

import numpy as np
import streamlit as st

import vae_core as vc
from ui.latent_plane import InterpolatePayload, event, latent_plane, parse_endpoints
from ui.link_format import Point
from ui.state import interpolation_endpoints, keep_across_pages, model_view
from ui.widgets import image_grid, pixel_image, plane_model_of, require_model, require_view

keep_across_pages("interp_method", "interp_mode", interp_steps=10)
entry = require_model()
st.title("Interpolate between two images")
view = require_view(entry, "This checkpoint carries no test-set latents and the dataset is not on disk.")
ckpt, shown = entry.ckpt, model_view(entry)  # the view's endpoints of this model
ends = interpolation_endpoints(entry, view)


def describe(end: Point) -> str:
    if end["index"] is None:
        return f"location ({end['z'][0]:.2f}, {end['z'][1]:.2f})"
    return f"test image #{end['index']} ({ckpt.classes[int(view.labels[end['index']])]})"


def on_endpoints() -> None:
    """Endpoints placed or dragged on the plane (the browser sends both on release)."""
    placed = parse_endpoints(event("interp_plane", "endpoints"), view.z_mean)
    if placed is not None:
        ends.update(placed[0])
        shown.next_endpoint = placed[1]
        st.session_state["interp_mode"] = "Place them on the plane"  # the class pickers would override them


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
            ends[which] = view.point(int(members[k - 1]))
st.markdown(f"**Start A:** {describe(ends['a'])} · **End B:** {describe(ends['b'])}")
a_z, b_z = tuple(ends["a"]["z"]), tuple(ends["b"]["z"])


def walk(frames: int) -> np.ndarray:
    """The decoded images along the path from A to B."""
    return vc.decode(ckpt.model, vc.interpolate(a_z, b_z, frames, method))


model = plane_model_of(entry, view)
latent_plane("interp_plane", InterpolatePayload(model=model, endpoints={"a": ends["a"], "b": ends["b"]},
                                                next=shown.next_endpoint, method=method, steps=steps,
                                                height=520),
             on_endpoints=on_endpoints)
if model.decoder_url is None:  # the browser cannot run this decoder: the strip comes from the server
    pixel_image(st, image_grid(walk(steps), steps), f"{steps} images, {method} from A to B", scale=4)
left, right = st.columns(2)
# Both files are made when their button is pressed, not on every run.
left.download_button("Download strip (PNG)", lambda: vc.png_bytes(image_grid(walk(steps), steps), scale=4),
                     file_name="interpolation.png", mime="image/png", on_click="ignore", icon=":material/download:",
                     width="stretch")
right.download_button("Download animation (GIF)", lambda: vc.gif_bytes(walk(32), scale=6),
                      file_name="interpolation.gif", mime="image/gif", on_click="ignore",
                      icon=":material/animation:", width="stretch")
