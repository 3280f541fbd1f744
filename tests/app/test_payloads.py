"""What Python sends the latent plane (ui/latent_plane/payloads.py) against what the browser checks
(vae_core/web/payload.js): the same modes, the same fields, and JSON the browser reads as before."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from helpers.data import ROOT
from ui.latent_plane.payloads import (PAYLOADS, BetaModel, BetaPayload, CloseupPayload, ComparePayload, ExplorePayload,
                                      InsidePayload, InterpolatePayload, PlaneModel, PreviewPayload, ScoresPayload,
                                      ToyPayload, ToyWorld)

MODEL = PlaneModel("pretrained/mnist.safetensors", "/d.safetensors", None, "/p.safetensors", ("0", "1"),
                   ("#000000", "#ffffff"), 4.0)
PICK = {"index": 3, "z": [0.5, -1.0]}
POINTS = {"z": [0.1, 0.2, 0.3, 0.4], "labels": [0, 1]}


def browser_fields() -> dict:
    """payload.js's FIELDS, the object literal it checks payloads against (kept as JSON)."""
    source = (ROOT / "vae_core" / "web" / "payload.js").read_text(encoding="utf-8")
    literal = re.search(r"^export const FIELDS = (\{.*?^\});$", source, re.S | re.M)
    assert literal, "payload.js has no `export const FIELDS = {...};`"
    return json.loads(literal.group(1))


def test_python_and_the_browser_name_the_same_modes_and_fields():
    fields = browser_fields()
    assert set(PAYLOADS) == {"explore", "preview", "interpolate", "compare", "toy", "inside", "beta", "closeup",
                             "scores"}
    # every mode but the room page's, whose payload its own script makes (vae_core/web/room/)
    assert set(fields["modes"]) - set(PAYLOADS) <= {"room"} and set(PAYLOADS) <= set(fields["modes"])
    for mode, cls in PAYLOADS.items():
        assert cls.mode == mode
        assert {f.name for f in dataclasses.fields(cls)} == set(fields["modes"][mode]), mode
    assert set(MODEL.as_data()) == set(fields["records"]["model"])
    assert {f.name for f in dataclasses.fields(ToyWorld)} == set(fields["records"]["toy"])


def test_every_record_field_is_named_as_a_record_where_it_is_used():
    fields = browser_fields()
    for mode, types in fields["modes"].items():
        assert types["model"] == "model", mode
    assert fields["modes"]["toy"]["toy"] == "toy"


@pytest.mark.parametrize("payload, expected", [
    (ExplorePayload(model=MODEL, pin=PICK, group="explore", separate_preview=True, manifold_label="Show them"),
     {"mode": "explore", "pin": PICK, "group": "explore", "separate_preview": True, "manifold_label": "Show them",
      "height": 560, "title": None, "hint": None}),
    (PreviewPayload(model=MODEL, group="explore"), {"mode": "preview", "pin": None, "group": "explore"}),
    (InterpolatePayload(model=MODEL, endpoints={"a": PICK, "b": {"index": None, "z": [1.0, 2.0]}}, next="b",
                        method="slerp", steps=6, height=520),
     {"mode": "interpolate", "endpoints": {"a": PICK, "b": {"index": None, "z": [1.0, 2.0]}}, "next": "b",
      "method": "slerp", "steps": 6, "height": 520, "title": None, "hint": None}),
    (ComparePayload(model=MODEL, group="compare", marks=[[0.5, 0.25]], height=460, hint="Point."),
     {"mode": "compare", "group": "compare", "marks": [[0.5, 0.25]], "height": 460, "title": None, "hint": "Point."}),
], ids=["explore", "preview", "interpolate", "compare"])
def test_a_payload_is_its_mode_and_fields_as_json(payload, expected):
    sent = json.loads(payload.to_json())
    assert sent.pop("model") == {"id": MODEL.id, "decoder": "/d.safetensors", "fallback": None,
                                 "points": "/p.safetensors", "classes": ["0", "1"], "colors": ["#000000", "#ffffff"],
                                 "extent": 4.0}
    assert sent == expected


