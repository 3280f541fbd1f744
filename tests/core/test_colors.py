"""The colours every plane and picture shares, defined once in vae_core/web/colors.js: Python reads
that literal (vae_core.images.plane_colors), and no other browser module writes a colour of it."""

from __future__ import annotations

import re

import pytest

from helpers.data import ROOT
from vae_core.images import ABOVE_COLOR, COLORS_FILE, PALETTE, PICK_COLOR, SCORE_SCALE, plane_colors

HEX = re.compile(r"#[0-9A-Fa-f]{6}")


def test_python_reads_the_colours_of_colors_js():
    colors = plane_colors()
    assert colors["pick"] == PICK_COLOR == "#D55E00" and colors["above"] == ABOVE_COLOR == "#000000"
    assert (colors["a"], colors["b"], colors["ink"]) == ("#117733", "#AA3377", "#000000")
    assert PALETTE == tuple(colors["palette"]) and len(set(PALETTE)) == 10 and all(HEX.fullmatch(c) for c in PALETTE)
    stops = [stop for stop, _ in SCORE_SCALE]
    assert stops[0] == 0.0 and stops[-1] == 1.0 and stops == sorted(stops)
    assert SCORE_SCALE[0][1] == "#440154" and SCORE_SCALE[-1][1] == "#fde725"  # Viridis: dark purple to yellow
    assert all(HEX.fullmatch(color) for _, color in SCORE_SCALE)


@pytest.mark.parametrize("text", ["export const COLORS = null;\n", "// the colours\n",
                                  'export const COLORS = {\n  "pick": "#D55E00",\n};\n'],
                         ids=["no-object", "no-literal", "not-json"])
def test_a_colors_file_without_its_literal_is_one_clear_error(tmp_path, text):
    broken = tmp_path / "colors.js"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(RuntimeError) as caught:
        plane_colors(broken)
    assert str(caught.value) == ("colors.js holds no JSON literal `export const COLORS = {...};`: this installation "
                                 "of vae_core is incomplete (reinstall it)")


def test_no_browser_module_writes_a_colour_of_its_own_copy():
    draw = (ROOT / "vae_core" / "web" / "draw.js").read_text(encoding="utf-8")
    assert 'import { COLORS } from "./colors.js";' in draw
    assert not re.search(r"""const\s+\w+\s*=\s*["']#""", draw)  # no colour constant defined here
    named = {c.lower() for c in HEX.findall(COLORS_FILE.read_text(encoding="utf-8"))}
    modules = [*(ROOT / "vae_core" / "web").rglob("*.js"), *(ROOT / "ui" / "latent_plane" / "web").glob("*.js")]
    for module in modules:
        if module != COLORS_FILE:
            written = {c.lower() for c in HEX.findall(module.read_text(encoding="utf-8"))}
            assert not written & named, (module.name, written & named)
