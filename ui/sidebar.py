"""The sidebar every page shares: model picker, upload, and a short model card."""

from __future__ import annotations

import streamlit as st

import vae_core as vc
from ui.state import DATASET_TITLES, ModelEntry, add_user_model, all_entries, current_entry

MAX_UPLOAD_MB = 50


def _on_upload() -> None:
    upload = st.session_state.get("upload")
    if upload is None:
        return
    try:
        ckpt = vc.load_checkpoint(upload.getvalue())
    except vc.VAEError as e:
        st.session_state["upload_error"] = f"{upload.name}: {e}"
        return
    st.session_state.pop("upload_error", None)
    add_user_model(ckpt, "uploaded", f"{upload.name} (uploaded)")


def model_card(entry: ModelEntry) -> None:
    ckpt, m = entry.ckpt, entry.ckpt.metrics
    config = ckpt.config
    layers = "-".join(str(h) for h in config.hidden)
    st.caption(f"**{DATASET_TITLES.get(ckpt.dataset, ckpt.dataset)}** · {config.arch.upper()} {layers} · "
               f"{config.activation} · latent size {config.latent_dim}"
               + (f" · {len(ckpt.history)} epochs" if ckpt.history else ""))
    if "neg_elbo" in m:
        knn = f"{100 * m['knn_accuracy']:.1f} %" if "knn_accuracy" in m else "–"
        st.markdown(f"| −ELBO | −log p(x) | k-NN |\n|:-:|:-:|:-:|\n| {m['neg_elbo']:.1f} | {m['iwae_nll']:.1f} | {knn} |",
                    help="Test-set figures in nats per image (lower is better): the negative ELBO, an "
                         f"importance-weighted estimate of −log p(x) (K={m.get('iwae_k', 100)}), and how often "
                         "the 5 nearest training codes share a test image's class.")
    if entry.source != "pretrained":
        st.download_button("Download checkpoint", vc.checkpoint_bytes(ckpt), file_name=f"{ckpt.dataset}-vae.safetensors",
                           mime="application/octet-stream", on_click="ignore", icon=":material/download:",
                           key=f"download-{entry.id}")


def model_sidebar() -> ModelEntry | None:
    with st.sidebar:
        entries = {e.id: e for e in all_entries()}
        entry = current_entry()
        if entry is None:
            st.info("No model yet: train one on the Train page or upload a checkpoint.")
        else:
            st.selectbox("Model", list(entries), key="model_id", format_func=lambda i: entries[i].label)
            entry = entries[st.session_state["model_id"]]
            model_card(entry)
        with st.expander("Upload a checkpoint"):
            st.file_uploader("A .safetensors checkpoint saved by this app or its CLI", type=["safetensors"],
                             key="upload", on_change=_on_upload,
                             help=f"Up to {MAX_UPLOAD_MB} MB. Checkpoints are read as plain tensors; nothing in "
                                  "them is ever executed.")
            if "upload_error" in st.session_state:
                st.error(st.session_state["upload_error"])
    return entry
