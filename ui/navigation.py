"""The app's own navigation in the sidebar: a link per page, drawn at once (see app.py).

On a phone the sidebar lies over the page, and Streamlit leaves it open after a page link is
tapped: the visitor would see the menu, not the page. A tiny component closes it then, as
Streamlit's own navigation does.
"""

from __future__ import annotations

from functools import lru_cache

import streamlit as st

# Closes the sidebar after a tap on a link, when it covers the page (narrow screens). One
# listener per page load, however often the component is mounted.
_CLOSE_ON_NAVIGATE_JS = """export default function () {
  if (window.__vxCloseOnNavigate) return;
  window.__vxCloseOnNavigate = true;
  document.addEventListener('click', (e) => {
    if (!e.target.closest || !e.target.closest('.st-key-app_navigation a') || window.innerWidth >= 768) return;
    setTimeout(() => { const b = document.querySelector('[data-testid=stSidebarCollapseButton] button'); if (b) b.click(); }, 0);
  }, true);
}"""


@lru_cache(maxsize=1)
def _close_on_navigate():
    return st.components.v2.component("vae_explorer.close_on_navigate", html="", js=_CLOSE_ON_NAVIGATE_JS)


def app_navigation(pages: list) -> None:
    """The page links, at the top of the sidebar, then a divider."""
    with st.sidebar.container(key="app_navigation"):
        for entry in pages:
            st.page_link(entry)
        _close_on_navigate()(key="close_on_navigate")
        st.divider()
