"""Explore: the test set's latent codes. Point anywhere to see it decoded, live in the browser;
click to pin a point (or any spot) and see its images and its encoder's uncertainty."""

import numpy as np
import streamlit as st

import vae_core as vc
from ui.latent_plane import ExplorePayload, PreviewPayload, event, latent_plane, parse_pick
from ui.links import update_link
from ui.state import model_view, test_set
from ui.widgets import pixel_image, plane_model_of, png_download, require_model, require_view

entry = require_model()
ckpt, shown = entry.ckpt, model_view(entry)  # the view's pin of this model
st.title("Explore the latent space")
st.caption("Each dot is a test image placed at its code z_mean. Point anywhere to see that spot decoded; click "
           "(or tap) to pin it. The chips under the plane hide and show classes.")
view = require_view(entry, "This checkpoint carries no test-set latents and the dataset is not on disk, so there "
                           "is no scatter to draw. The Train page can download the data.")


def on_pick() -> None:
    pick = parse_pick(event("explore_plane", "pick"), view.z_mean)
    if pick is not None:
        shown.pin = pick


def panel() -> None:
    """The pinned point's images, then its close-up (drawn first: they are what a click waits for)."""
    pick = shown.pin
    if pick is None:
        st.info("Click (or tap) a point or any spot on the plane to pin it here.")
    elif pick["index"] is not None:
        idx = pick["index"]
        label = ckpt.classes[int(view.labels[idx])]
        mu, logvar, sigma = view.z_mean[idx], view.z_logvar[idx], view.sigma(idx)
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
        pictures = [data.images[idx], recon, mean] if data is not None else [recon, mean]
        png_download(st, pictures, f"{ckpt.dataset}-test-{idx}.png", key="explore_png")
        st.caption(f"z_mean = ({mu[0]:.2f}, {mu[1]:.2f}); the encoder is unsure by σ = ({sigma[0]:.2f}, "
                   f"{sigma[1]:.2f}): the close-up above draws its 1σ and 2σ ellipses of q(z|x).")
    else:
        z = pick["z"]
        near = int(vc.nearest(view.z_mean, z)[0])
        st.subheader(f"Location ({z[0]:.2f}, {z[1]:.2f})")
        decoded = vc.decode(ckpt.model, z)[0]
        pixel_image(st, decoded, "Decoded")
        png_download(st, decoded, f"{ckpt.dataset}-location.png", key="explore_png")
        st.caption(f"The nearest test image is #{near} (class {ckpt.classes[int(view.labels[near])]}).")


@st.fragment
def explorer() -> None:
    """The plane and the pin's panel. A click reruns only this (not the sidebar); hovering
    reruns nothing at all: the browser decodes."""
    plot, side = st.columns([3, 2], gap="large")
    model, pin = plane_model_of(entry, view), shown.pin
    with plot:
        noun = "digits" if ckpt.dataset == "mnist" else "images"
        latent_plane("explore_plane", ExplorePayload(model=model, pin=pin, group="explore", separate_preview=True,
                                                     manifold_label=f"Show decoded {noun} behind the points"),
                     on_pick=on_pick)
    with side:
        # the spot under the cursor, and the pin's close-up
        latent_plane("explore_preview", PreviewPayload(model=model, pin=pin, group="explore"))
        panel()
    update_link()  # the URL follows the pin (app.py does this after full runs only)


explorer()
