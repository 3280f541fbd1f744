"""The first screen needs neither torch nor pandas (2-3 s of imports on 2 cores): a fresh
process runs Explore with NumPy alone, then its warm-up thread imports them and builds the
models, so the first click finds torch loaded."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers.data import ROOT

FIRST_RUN = r"""
import gc, importlib.abc, json, os, sys, threading
from streamlit.testing.v1 import AppTest

# As `streamlit run` does at start: the app's folder on sys.path for good. Without it each script
# run adds the folder and removes it again at its end, and a removal while the warm-up thread walks
# sys.path can skip site-packages ("No module named 'pandas'"), which no server ever sees.
sys.path.insert(0, os.getcwd())

first_import = {}  # module -> the thread that imported it first


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in ("torch", "pandas") and name not in sys.modules:
            first_import.setdefault(name, threading.current_thread().name)


sys.meta_path.insert(0, Watch())
at = AppTest.from_file("app.py", default_timeout=60).run()
planes = [el for el in at.get("bidi_component") if el.proto.component_name == "vae_explorer.latent_plane"]
warm_up = next(t for t in threading.enumerate() if t.name == "vae-explorer-warm-up")
warm_up.join(120)
from vae_core.checkpoint import Checkpoint
gc.unfreeze()  # (the warm-up froze what it loaded: gc.get_objects skips it)
built = sorted(c.dataset for c in gc.get_objects() if isinstance(c, Checkpoint) and c._model is not None)
print(json.dumps({"exceptions": [e.value for e in at.exception], "first_import": first_import, "built": built,
                  "planes": [json.loads(el.proto.bytes)["mode"] for el in planes], "alive": warm_up.is_alive()}))
"""


def test_explore_is_drawn_without_torch_and_torch_comes_after_in_the_background():
    result = subprocess.run([sys.executable, "-c", FIRST_RUN], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["exceptions"] == [] and report["planes"] == ["explore", "preview"]
    # Explore drawn by the script's thread without them; the warm-up imported both after it...
    assert report["first_import"] == {"pandas": "vae-explorer-warm-up", "torch": "vae-explorer-warm-up"}
    # ...and built the picker's two models, then ended
    assert report["built"] == ["fashion-mnist", "mnist"] and report["alive"] is False
