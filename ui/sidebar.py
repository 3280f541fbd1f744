"""The sidebar every page shares: model picker, upload, and a short model card."""

from __future__ import annotations

import streamlit as st

import vae_core as vc
from ui.export import latents_csv
from ui.invite import invite_button
from ui.links import share_link
from ui.scores import metric
from ui.session_keys import MODEL_PICKER, UPLOAD_ERROR
from ui.state import (DATASET_TITLES, ModelEntry, add_user_model, all_entries, current_entry, latent_view,
                      pretrained_failures, take_notice, view_state)
from vae_core.checkpoint import MAX_UPLOAD_MB


def _on_upload() -> None:
    upload = st.session_state.get("upload")
    if upload is None:
        return
    try:
        # Read from memory; the file's name only ever labels it (it is never a path).
        ckpt = vc.load_checkpoint(upload.getvalue(), name=upload.name)
        if ckpt.config.latent_dim != 2:
            raise vc.CheckpointError(f"{upload.name} has a {ckpt.config.latent_dim}-D latent space; this explorer "
                                     "shows 2-D latent spaces only (train one with --latent-dim 2)")
        if ckpt.config.num_classes:
            raise vc.CheckpointError(f"{upload.name} is a conditional VAE, which needs a class for every image it "
                                     "draws; the explorer's pages show unconditional models (Generate already "
                                     "makes each class with the shipped conditional VAE)")
    except vc.VAEError as e:
        st.session_state[UPLOAD_ERROR] = str(e)
        return
    st.session_state.pop(UPLOAD_ERROR, None)
    add_user_model(ckpt, "uploaded", f"{upload.name} (uploaded)")


def model_card(entry: ModelEntry) -> None:
    ckpt = entry.ckpt
    stem = ckpt.dataset if ckpt.dataset in DATASET_TITLES else "model"  # never a name taken from a file
    config = ckpt.config
    layers = "-".join(str(h) for h in config.hidden)
    st.caption(f"**{DATASET_TITLES.get(ckpt.dataset, ckpt.dataset)}** · {config.arch.upper()} {layers} · "
               f"{config.activation} · latent size {config.latent_dim}"
               + ("" if config.variational else " · plain autoencoder (no ELBO)")
               + (f" · {len(ckpt.history)} epochs" if ckpt.history else ""))
    elbo, nll, knn, k = (metric(entry, key) for key in ("neg_elbo", "iwae_nll", "knn_accuracy", "iwae_k"))
    if elbo is not None and nll is not None:
        knn = f"{100 * knn:.1f} %" if knn is not None else "–"
        st.markdown(f"| −ELBO | −log p(x) | k-NN |\n|:-:|:-:|:-:|\n| {elbo:.1f} | {nll:.1f} | {knn} |",
                    help="Test-set figures in nats per image (lower is better): the negative ELBO, an "
                         f"importance-weighted estimate of −log p(x) (K={k or 100:.0f}), and how often "
                         "the 5 nearest training codes share a test image's class.")
    # Files are made only when a button is pressed (a callable), not on every run.
    view = latent_view(entry, entry.id)
    if view is not None:
        st.download_button("Test-set latents (CSV)", lambda: latents_csv(view.z_mean, view.z_logvar, view.labels,
                                                                           ckpt.classes),
                           file_name=f"{stem}-latents.csv", mime="text/csv", on_click="ignore",
                           icon=":material/table:", key=f"latents-{entry.id}",
                           help="One row per test image: index, label, class, z_mean and σ")
    if entry.source != "pretrained":
        st.download_button("Download checkpoint", lambda: vc.checkpoint_bytes(ckpt),
                           file_name=f"{stem}-vae.safetensors",
                           mime="application/octet-stream", on_click="ignore", icon=":material/download:",
                           key=f"download-{entry.id}")


def _on_model_picked() -> None:
    view_state().show(st.session_state[MODEL_PICKER])


def model_sidebar() -> None:
    """The sidebar; the picker shows the view's model, and a model picked there is the view's."""
    if notice := take_notice():
        st.toast(notice, icon=":material/inventory_2:")
    with st.sidebar:
        refused = st.session_state.get(UPLOAD_ERROR)
        if refused:  # at the top, in view: beside the uploader it fell below the fold
            st.error(refused)
        for failure in pretrained_failures():
            st.error(failure)
        entries = {e.id: e for e in all_entries()}
        entry = current_entry()
        if entry is None:
            st.info("No model yet: train one on the Train page or upload a checkpoint.")
        else:
            st.session_state[MODEL_PICKER] = entry.id  # (before the picker exists in this run)
            st.selectbox("Model", list(entries), key=MODEL_PICKER, format_func=lambda i: entries[i].label,
                         on_change=_on_model_picked)
            model_card(entry)
            share_link(entry)
            invite_button(entry)
        with st.expander("Upload a checkpoint", expanded=refused is not None):
            # any file is taken: the loader names what a wrong one is (a PyTorch .pt, a pickle, an image, ...)
            st.file_uploader("A .safetensors checkpoint saved by this app or its CLI", key="upload",
                             on_change=_on_upload,
                             help=f"Up to {MAX_UPLOAD_MB} MB. Checkpoints are read as plain tensors; nothing in "
                                  "them is ever executed.")
