import base64
import io

import numpy as np
import pytest
from PIL import Image

from vae_core.images import data_uri
from vae_core.scrubber import scrubber_figure


def pixels(uri: str) -> np.ndarray:
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


@pytest.fixture
def frames():
    return np.random.default_rng(0).integers(0, 256, (7, 28, 28), dtype=np.uint8)


def test_data_uri_is_a_lossless_png_of_the_image(frames):
    np.testing.assert_array_equal(pixels(data_uri(frames[3])), frames[3])


def test_every_step_carries_its_frame_and_title(frames):
    titles = [f"frame {k}" for k in range(7)]
    fig = scrubber_figure(frames, titles, active=2).to_plotly_json()
    slider = fig["layout"]["sliders"][0]
    assert slider["active"] == 2 and len(slider["steps"]) == 7
    for k, step in enumerate(slider["steps"]):
        # a relayout of the layout image only: the browser swaps it without a replot or the server
        assert step["method"] == "relayout"
        np.testing.assert_array_equal(pixels(step["args"][0]["images[0].source"]), frames[k])
        assert step["args"][0]["title.text"] == titles[k]
    image = fig["layout"]["images"][0]
    np.testing.assert_array_equal(pixels(image["source"]), frames[2])
    assert fig["layout"]["title"]["text"] == "frame 2"
    assert (image["sizex"], image["sizey"]) == (28, 28)  # one axis unit per pixel


def test_active_step_is_clipped_and_bad_input_refused(frames):
    fig = scrubber_figure(frames[:3], ["a", "b", "c"], active=10)
    assert fig.layout.sliders[0].active == 2
    with pytest.raises(ValueError, match="titles"):
        scrubber_figure(frames, ["only one"])
    with pytest.raises(ValueError, match="uint8"):
        scrubber_figure(frames[0], ["x"] * 28)
