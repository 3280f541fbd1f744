"""The app's hooks into private internals, one per concern, where Streamlit 1.67 has no public way.

requirements.txt pins Streamlit to the minor version these were read from (1.67), and
tests/app/test_streamlit_hooks.py fails when an upgrade breaks one of them:

- the legacy ``pages/`` folder mode (``PagesManager.uses_pages_directory``): only ``st.navigation``
  turns it off, and a sub-page's first run on a fresh server comes before app.py's call;
- component asset folders (the bidi component manager and its manifest types): Streamlit declares
  them only from an installed package's ``pyproject.toml``, and the app runs from its checkout;
- the app root's ``data-test-script-state`` attribute: a component's script has no public event
  for "the script run ended";
- ``streamlit_drawable_canvas.out``: the library's ``st_canvas`` mounts that module global, with no
  parameter to mount another component.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

# The attribute Streamlit's frontend sets on the app root ([data-testid=stApp]), and its values
# while a script runs and after it ended.
SCRIPT_STATE_ATTRIBUTE = "data-test-script-state"
SCRIPT_RUNNING, SCRIPT_NOT_RUNNING = "running", "notRunning"


def leave_pages_folder_mode() -> bool:
    """Turn Streamlit's legacy ``pages/`` folder mode off; whether it was on (then this run
    executed a page's script on its own, without app.py, and should rerun)."""
    from streamlit.runtime.pages_manager import PagesManager

    if not PagesManager.uses_pages_directory:
        return False
    PagesManager.uses_pages_directory = False
    return True


def component_asset_folder(name: str) -> Path | None:
    """The asset folder declared for the component ``<project>.<component>`` on the running
    runtime, or None."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager

    return get_bidi_component_manager().get_component_asset_root(name)


def declare_component_asset_folder(project: str, component: str, root: Path, asset_dir: str) -> None:
    """Declare ``root / asset_dir`` the asset folder of ``<project>.<component>`` on the running
    runtime, as an installed package's ``[[tool.streamlit.component.components]]`` would."""
    from streamlit.components.v2.get_bidi_component_manager import get_bidi_component_manager
    from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest

    manifest = ComponentManifest(project, "1", [ComponentConfig(component, asset_dir=asset_dir)])
    get_bidi_component_manager().register_from_manifest(manifest, root)


def mount_canvas_through(component: Callable) -> None:
    """Make ``streamlit_drawable_canvas.st_canvas`` mount ``component`` in place of its own
    (called with the library's arguments: ``data``, ``key``, ``default``, the callbacks, the size)."""
    import streamlit_drawable_canvas

    streamlit_drawable_canvas.out = component
