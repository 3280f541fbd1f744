"""The app's own navigation in the sidebar: a link per page, drawn at once (see app.py).

A tiny component mends two things Streamlit's page links do:
- On a phone the sidebar lies over the page, and Streamlit leaves it open after a page link is
  tapped: the visitor would see the menu, not the page. It closes it then, as Streamlit's own
  navigation does.
- A page switch can be lost. While a busy server still holds the request, a widget's value sent
  just after the click (the drawing canvas, say, sends its strokes 200 ms after the pen lifts)
  carries the page being left, and the server merges the two requests keeping the newer one's
  page: the visitor stays where they were (about once in 6 minutes of 8 visitors in the load
  test). When the app has settled on the old page after a click, the component clicks the link
  again (twice at most).
"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

# One listener per page load, however often the component is mounted. `clicked` is the last page
# link clicked, until its page shows; a link clicked again by the listener keeps its count of tries.
# Streamlit marks its app with the script's state (data-test-script-state). A run that ends while
# the address is still the old page's was the old page's rerun: the switch was lost. (The address
# follows a moment after a run starts, hence the half second.) No run at all within 10 s: the
# request never came through.
_NAVIGATION_JS = """export default function () {
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
      const state = app.dataset.testScriptState;
      if (state === 'running') ran = true;
      else if (state === 'notRunning' && ran) timer = setTimeout(again, 500);
    });
    observer.observe(app, { attributes: true, attributeFilter: ['data-test-script-state'] });
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
}"""


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
