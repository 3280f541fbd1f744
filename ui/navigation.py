"""The app's own navigation in the sidebar: a link per page, drawn at once (see app.py).

A tiny component mends two things Streamlit's page links do:
- on a phone it closes the sidebar after a tap, as Streamlit's own navigation does (open, it hides the page);
- when the app settles on the old page after a click, it clicks the link again (twice at most): on a busy
  server a widget's late value, which carries the page being left, can be merged over the page switch.
"""

from __future__ import annotations

import json
from functools import lru_cache

import streamlit as st

from ui.streamlit_hooks import SCRIPT_NOT_RUNNING, SCRIPT_RUNNING, SCRIPT_STATE_ATTRIBUTE

# One listener per page load, however often the component is mounted. `clicked` is the last page
# link clicked, until its page shows; a link clicked again by the listener keeps its count of tries.
# A run that ends while the address is still the old page's was the old page's rerun: the switch
# was lost (the address follows a run's start by a moment, hence the half second; no run within
# 10 s: the request never came through).
_NAVIGATION_JS = """export default function () {
  const [STATE, RUNNING, NOT_RUNNING] = SCRIPT_STATES;
  if (window.__vxNavigation) return;
  window.__vxNavigation = true;
  let clicked = null;
  const links = () => [...document.querySelectorAll('.st-key-app_navigation a')];
  const pathOf = (a) => new URL(a.href, location.href).pathname;
  const watch = (mine) => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app) return;
    let ran = false, timer = null;
    const done = () => clicked !== mine || location.pathname === mine.path;
    const again = () => {
      observer.disconnect();
      const link = links().find((a) => pathOf(a) === mine.path);
      if (done() || !link || mine.tries >= 2) return;
      clicked = { path: mine.path, tries: mine.tries + 1 };
      link.click();
    };
    const observer = new MutationObserver(() => {
      clearTimeout(timer);
      if (done()) { observer.disconnect(); return; }
      const state = app.getAttribute(STATE);
      if (state === RUNNING) ran = true;
      else if (state === NOT_RUNNING && ran) timer = setTimeout(again, 500);
    });
    observer.observe(app, { attributes: true, attributeFilter: [STATE] });
    timer = setTimeout(again, 10000);
  };
  document.addEventListener('click', (e) => {
    const link = e.target.closest && e.target.closest('.st-key-app_navigation a');
    if (!link) return;
    if (e.isTrusted && window.innerWidth < 768) setTimeout(() => {
      const b = document.querySelector('[data-testid=stSidebarCollapseButton] button'); if (b) b.click(); }, 0);
    const path = pathOf(link);
    clicked = { path, tries: !e.isTrusted && clicked && clicked.path === path ? clicked.tries : 0 };
    if (location.pathname !== path) watch(clicked);
  }, true);
}""".replace("SCRIPT_STATES", json.dumps([SCRIPT_STATE_ATTRIBUTE, SCRIPT_RUNNING, SCRIPT_NOT_RUNNING]))


@lru_cache(maxsize=1)
def _navigation_helper():
    return st.components.v2.component("vae_explorer.navigation_helper", html="", js=_NAVIGATION_JS)


def app_navigation(pages: list) -> None:
    """The page links, at the top of the sidebar, then a divider."""
    with st.sidebar.container(key="app_navigation"):
        for entry in pages:
            st.page_link(entry)
        _navigation_helper()(key="navigation_helper")
        st.divider()
