"""What the app hands the browser as data (ui/export.py): the latents CSV and PNG data URIs."""

import base64
import csv
import io

import numpy as np
from PIL import Image

from ui.export import data_uri, latents_csv

Z = np.array([[0.5, -1.25], [2.0, 3.0], [-0.125, 0.0]], np.float32)


def test_latents_csv_has_one_row_per_image_with_class_names():
    rows = list(csv.reader(io.StringIO(latents_csv(Z, np.log(np.full_like(Z, 0.25)), np.array([2, 0, 1]),
                                                       ["zero", "one", "two"]).decode())))
    assert rows[0] == ["index", "label", "class", "z1", "z2", "sigma1", "sigma2"]
    assert rows[1] == ["0", "2", "two", "0.5", "-1.25", "0.5", "0.5"]
    assert len(rows) == 4 and rows[3][:3] == ["2", "1", "one"]


def test_a_data_uri_is_the_image_as_an_inline_png():
    image = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28).astype(np.uint8)
    uri = data_uri(image)
    assert uri.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert decoded.shape == (28, 28) and np.array_equal(decoded, image)
