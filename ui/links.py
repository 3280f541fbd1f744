"""Shareable links: the model, the picked point and the interpolation endpoints live in
the URL's query parameters, so opening a link reproduces the view."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlencode

import streamlit as st

from ui.link_format import parse_view, view_params
from ui.session_keys import LINK_APPLIED, SELECT_MODEL
from ui.state import ModelEntry, latent_view, model_state, pretrained_entries


def _link_name(entry: ModelEntry) -> str | None:
    """Only the shipped models can be linked: a visitor's own models live in their session."""
    return PurePosixPath(entry.id).stem if entry.source == "pretrained" else None


def apply_link() -> None:
    """On a session's first run, take the view the URL describes."""
    if st.session_state.get(LINK_APPLIED):
        return
    st.session_state[LINK_APPLIED] = True
    params = {key: st.query_params[key] for key in st.query_params}
    if not params:
        return
    entries = {_link_name(e): e for e in pretrained_entries()}
    if not entries:
        return
    target = entries.get(params.get("model")) or next(iter(entries.values()))
    view = latent_view(target, target.id)
    z_means = {_link_name(target): view.z_mean} if view is not None else {}
    linked = parse_view(params, list(entries), z_means)
    if linked.model:
        st.session_state[SELECT_MODEL] = target.id
    state = model_state(target)
    if linked.pick:
        state["pick"] = linked.pick
    if linked.endpoints:
        state.setdefault("endpoints", {}).update(linked.endpoints)
    if linked.problems:
        st.toast("Part of this link was left out: " + "; ".join(linked.problems) + ".", icon=":material/link_off:")


def link_params(entry: ModelEntry) -> dict[str, str]:
    name = _link_name(entry)
    if name is None:
        return {}
    state = model_state(entry)
    return view_params(name, state.get("pick"), state.get("endpoints"))


def update_link(entry: ModelEntry | None) -> None:
    """Keep the URL in step with the view (called after every run and fragment run)."""
    params = link_params(entry) if entry is not None else {}
    if {key: st.query_params[key] for key in st.query_params} != params:
        st.query_params.from_dict(params)


def share_link(entry: ModelEntry) -> None:
    """A "Share this view" popover with the link in a code box (its copy button copies it)."""
    with st.popover("Share this view", icon=":material/share:", width="stretch"):
        params = link_params(entry)
        if not params:
            st.caption("Links can open the pretrained models only: a model you train or upload lives in your "
                       "session alone.")
            return
        url = (st.context.url or "") + "?" + urlencode(params)
        st.caption("This link opens this page with the same model, picked point and interpolation endpoints. "
                   "Copy it with the button at the right of the box.")
        st.code(url, language=None, wrap_lines=True)
