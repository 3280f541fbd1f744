"""AppTest coverage of the Anomalies page: the test points on a scores plane coloured by the scores
the page publishes, the threshold, the histogram on the same colour scale, a pick sent by the plane
and the gallery's Select buttons choosing the same image, and the score switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from safetensors.numpy import load

import vae_core as vc
from helpers.apptest import PRETRAINED, figure, images, open_page, plane_event, planes
from helpers.data import ROOT, needs_mnist
from ui.figures import score_color_range
from ui.latent_plane.assets import data_dir
from vae_core.images import SCORE_SCALE

SHIPPED = vc.load_checkpoint(ROOT / PRETRAINED)
MODEL_ID = f"pretrained/{Path(PRETRAINED).name}"


def published(url: str) -> np.ndarray:
    """The scores file a plane was sent, read back from the served folder."""
    return load((data_dir() / url.rsplit("/", 1)[1]).read_bytes())["scores"]


def test_the_plane_is_coloured_by_the_published_scores(app):
    open_page(app, "anomaly")
    assert app.title[0].value == "Find unusual images"
    plane = planes(app)["anomaly_plane"]
    scores = SHIPPED.latents.neg_elbo
    assert plane["mode"] == "scores" and plane["label"] == "negative ELBO" and plane["pin"] is None
    assert plane["model"]["id"] == MODEL_ID and plane["model"]["points"] and plane["model"]["decoder"]
    assert np.array_equal(published(plane["scores"]), scores)  # one per test image, in the points' order
    assert (plane["low"], plane["high"]) == score_color_range(scores)
    threshold = app.slider[0].value
    assert plane["threshold"] == threshold
    assert f"score above {threshold:.1f} nats" in app.markdown[0].value
    shown = [c for c in app.get("bidi_component") if c.proto.id.endswith("anomaly_plane")]
    assert len(shown[0].proto.bytes) < 2_000  # the scores travel as a file, not in the payload
    # the one Plotly chart left is the histogram, its bars on the plane's colour scale
    bars = figure(app, "anomaly_histogram")["data"]
    assert [tuple(stop) for stop in bars[0]["marker"]["colorscale"]] == list(SCORE_SCALE)
    assert (bars[0]["marker"]["cmin"], bars[0]["marker"]["cmax"]) == (plane["low"], plane["high"])
    app.slider[0].set_value(threshold - 50).run()
    assert planes(app)["anomaly_plane"]["threshold"] == threshold - 50
    assert app.info[0].value.startswith("Click (or tap) a point on the plane")


def test_switching_the_score_recolours_and_reranks(app):
    open_page(app, "anomaly")
    before = planes(app)["anomaly_plane"]
    app.radio(key="anomaly_kind").set_value("recon_error").run()
    after = planes(app)["anomaly_plane"]
    assert after["label"] == "reconstruction error" and after["scores"] != before["scores"]
    assert np.array_equal(published(after["scores"]), SHIPPED.latents.recon_error)
    assert (after["low"], after["high"]) == score_color_range(SHIPPED.latents.recon_error)
    assert "reconstruction error" in app.slider[0].label and "by reconstruction error" in app.subheader[-1].value
    open_page(app, "generate")
    open_page(app, "anomaly")
    assert app.radio(key="anomaly_kind").value == "recon_error"  # kept across pages


def test_a_pick_on_the_plane_selects_its_image(app):
    open_page(app, "anomaly")
    index = 1234
    plane_event(app, "anomaly_plane", "pick", {"index": index, "z": [0.0, 0.0]})
    assert not app.exception, [e.value for e in app.exception]
    # its details beside the plane, above the gallery; the plane rings the server's own code of it
    headings = [h.value for h in app.subheader]
    assert headings[0].startswith(f"Test image #{index} · class ") and headings[1].startswith("The 20 least")
    z = [float(v) for v in SHIPPED.latents.z_mean[index]]
    assert planes(app)["anomaly_plane"]["pin"] == {"index": index, "z": z}
    assert any(f"of {len(SHIPPED.latents.neg_elbo):,} by negative ELBO" in m.value for m in app.markdown)
    for sent in ({"index": None, "z": [0.5, 0.5]}, {"index": 10**6, "z": [0.0, 0.0]}, "nonsense"):
        plane_event(app, "anomaly_plane", "pick", sent)  # a spot, or what no browser of ours sends: kept as it was
        assert planes(app)["anomaly_plane"]["pin"]["index"] == index
        assert app.subheader[0].value.startswith(f"Test image #{index} · ")


@needs_mnist
def test_the_gallery_selects_the_same_image_as_the_plane(app):
    open_page(app, "anomaly")
    gallery = [i.caption for i in images(app)]
    assert len(gallery) == 20 and len([b for b in app.button if b.label == "Select"]) == 20
    assert all(c.endswith(" nats") for c in gallery)  # each number says what it is
    scores = [float(c.rsplit("·", 1)[1].removesuffix(" nats")) for c in gallery]
    assert scores == sorted(scores, reverse=True) and min(scores) >= app.slider[0].value - 1
    index = int(gallery[3].split(" ")[0][1:])
    app.button(key="anomaly_select_3").click().run()
    headings = [h.value for h in app.subheader]  # its details under the gallery, where Select was pressed
    assert headings[-1].startswith(f"Test image #{index} · class ") and headings[0].startswith("The 20 least")
    assert planes(app)["anomaly_plane"]["pin"] == {"index": index,
                                                   "z": [float(v) for v in SHIPPED.latents.z_mean[index]]}
    assert [i.caption for i in images(app)][-2:] == ["Original", "Decode of z_mean"]
    assert any("rank **4**" in m.value for m in app.markdown)
    assert app.button(key="anomaly_select_3").proto.type == "primary"
    open_page(app, "explore")  # the choice survives a page switch
    open_page(app, "anomaly")
    assert app.subheader[-1].value.startswith(f"Test image #{index}")
    assert planes(app)["anomaly_plane"]["pin"]["index"] == index

