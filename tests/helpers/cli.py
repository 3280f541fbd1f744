"""The command line as a user runs it, in a fresh interpreter with the app's libraries
unimportable: Plotly, Streamlit and ui/ belong to the app, never to the command line."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers.data import ROOT

WITHOUT_THE_APP = """
import sys

APP_ONLY = {"plotly", "streamlit", "ui"}

class Unimportable:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in APP_ONLY:
            raise ImportError(f"{name} is not installed here")

sys.meta_path.insert(0, Unimportable())
from vae_core.cli import main
code = main(sys.argv[1:])
assert not {m.partition(".")[0] for m in sys.modules} & APP_ONLY
sys.exit(code)
"""


def run_without_the_app(*args: str) -> subprocess.CompletedProcess:
    """The command line's ``main(args)`` run from the project's folder, without the app's libraries."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", WITHOUT_THE_APP, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)
