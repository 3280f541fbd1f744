"""Files the latent plane's browser code fetches from the app's own server, once each.

Four Streamlit Components v2 asset folders, served side by side under
``/_stcore/bidi-components/<name>/`` (so the ES modules import each other by relative URLs, under
any ``server.baseUrlPath``):

- ``vae_explorer.latent_plane``: ``ui/latent_plane/web/``: the element's script
  ``component.js`` and its Plotly upgrade ``plotly.js`` (a folder of their own: this package's
  Python files are never served);
- ``vae_explorer.plane_web``: ``vae_core/web/``, the plane's browser modules (the room page runs
  the same files);
- ``vae_explorer.plotly``: the installed ``plotly`` package's own ``package_data`` folder, so the
  browser draws with the ``plotly.min.js`` that ships with it (never a CDN);
- ``vae_explorer.latent_plane_data``: a cache folder of content-addressed files, each a model's
  decoder export or its test-set codes. A name is the hash of its bytes, so a file never
  changes; a page fetches each once (vae_core/web/loader.js).

Streamlit serves every one of these as ``Cache-Control: public`` with neither a lifetime nor a
validator, so Chromium fetches them again on each visit (measured): a reload after an edit to a
script gets the new code, and no version in the URLs is needed.

Streamlit discovers asset folders in installed packages' ``pyproject.toml``; this app runs from
its checkout, so it declares the folders itself, on each runtime that mounts the plane (through
ui/streamlit_hooks.py: Streamlit has no public way).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import plotly
import vae_core
from streamlit import config

from ui.streamlit_hooks import component_asset_folder, declare_component_asset_folder

PROJECT = "vae_explorer"
PLANE, WEB, PLOTLY, DATA = "latent_plane", "plane_web", "plotly", "latent_plane_data"
PLANE_NAME, DATA_NAME = f"{PROJECT}.{PLANE}", f"{PROJECT}.{DATA}"
HERE = Path(__file__).resolve().parent
WEB_DIR = Path(vae_core.__file__).resolve().parent / "web"
PLOTLY_DIR = Path(plotly.__file__).resolve().parent
MAX_FILES = 256  # a few MB each: the oldest go first


def data_dir() -> Path:
    """The cache folder of the served files (one per user of the machine; made when first written)."""
    root = os.environ.get("VAE_ASSET_DIR") or os.path.join(tempfile.gettempdir(), f"vae-explorer-assets-{os.getuid()}")
    return Path(root)


def declare_asset_folder(component: str, root: Path, asset_dir: str) -> None:
    """Serve ``root / asset_dir`` as the asset folder of ``vae_explorer.<component>``, on the
    running Streamlit runtime (once per runtime)."""
    if component_asset_folder(f"{PROJECT}.{component}") is None:
        declare_component_asset_folder(PROJECT, component, root, asset_dir)


def register_assets() -> None:
    """Declare the plane's asset folders on the running Streamlit runtime (once per runtime)."""
    declare_asset_folder(PLANE, HERE, "web")
    declare_asset_folder(WEB, WEB_DIR, ".")
    declare_asset_folder(PLOTLY, PLOTLY_DIR, "package_data")
    if component_asset_folder(DATA_NAME) is None:
        folder = data_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # Streamlit checks that it exists
        declare_asset_folder(DATA, folder, ".")


def _url(component: str, file: str) -> str:
    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return ("/" + base if base else "") + f"/_stcore/bidi-components/{component}/{file}"


@functools.lru_cache(maxsize=64)
def _file_name(data: bytes, suffix: str) -> str:
    # cached: the same bytes object is published on every run (bytes keep their own hash, so a
    # hit costs no pass over 2 MB)
    return hashlib.sha256(data).hexdigest()[:24] + suffix


def publish(data: bytes, suffix: str = ".safetensors") -> str:
    """Serve ``data`` as a file named by its hash; returns its URL path (the same bytes, the same URL)."""
    folder = data_dir()
    name = _file_name(data, suffix)
    path = folder / name
    if path.is_file():
        os.utime(path)  # in use: the pruning below takes the files no page has asked for lately
    else:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        _prune(folder)
    return _url(DATA_NAME, name)


def _prune(folder: Path) -> None:
    files = sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                   key=lambda p: p.stat().st_mtime)
    for old in files[:-MAX_FILES]:
        old.unlink(missing_ok=True)
