"""The room page's styles in the browser: vae_core/web/random.js (roomStyles) draws exactly what
vae_core.room.room_styles draws, so a seed makes the same class images on a phone as in Python."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.data import ROOT
from helpers.static_web import blank_page, static_server
from vae_core.room import room_styles

WEB = ROOT / "vae_core" / "web"


@pytest.fixture(scope="module")
def page():
    with static_server(WEB) as url, blank_page(url) as page:
        yield page


def browser_styles(page, seed: int, n: int) -> np.ndarray:
    values = page.evaluate("async ([seed, n]) => Array.from((await import('./random.js')).roomStyles(seed, n))",
                           [seed, n])
    return np.array(values, np.float32).reshape(-1, 2)


@pytest.mark.parametrize("seed, n", [(0, 3), (0, 2000), (1, 7), (4, 100), (2**31, 500), (2**32 - 1, 500),
                                     (123_456_789, 1000), (5, 0)])
def test_the_browser_draws_the_same_styles_as_python(page, seed, n):
    ours = browser_styles(page, seed, n)
    assert ours.shape == (n, 2)
    assert np.array_equal(ours, room_styles(seed, n))  # bit for bit, in float32


def test_bad_arguments_are_refused_in_the_browser(page):
    messages = page.evaluate("""async () => {
        const { roomStyles } = await import('./random.js');
        const tries = [[-1, 5], [2 ** 32, 5], [1.5, 5], ["1", 5], [1, -1], [1, 100001]];
        return tries.map(([seed, n]) => { try { roomStyles(seed, n); return null; } catch (e) { return e.message; } });
    }""")
    assert messages == ["the seed must be a whole number from 0 to 2^32 - 1"] * 4 + \
        ["the number of styles must be a whole number from 0 to 100,000"] * 2
