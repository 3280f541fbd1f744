"""ui/streamlit_hooks.py against the installed Streamlit (and streamlit-drawable-canvas): each test
fails when an upgrade moves or changes the private piece a hook relies on."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import streamlit
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner.script_runner import ScriptRunner
from streamlit.testing.v1 import AppTest

from ui.navigation import _NAVIGATION_JS
from ui.streamlit_hooks import SCRIPT_NOT_RUNNING, SCRIPT_RUNNING, SCRIPT_STATE_ATTRIBUTE, leave_pages_folder_mode


def test_a_pages_folder_turns_the_legacy_mode_on_and_leaving_it_turns_it_off(tmp_path, monkeypatch):
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)  # (restored after the test)
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("")
    PagesManager(str(tmp_path / "app.py"))
    assert PagesManager.uses_pages_directory is True
    assert leave_pages_folder_mode() is True
    assert PagesManager.uses_pages_directory is False
    assert leave_pages_folder_mode() is False
    # the flag still decides whether a run executes the requested page's script on its own
    assert "PagesManager.uses_pages_directory" in inspect.getsource(ScriptRunner._run_script)


def _declare_and_mount(root: str) -> None:
    from pathlib import Path

    import streamlit as st

    from ui.streamlit_hooks import component_asset_folder, declare_component_asset_folder

    before = component_asset_folder("hooks_test.widget")
    declare_component_asset_folder("hooks_test", "widget", Path(root), "web")
    st.text(f"before: {before}; after: {component_asset_folder('hooks_test.widget')}")
    st.components.v2.component("hooks_test.widget", html="<p></p>", js="main-*.js")(key="widget")


def test_a_declared_asset_folder_is_where_a_component_s_script_is_found(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "main-0f3a.js").write_text("export default function () {}\n")
    at = AppTest.from_function(_declare_and_mount, args=(str(tmp_path),), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.text[0].value == f"before: None; after: {(tmp_path / 'web').resolve()}"
    (element,) = at.get("bidi_component")
    assert element.proto.component_name == "hooks_test.widget"
    assert element.proto.js_source_path.endswith("main-0f3a.js")


def test_streamlit_s_frontend_still_marks_its_app_with_the_script_state():
    js = Path(streamlit.__file__).parent / "static" / "static" / "js"
    bundle = "".join(p.read_text(encoding="utf-8", errors="replace") for p in js.glob("index.*.js"))
    assert f'"data-testid":`stApp`,"{SCRIPT_STATE_ATTRIBUTE}"' in bundle
    assert f"NOT_RUNNING=`{SCRIPT_NOT_RUNNING}`" in bundle and f"RUNNING=`{SCRIPT_RUNNING}`" in bundle
    # and the navigation's script watches exactly that attribute and those values
    assert f'["{SCRIPT_STATE_ATTRIBUTE}", "{SCRIPT_RUNNING}", "{SCRIPT_NOT_RUNNING}"]' in _NAVIGATION_JS


def _mount_a_recording_canvas() -> None:
    import streamlit as st
    import streamlit_drawable_canvas  # (imported in a run: its component needs the runtime's manifests)

    from ui.streamlit_hooks import mount_canvas_through

    def component(**kwargs):
        st.text(f"mounted {kwargs['key']} with {', '.join(sorted(kwargs))}")
        return {}

    # st_canvas reads the module global ``out`` when it runs (not a reference taken at import)
    st.text(f"reads out: {'out' in streamlit_drawable_canvas.st_canvas.__code__.co_names}")
    mount_canvas_through(component)
    result = streamlit_drawable_canvas.st_canvas(key="pad")
    st.text(f"no drawing: {not (result.json_data or {}).get('objects')}")


def test_the_drawable_canvas_mounts_the_component_it_is_given():
    library = sys.modules.get("streamlit_drawable_canvas")
    previous = library.out if library else None
    try:
        at = AppTest.from_function(_mount_a_recording_canvas, default_timeout=30).run()
    finally:  # the other tests' canvas keeps its own component
        if library is None:
            sys.modules.pop("streamlit_drawable_canvas", None)
        else:
            library.out = previous
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.text] == [
        "reads out: True",
        "mounted pad with data, default, height, key, on_backgroundFit_change, on_drawing_change, width",
        "no drawing: True"]
