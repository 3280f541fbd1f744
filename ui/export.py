"""What the app hands the browser as data: the test set's latent codes as CSV (a download),
images as PNG data URIs."""

from __future__ import annotations

import base64
import csv
import io

import numpy as np

from vae_core.images import png_bytes


def latents_csv(z_mean: np.ndarray, z_logvar: np.ndarray, labels: np.ndarray, classes: list[str]) -> bytes:
    """One row per test image: index, label, class name, z_mean, and sigma = exp(logvar / 2)."""
    z_mean, z_logvar, labels = np.asarray(z_mean), np.asarray(z_logvar), np.asarray(labels)
    d = z_mean.shape[1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["index", "label", "class", *[f"z{i + 1}" for i in range(d)],
                     *[f"sigma{i + 1}" for i in range(d)]])
    sigma = np.exp(0.5 * z_logvar)
    for i, (mu, s, label) in enumerate(zip(z_mean, sigma, labels)):
        writer.writerow([i, int(label), classes[int(label)], *[f"{v:.6g}" for v in mu], *[f"{v:.6g}" for v in s]])
    return out.getvalue().encode()


def data_uri(image) -> str:
    """uint8 [H, W] -> a PNG data URI at its own size (the browser scales it): an image sent
    inline, with no file for the server to keep and no second request."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()
