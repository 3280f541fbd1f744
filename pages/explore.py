"""Explore: the test set's latent codes; click a point (or anywhere) to decode it."""

import numpy as np
import streamlit as st

import vae_core as vc
from vae_core.figures import pick_from_points, zoom_figure
from ui.state import latent_view, model_state, test_set
from ui.links import update_link
from ui.widgets import pixel_image, png_download, require_model, selected_points, shared_scatter

entry = require_model()
view = latent_view(entry, entry.id)
ckpt = entry.ckpt
state = model_state(entry)

st.title("Explore the latent space")
st.caption("Each dot is a test image placed at its code z_mean. Click a dot to see it decoded, or click empty "
           "space to decode any location. Click legend entries to hide or show classes; scroll to zoom.")

if view is None:
    st.warning("This checkpoint carries no test-set latents and the dataset is not on disk, so there is no "
               "scatter to draw. The Train page can download the data.")
    st.stop()


def on_pick() -> None:
    pick = pick_from_points(selected_points("explore_scatter"))
    if pick is not None:
        state["pick"] = pick


def on_slider() -> None:
    state["pick"] = {"index": None, "z": [st.session_state["explore_z1"], st.session_state["explore_z2"]]}


def panel() -> None:
    """The decoded images of the pick, then its close-up (drawn first: they are what a click waits for)."""
    pick = state.get("pick")
    if pick is None:
        st.info("Click a point on the scatter, or move the sliders.")
    elif pick["index"] is not None:
        idx = pick["index"]
        label = ckpt.classes[int(view.labels[idx])]
        mu, logvar = view.z_mean[idx], view.z_logvar[idx]
        sigma = np.exp(0.5 * logvar)
        st.subheader(f"Test image #{idx} · class {label}")
        cols = st.columns(3)
        data = test_set(ckpt.dataset)
        if data is not None:
            pixel_image(cols[0], data.images[idx], "Original")
        else:
            cols[0].caption("Original: the dataset is not on disk (the Train page can download it).")
        # one decoder call for both images
        recon, mean = vc.decode(ckpt.model, np.stack([vc.sample_posterior(mu, logvar, seed=idx)[0], mu]))
        pixel_image(cols[1], recon, "Reconstruction (z ~ q(z|x))")
        pixel_image(cols[2], mean, "Decode of z_mean")
        shown = [data.images[idx], recon, mean] if data is not None else [recon, mean]
        png_download(st, shown, f"{ckpt.dataset}-test-{idx}.png", key="explore_png")
        st.plotly_chart(zoom_figure(view.z_mean, view.labels, mu, sigma), key="explore_zoom",
                        config={"staticPlot": True})
        st.caption(f"Close-up: z_mean = ({mu[0]:.2f}, {mu[1]:.2f}); the encoder is unsure by σ = ({sigma[0]:.2f}, "
                   f"{sigma[1]:.2f}), drawn as 1σ and 2σ ellipses of q(z|x).")
    else:
        z = pick["z"]
        near = int(vc.nearest(view.z_mean, z)[0])
        st.subheader(f"Location ({z[0]:.2f}, {z[1]:.2f})")
        cols = st.columns([1, 2])
        decoded = vc.decode(ckpt.model, z)[0]
        pixel_image(cols[0], decoded, "Decoded")
        png_download(cols[0], decoded, f"{ckpt.dataset}-location.png", key="explore_png")
        with cols[1]:
            st.plotly_chart(zoom_figure(view.z_mean, view.labels, z), key="explore_zoom",
                            config={"staticPlot": True})
        st.caption(f"The nearest test image is #{near} (class {ckpt.classes[int(view.labels[near])]}).")


@st.fragment
def explorer(plot, side) -> None:
    """The scatter and the pick's panel, drawn into the page's two columns. A click reruns
    only this: not the sidebar, not the sliders and toggle around it (the browser then
    redraws only what a click changes)."""
    with side:
        panel()
    with plot:
        # The figure depends only on the model and the layer toggle, never on the pick: it is
        # built once and cached, and re-sending it unchanged costs the browser only a reference
        # to the copy it already has (Plotly styles the clicked point itself).
        st.plotly_chart(shared_scatter(entry, view, manifold), key="explore_scatter", on_select=on_pick,
                        selection_mode="points", config={"scrollZoom": True, "displaylogo": False})
    update_link(entry)  # the URL follows the pick (app.py does this after full runs only)


plot, side = st.columns([3, 2], gap="large")
with side:
    # The sliders only ever change by hand: setting them from a click as well races with the
    # values the browser sends back, and a click would then turn into a stale location.
    e = float(view.extent)
    with st.container(border=True):
        st.caption("Decode any location")
        st.slider("z₁", -e, e, 0.0, step=0.01, key="explore_z1", on_change=on_slider)
        st.slider("z₂", -e, e, 0.0, step=0.01, key="explore_z2", on_change=on_slider)
with plot:
    manifold = st.toggle("Show decoded digits behind the points", key="explore_manifold",
                         help="The manifold: digits decoded on an even grid, aligned with the axes")
explorer(plot, side)
