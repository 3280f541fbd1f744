"""Shareable links: the view (ui/view_state.py: the model, its pin and its interpolation
endpoints) written into the URL's query parameters after every run, so opening a link
reproduces the view; a link opened is read into the view on the session's first run."""

from __future__ import annotations

from pathlib import PurePosixPath
from functools import lru_cache

import streamlit as st

from ui.link_format import parse_view, view_params
from ui.session_keys import LINK_APPLIED
from ui.state import ModelEntry, current_entry, latent_view, model_view, pretrained_entries, view_state


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
    codes = latent_view(target, target.id)
    z_means = {_link_name(target): codes.z_mean} if codes is not None else {}
    linked = parse_view(params, list(entries), z_means)
    view = view_state()
    if linked.model:
        view.show(target.id, linked.pick, linked.endpoints)
    else:  # the points are the first model's; the view shows it only when the link says so
        view.of(target.id).place(linked.pick, linked.endpoints)
    if linked.problems:
        st.toast("Part of this link was left out: " + "; ".join(linked.problems) + ".", icon=":material/link_off:")


def link_params() -> dict[str, str]:
    """The view as query parameters: a shipped model's name, its pin and its endpoints (nothing for a
    visitor's own model, which a link cannot open)."""
    entry = current_entry()
    name = _link_name(entry) if entry is not None else None
    if name is None:
        return {}
    shown = model_view(entry)
    return view_params(name, shown.pin, shown.endpoints)


def update_link() -> None:
    """Keep the URL in step with the view (called after every run and fragment run)."""
    params = link_params()
    if {key: st.query_params[key] for key in st.query_params} != params:
        st.query_params.from_dict(params)


# The link box reads the address bar itself: Explore's clicks rerun only its fragment, so a
# link written by the sidebar's last full run would name an old pick (the URL is kept current
# by update_link, in the fragment too). It follows the address bar while it is open.
_SHARE_HTML = """<div class="vx-share"><input class="vx-share-url" readonly aria-label="Link to this view">
<button class="vx-share-copy" type="button">Copy</button></div>"""
_SHARE_CSS = """.vx-share { display: flex; gap: 0.4rem; }
.vx-share-url { flex: 1; min-width: 0; font: inherit; font-size: 0.85rem; padding: 0.35rem 0.5rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: transparent; color: inherit; }
.vx-share-copy { font: inherit; font-size: 0.85rem; padding: 0.35rem 0.7rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: transparent; color: inherit; }"""
_SHARE_JS = """export default function ({ parentElement }) {
  const box = parentElement.querySelector('.vx-share-url'), copy = parentElement.querySelector('.vx-share-copy');
  const follow = () => { if (box.value !== window.location.href) box.value = window.location.href; };
  follow();
  const timer = setInterval(follow, 250);
  copy.onclick = async () => {
    follow();
    try { await navigator.clipboard.writeText(box.value); }
    catch (e) { box.select(); document.execCommand('copy'); }  // no clipboard API off https or localhost
    copy.textContent = 'Copied';
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
  };
  return () => clearInterval(timer);
}"""


@lru_cache(maxsize=1)
def _share_box():
    return st.components.v2.component("vae_explorer.share_link", html=_SHARE_HTML, css=_SHARE_CSS, js=_SHARE_JS)


def share_link(entry: ModelEntry) -> None:
    """A "Share this view" popover with the page's link (the address bar's) and a copy button."""
    with st.popover("Share this view", icon=":material/share:", width="stretch"):
        if _link_name(entry) is None:
            st.caption("Links can open the pretrained models only: a model you train or upload lives in your "
                       "session alone.")
            return
        st.caption("This link opens this page with the same model, picked point and interpolation endpoints.")
        _share_box()(key="share_link")
