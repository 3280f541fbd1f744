"""Anomalies: the test images the model finds least typical, on the latent plane (coloured by their
score) and in a gallery."""

import math

import streamlit as st

import vae_core as vc
from ui.figures import score_color_range, score_histogram
from ui.latent_plane import ScoresPayload, event, latent_plane, parse_pick, scores_asset
from ui.latent_plane.assets import publish
from ui.scores import missing_scores, score_label, test_images, test_scores
from ui.session_keys import ANOMALY_DETAILS
from ui.state import keep_across_pages, model_state
from ui.widgets import image_grid, pixel_image, plane_model_of, png_download, require_model, require_view
from vae_core.typicality import SCORE_KINDS, above, default_threshold, least_typical, percentile, rank

GALLERY = 20
PER_ROW = 10

keep_across_pages("anomaly_kind")
entry = require_model()
st.title("Find unusual images")
st.caption("Every test image gets a score from the model: its negative ELBO (how unlikely the model finds it) or its "
           "reconstruction error (how badly the decoder redraws it from its code). High scores mark images the "
           "model finds unusual: odd handwriting, wrong labels, scanning accidents.")
view = require_view(entry, "This checkpoint carries no test-set latents and the dataset is not on disk, so there "
                           "is nothing to score. The Train page can download the data.")
ckpt, state = entry.ckpt, model_state(entry)
scores = test_scores(entry, view)
if scores is None:
    st.warning(missing_scores(entry))
    st.stop()

kind = st.radio("Colour the points by", list(SCORE_KINDS), key="anomaly_kind", horizontal=True,
                format_func=lambda k: score_label(entry, k))
s = scores[kind]
label = score_label(entry, kind)
ranked = least_typical(s, GALLERY)
images = test_images(entry, view)


def select(index: int, where: str) -> None:
    """Select a test image; its details show ``where`` it was chosen (beside the plane, or under
    the gallery), in view of the click."""
    state["anomaly_pick"] = int(index)
    st.session_state[ANOMALY_DETAILS] = where


def on_plane_pick() -> None:
    pick = parse_pick(event("anomaly_plane", "pick"), view.z_mean)
    if pick is not None and pick["index"] is not None:  # (the plane sends test points only)
        select(pick["index"], "plane")


def details(pick: int) -> None:
    """The selected image: original, decode, its scores and rank."""
    cls = ckpt.classes[int(view.labels[pick])]
    st.subheader(f"Test image #{pick} · class {cls}")
    cols = st.columns([1, 1, 2], gap="medium")
    if images is not None:
        pixel_image(cols[0], images[pick], "Original", scale=4)
    else:
        cols[0].caption("Original: the dataset is not on disk.")
    pixel_image(cols[1], vc.decode(ckpt.model, view.z_mean[pick])[0], "Decode of z_mean", scale=4)
    cols[2].markdown("\n".join(
        f"- {score_label(entry, k)}: **{scores[k][pick]:.1f}** nats "
        f"(percentile {percentile(scores[k], scores[k][pick]):.1f})" for k in SCORE_KINDS)
        + f"\n- rank **{rank(s, pick):,}** of {len(s):,} by {label}")


def on_threshold(key: str, kind: str) -> None:
    state.setdefault("thresholds", {})[kind] = st.session_state[key]


plot_col, side_col = st.columns([3, 2], gap="large")
with side_col:
    lo, hi = math.floor(float(s.min())), math.ceil(float(s.max()))
    start = state.get("thresholds", {}).get(kind, round(2 * default_threshold(s)) / 2)
    key = f"anomaly_threshold_{kind}_{entry.id}"  # one slider per model and score: their ranges differ
    threshold = st.slider(f"Threshold ({label}, nats)", float(lo), float(hi), float(min(max(start, lo), hi)),
                          step=0.5, key=key, on_change=on_threshold, args=(key, kind))
    flagged = above(s, threshold)
    st.plotly_chart(score_histogram(s, label, threshold=threshold, colored=True), key="anomaly_histogram",
                    config={"displayModeBar": False})
    st.markdown(f"**{len(flagged):,}** of {len(s):,} test images ({100 * len(flagged) / len(s):.1f} %) score above "
                f"{threshold:.1f} nats; they stand out on the plane, drawn larger and outlined (the others are "
                "faded). The bars' colours are the points' colours.")

    pick = state.get("anomaly_pick")
    picked = pick is not None and pick < len(s)
    if picked and st.session_state.get(ANOMALY_DETAILS) != "gallery":
        details(pick)
    elif not picked:
        st.info("Click (or tap) a point on the plane, or **Select** an image in the gallery below.")

with plot_col:
    low, high = score_color_range(s)  # the histogram's colour scale too
    pin = view.point(pick) if picked else None
    latent_plane("anomaly_plane", ScoresPayload(model=plane_model_of(entry, view), scores=publish(scores_asset(s)),
                                                label=label, low=low, high=high, threshold=float(threshold),
                                                pin=pin), on_pick=on_plane_pick)

st.subheader(f"The {GALLERY} least typical test images by {label}")
if images is None:
    st.caption("The originals need the test set on disk (the Train page can download it); shown here are the "
               "decodes of their codes.")
    pictures = vc.decode(ckpt.model, view.z_mean[ranked])
else:
    pictures = images[ranked]
for row in range(0, len(ranked), PER_ROW):
    cols = st.columns(PER_ROW, vertical_alignment="bottom")  # the Select buttons line up whatever the captions
    for col, place, index, picture in zip(cols, range(row, row + PER_ROW), ranked[row:], pictures[row:]):
        with col:
            pixel_image(st, picture, f"#{index} · {ckpt.classes[int(view.labels[index])]} · {s[index]:.0f} nats",
                        scale=3)
            st.button("Select", key=f"anomaly_select_{place}", on_click=select, args=(int(index), "gallery"),
                      type="primary" if index == pick else "secondary", width="stretch")
png_download(st, image_grid(pictures, PER_ROW), f"{ckpt.dataset}-least-typical.png",
             label="Download the gallery (PNG)", scale=3, key="anomaly_png")
if picked and st.session_state.get(ANOMALY_DETAILS) == "gallery":
    details(pick)  # under the gallery, where its Select button was pressed
