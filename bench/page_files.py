"""Which files a page needs, found the way a browser finds them: the HTML's ``<script src>``,
``<link href>`` and ``<img src>``, the ES modules' static ``import``/``export ... from``
(recursively), and a room manifest's data files (``room.json``: ``decoder``, ``points``,
``conditional``). Parsing is pure; ``discover`` fetches the texts it parses.

Each file gets a kind: "html", "style", "script", "preload", "icon", "image", "manifest", or the manifest
field that named it. A room page is tap-ready with every kind but "conditional".
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Callable
from urllib.parse import urljoin, urlsplit

from vae_core.room import FILE_KINDS

AFTER_TAP_READY = ("conditional",)
INLINE_SCHEMES = ("data", "blob", "javascript", "about")  # what a phone may still be loading when its first tap decodes
# <link rel> values a browser fetches at once, and the kind of file each names (a module preload is
# a script whose imports are followed too)
LINK_KINDS = {"stylesheet": "style", "modulepreload": "script", "preload": "preload", "icon": "icon"}

# A static import or re-export at the start of a statement (a line, or after ";" or "}" in
# minified code): `import x from "./a.js"`, `import "./b.js"`, `import{a as b}from"./c.js"`,
# `export * from './d.js'`. Dynamic `import("...")` and `import.meta` are not matched: a browser
# fetches those only when the code runs.
STATIC_IMPORT = re.compile(r"""(?:^|[;}])\s*(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?(["'])([^"'\n]+)\1""",
                           re.MULTILINE)


@dataclass
class HtmlRefs:
    """What an HTML page refers to: its ``<base href>`` and (url, kind) pairs in document order,
    plus the text of its inline module scripts."""

    base: str | None = None
    refs: list[tuple[str, str]] = field(default_factory=list)
    inline_modules: list[str] = field(default_factory=list)


class _HtmlRefParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = HtmlRefs()
        self._module_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.found.base is None:
            self.found.base = a["href"]
        elif tag == "script":
            if a.get("src"):
                self.found.refs.append((a["src"], "script"))
            self._module_script = not a.get("src") and a.get("type") == "module"
        elif tag == "link" and a.get("href"):
            rels = a.get("rel", "").lower().split()
            kind = next((LINK_KINDS[r] for r in rels if r in LINK_KINDS), None)
            if kind:
                self.found.refs.append((a["href"], kind))
        elif tag == "img" and a.get("src") and not a["src"].startswith("data:"):
            self.found.refs.append((a["src"], "image"))

    def handle_data(self, data: str) -> None:
        if self._module_script and data.strip():
            self.found.inline_modules.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._module_script = False


def html_refs(text: str) -> HtmlRefs:
    """The files an HTML page refers to, in document order."""
    parser = _HtmlRefParser()
    parser.feed(text)
    parser.close()
    return parser.found


def module_imports(text: str) -> list[str]:
    """The specifiers of an ES module's static imports and re-exports that name a file
    (relative, absolute or a URL; bare names such as ``"three"`` need an import map and are left out)."""
    specs = [m.group(2) for m in STATIC_IMPORT.finditer(text)]
    return [s for s in specs if s.startswith(("./", "../", "/")) or "://" in s]


def manifest_files(text: str) -> dict[str, str]:
    """The data files a room manifest names, by field (a field that is null or absent is left out)."""
    manifest = json.loads(text)
    if not isinstance(manifest, dict):
        raise ValueError("the room manifest is not a JSON object")
    return {name: manifest[name] for name in FILE_KINDS if isinstance(manifest.get(name), str)}


@dataclass
class PageFiles:
    """Every file of a page, in the order a browser would ask for them: (URL, kind)."""

    page: str
    files: list[tuple[str, str]]
    other_hosts: list[str] = field(default_factory=list)  # referenced URLs on another host (not fetched)

    def urls(self, tap_ready_only: bool = False) -> list[str]:
        return [url for url, kind in self.files if not (tap_ready_only and kind in AFTER_TAP_READY)]

    def paths(self, tap_ready_only: bool = False) -> list[str]:
        """The files' paths (with their query), as an HTTP request names them."""
        return [_path(url) for url in self.urls(tap_ready_only)]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def discover(page_url: str, get_text: Callable[[str], str], manifest: str | None = "room.json",
             max_files: int = 500) -> PageFiles:
    """Every file of the page at ``page_url``: the HTML, what it refers to, the modules' static
    imports (recursively) and, when ``manifest`` is given, that manifest (relative to the page's
    base) and the data files it names. ``get_text(url)`` returns a file's text; only the HTML, the
    scripts and the manifest are fetched. Files on another host are listed in ``other_hosts``."""
    html = html_refs(get_text(page_url))
    base = urljoin(page_url, html.base) if html.base else page_url
    origin = _origin(page_url)
    files: dict[str, str] = {page_url: "html"}
    other: list[str] = []

    def add(url: str, kind: str) -> bool:
        url = url.split("#", 1)[0]
        if urlsplit(url).scheme in INLINE_SCHEMES:  # carried in the page itself: nothing to fetch
            return False
        if _origin(url) != origin:
            if url not in other:
                other.append(url)
            return False
        if url in files:
            return False
        if len(files) >= max_files:
            raise ValueError(f"the page refers to more than {max_files} files")
        files[url] = kind
        return True

    todo = [(urljoin(base, ref), kind) for ref, kind in html.refs]
    todo += [(urljoin(base, spec), "script") for text in html.inline_modules for spec in module_imports(text)]
    while todo:
        url, kind = todo.pop(0)
        if add(url, kind) and kind == "script":
            todo += [(urljoin(url, spec), "script") for spec in module_imports(get_text(url))]
    if manifest is not None:
        manifest_url = urljoin(base, manifest)
        add(manifest_url, "manifest")
        for name, ref in manifest_files(get_text(manifest_url)).items():
            add(urljoin(manifest_url, ref), name)
    return PageFiles(page_url, list(files.items()), other)


def fetch(url: str, timeout: float = 30.0) -> tuple[str, str]:
    """(the URL it ended at after redirects, its text) over HTTP, uncompressed, never through a
    proxy (the bench talks to 127.0.0.1)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    try:
        with opener.open(request, timeout=timeout) as reply:
            return reply.geturl(), reply.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as e:
        raise OSError(f"GET {_path(url)}: HTTP {e.code}") from None


def fetch_text(url: str) -> str:
    """A file's text over HTTP (see ``fetch``)."""
    return fetch(url)[1]