def test_the_toy_payload_nests_its_data_plane():
    world = ToyWorld(key="k|component", titles=("Data x", "Latent codes"), data=POINTS, names=("moon 1", "moon 2"),
                     data_extent=2.5)
    sent = json.loads(ToyPayload(model=MODEL, toy=world, points=POINTS, height=380).to_json())
    assert sent["mode"] == "toy" and sent["points"] == POINTS and sent["height"] == 380 and sent["hint"] is None
    assert sent["toy"] == {"key": "k|component", "titles": ["Data x", "Latent codes"], "data": POINTS,
                           "names": ["moon 1", "moon 2"], "data_extent": 2.5}


def test_payloads_are_frozen_and_take_keywords_only():
    payload = PreviewPayload(model=MODEL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        payload.pin = PICK
    with pytest.raises(TypeError):
        PreviewPayload(MODEL)


def test_the_inside_and_beta_payloads_carry_their_posterior_and_their_family():
    sent = json.loads(InsidePayload(model=MODEL, mu=(0.5, -1.0), sigma=(0.1, 0.2), z=(0.6, -0.8),
                                    cloud=[[0.4, -1.1]]).to_json())
    assert sent["mu"] == [0.5, -1.0] and sent["sigma"] == [0.1, 0.2] and sent["z"] == [0.6, -0.8]
    assert sent["cloud"] == [[0.4, -1.1]] and sent["mode"] == "inside"
    family = (BetaModel(0.5, 100.0, 3.0, MODEL), BetaModel(2.0, 130.0, 1.5, MODEL))
    sent = json.loads(BetaPayload(model=MODEL, models=family, start=1).to_json())
    assert sent["start"] == 1 and sent["height"] == 520 and sent["model"] == MODEL.as_data()
    assert sent["models"] == [{"beta": 0.5, "recon": 100.0, "kl": 3.0, "model": MODEL.as_data()},
                              {"beta": 2.0, "recon": 130.0, "kl": 1.5, "model": MODEL.as_data()}]
    fields = browser_fields()["modes"]
    assert fields["inside"]["cloud"] == "marks" and fields["beta"]["models"] == "family"


def test_the_closeup_payload_carries_a_pin_with_its_own_sigma_and_the_marks():
    pin = {"index": None, "z": [0.5, -1.0], "sigma": [0.05, 0.125]}
    sent = json.loads(CloseupPayload(model=MODEL, pin=pin, marks=[[0.5, -0.9]], caption="Close.").to_json())
    assert sent == {"mode": "closeup", "model": MODEL.as_data(), "pin": pin, "marks": [[0.5, -0.9]],
                    "caption": "Close."}
    assert json.loads(CloseupPayload(model=MODEL, pin=PICK).to_json())["caption"] is None
    fields = browser_fields()["modes"]["closeup"]
    assert fields["pin"] == "pick" and fields["marks"] == "marks"  # (a pick's sigma is checked in payload.js)


def test_the_scores_payload_names_its_file_its_span_and_the_threshold():
    sent = json.loads(ScoresPayload(model=MODEL, scores="/s.safetensors", label="negative ELBO", low=95.5, high=210.0,
                                    threshold=180.0, pin=PICK).to_json())
    assert sent == {"mode": "scores", "model": MODEL.as_data(), "scores": "/s.safetensors", "label": "negative ELBO",
                    "low": 95.5, "high": 210.0, "threshold": 180.0, "pin": PICK, "height": 560, "title": None,
                    "hint": None}
    bare = json.loads(ScoresPayload(model=MODEL, scores="/s.safetensors", label="x", low=0.0, high=1.0).to_json())
    assert bare["threshold"] is None and bare["pin"] is None
    fields = browser_fields()["modes"]["scores"]
    assert fields["scores"] == "string" and fields["threshold"] == "number|null" and fields["pin"] == "pick|null"
