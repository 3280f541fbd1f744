"""The room page's decoders in the browser: vae_core/web/decoder.js runs the shipped MNIST
decoder's int8 and float16 exports, and the int8 conditional decoder, as run_decoder_export does
(within one grey level: the browser's GELU uses an erf approximation)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

import vae_core as vc
from helpers.data import ROOT
from helpers.static_web import blank_page, static_server
from vae_core.decoder_export import export_decoder, read_decoder_export, run_decoder_export

WEB = ROOT / "vae_core" / "web"
POINTS = 200

DECODE = """async ([b64, inputs, labels]) => {
    const { parseDecoder } = await import('./decoder.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const d = parseDecoder(bytes.buffer);
    const images = inputs.map((z, i) => Array.from(labels ? d.decode(z, labels[i]) : d.decode(z)));
    return { info: { latentDim: d.latentDim, classes: d.classes, inputSize: d.inputSize, weights: d.weights,
                     version: d.version, output: d.output, parameters: d.parameters }, images };
}"""


@pytest.fixture(scope="module")
def page():
    with static_server(WEB) as url, blank_page(url) as page:
        yield page


def browser_decode(page, data: bytes, inputs: np.ndarray, labels=None) -> tuple[dict, np.ndarray]:
    result = page.evaluate(DECODE, [base64.b64encode(data).decode(), inputs.tolist(),
                                    None if labels is None else [int(k) for k in labels]])
    return result["info"], np.array(result["images"], np.uint8).reshape(len(inputs), 28, 28)


def assert_same_images(ours: np.ndarray, reference: np.ndarray) -> None:
    assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1
    assert (ours == reference).mean() > 0.999


@pytest.mark.parametrize("weights", ["int8", "float16"])
def test_the_browser_decodes_the_shipped_decoder_as_run_decoder_export(page, weights):
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
    data = export_decoder(ckpt, weights=weights)
    extent = vc.latent_extent(ckpt.latents.z_mean)
    z = np.random.default_rng(0).uniform(-extent, extent, (POINTS, 2)).astype(np.float32)
    info, ours = browser_decode(page, data, z)
    assert info == {"latentDim": 2, "classes": 0, "inputSize": 2, "weights": weights, "version": "2",
                    "output": {"kind": "image", "height": 28, "width": 28}, "parameters": 600_336}
    assert_same_images(ours, run_decoder_export(read_decoder_export(data), z))


def test_the_browser_decodes_the_conditional_decoder_as_run_decoder_export(page):
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "conditional" / "mnist.safetensors")
    data = export_decoder(ckpt, weights="int8")
    z = vc.room_styles(3, POINTS)
    labels = np.arange(POINTS) % 10
    reference = run_decoder_export(read_decoder_export(data), z, labels)
    info, ours = browser_decode(page, data, z, labels)
    assert (info["latentDim"], info["classes"], info["inputSize"], info["weights"]) == (2, 10, 12, "int8")
    assert_same_images(ours, reference)
    # the page may build the input itself: [z1, z2, onehot(k)]
    _, built = browser_decode(page, data, np.concatenate([z, np.eye(10)[labels]], 1))
    assert np.array_equal(built, ours)


def test_the_browser_still_reads_a_version_1_float32_export(page):
    ckpt = vc.load_checkpoint(ROOT / "pretrained" / "mnist.safetensors")
    data = export_decoder(ckpt)
    z = np.random.default_rng(1).uniform(-3, 3, (20, 2)).astype(np.float32)
    info, ours = browser_decode(page, data, z)
    assert (info["version"], info["weights"]) == ("1", "float32")
    assert_same_images(ours, run_decoder_export(read_decoder_export(data), z))
