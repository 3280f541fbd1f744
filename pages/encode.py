"""Your digit: draw or upload one, see it as the model sees it, where it lands and how typical it is."""

import streamlit as st

import vae_core as vc
from ui.canvas import st_canvas
from ui.export import data_uri
from ui.figures import score_histogram
from ui.scores import missing_scores, score_label, test_images, test_scores
from ui import session_keys as keys
from ui.judge import shipped_judge
from ui.state import class_model, keep_across_pages, latent_view
from ui.latent_plane import CloseupPayload, ComparePayload, latent_plane
from ui.widgets import canvas_png, pixel_image, plane_model_of, png_download, require_model
from vae_core.typicality import verdict

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]
CANVAS_PX = 280  # 10 screen pixels per MNIST pixel

keep_across_pages("enc_source")
entry = require_model()
view = latent_view(entry, entry.id)
ckpt = entry.ckpt

st.title("Encode your own digit")
st.caption("Draw a digit or upload a photo of one. The model sees it the way MNIST was made: grey levels, light ink "
           "on dark, fitted into 20×20 pixels and centred in 28×28. See where the encoder puts it among the test "
           "images, what the decoder makes of it, and how typical the model finds it.")

def remember_drawing() -> None:
    """Leaving Draw unmounts the canvas, which forgets its strokes: keep them to redraw on return."""
    st.session_state[keys.ENC_RESTORE] = st.session_state.get(keys.ENC_DRAWING)


source_col, plot_col = st.columns([1, 2], gap="large")
with source_col:
    mode = st.radio("Input", ["Draw", "Upload"], key="enc_source", horizontal=True, label_visibility="collapsed",
                    on_change=remember_drawing)
    if mode == "Draw":
        # The caption's row is where the canvas's toolbar (undo, redo, clear) appears, on its right,
        # while the pointer or a finger is on the canvas.
        st.caption("Draw one digit, large:")
        drawing = st_canvas(stroke_width=22, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_PX,
                            width=CANVAS_PX, drawing_mode="freedraw", return_image_data=True, key="enc_canvas",
                            initial_drawing=st.session_state.get(keys.ENC_RESTORE))
        if drawing.json_data is not None:
            st.session_state[keys.ENC_DRAWING] = drawing.json_data
        st.caption("With the mouse or a finger. On the square, its toolbar appears above it, top right: undo, "
                   "redo, clear.")
        png = canvas_png(drawing)
        source = ("Your drawing", png) if png else None
        prompt = "Draw a digit on the black square, or switch to **Upload** for a photo or a scan."
    else:
        upload = st.file_uploader("An image of one digit", type=UPLOAD_TYPES, key="enc_upload",
                                  help="Dark on light or light on dark, in any colours; read in memory, never saved.")
        source = (upload.name, upload.getvalue()) if upload is not None else None
        prompt = "Upload a photo or a scan of one digit (PNG, JPEG, GIF, …), or switch to **Draw**."

    result = None
    if source is None:
        st.info(prompt)
    else:
        name, data = source
        scores = test_scores(entry, view) if view is not None else None
        try:
            result = vc.encode_image(ckpt.model, data, view.z_mean if view is not None else None, scores)
        except vc.ImageError as e:
            st.error(f"{name}: {e}")

    if result is not None:  # right under the input, where the eye is when the stroke ends
        mu, sigma = result.mu, result.sigma
        st.subheader("The model's view")
        cols = st.columns(2)
        pixel_image(cols[0], result.image, "Input (28×28)", scale=4)
        pixel_image(cols[1], result.reconstruction, "Its reconstruction", scale=4)
        png_download(st, [result.image, result.reconstruction], "your-digit.png", key="enc_png")
        st.caption(f"**{name}** is encoded at z_mean = ({mu[0]:.2f}, {mu[1]:.2f}) with σ = ({sigma[0]:.2f}, "
                   f"{sigma[1]:.2f}); the reconstruction is the decode of z_mean.")
        st.subheader("How typical is it?")
        label = score_label(entry, "neg_elbo")
        value = result.scores["neg_elbo"]
        # one metric a row: side by side in this column the value was cut off ("102.4 …")
        st.metric(label[:1].upper() + label[1:], f"{value:.1f} nats",
                  help="One-sample negative ELBO: an upper bound on −log p(x). Lower means the model finds "
                       "the image more likely.")
        if result.percentiles:
            pct = result.percentiles["neg_elbo"]
            st.metric("Percentile", f"{pct:.1f}",
                      help="The share of test images with a lower score: 99 means less typical than 99 % of them.")
            words = verdict(pct)
            (st.warning if pct >= 90 else st.success)(f"{words[:1].upper()}{words[1:]}.")
        else:
            st.info(missing_scores(entry))

with plot_col:
    if view is None:
        st.warning("This checkpoint carries no test-set latents and the dataset is not on disk, so there is no "
                   "scatter to place your digit on. The Train page can download the data.")
    else:
        # the live latent plane: its points are drawn (and hovering decoded) in the browser, so a new
        # stroke only moves the cross; a Plotly scatter rebuilt per stroke cost every busy visitor seconds
        latent_plane("enc_plane", ComparePayload(
            model=plane_model_of(entry, view), group="encode", height=560,
            marks=[[round(float(v), 4) for v in result.mu[:2]]] if result is not None else [],
            hint="Point at the plane to decode any spot." + (" The cross is your digit." if result else "")))
        st.caption("Your digit is the cross. Its σ ellipses are too small to see at this scale: the close-up "
                   "below shows them, with its nearest test images." if result is not None else
                   "The test images' codes, coloured by class; your digit will appear among them as a cross.")


def short(values) -> list[float]:
    """A code's first two coordinates as the plane's JSON carries them (6 significant digits)."""
    return [float(f"{v:.6g}") for v in values[:2]]


def every_class_row(image) -> None:
    """The drawing's style drawn as every class by the conditional VAE, under the drawing's results."""
    maker = class_model(entry).ckpt
    judge = shipped_judge(maker.dataset) if maker.config.num_classes else None
    if judge is None or judge.classes != maker.classes:
        return  # no conditional model with its judge for this dataset: no style to carry over
    # Which class to encode the drawing with: the one the judge reads in its pixels (99.3 % right on
    # MNIST's test set, 90 % on Fashion-MNIST's). The nearest test codes' class was right for 89-93 %
    # of MNIST test images and 79-82 % of Fashion-MNIST's (on a 2-D plane the classes overlap, a 4
    # among 9s), and it depends on the picked model; a wrong class would leave class in the style.
    label = judge.read(image)
    row = vc.handwriting_in_every_class(maker, image, label)
    noun = "digit" if maker.dataset == "mnist" else "article"
    name = maker.classes[label]
    st.subheader("Your handwriting in every digit" if noun == "digit" else "Your style in every article")
    st.caption(f"Your style as every {noun}: the judge, a small classifier right {100 * judge.test_accuracy:.1f} % "
               f"of the time on the test set, reads your drawing as **{name}**. A conditional VAE, told that class, "
               f"encodes what is left, your style (slant, width, stroke), and decodes it with each class in turn; "
               f"its {name} is its reconstruction of your drawing.")
    # 64 px with small gaps: the ten in one row on a wide screen, two rows of five on a phone
    with st.container(horizontal=True, gap="xsmall", key="enc_every_class"):
        for k, image_k in enumerate(row):
            st.image(data_uri(image_k), caption=f"{maker.classes[k]} (yours)" if k == label else maker.classes[k],
                     width=64)
    png_download(st, row, "your-style.png", key="enc_every_class_png")


if result is not None:
    every_class_row(result.image)

if result is None or view is None:
    st.stop()

histogram_col, near_col = st.columns(2, gap="large")
with histogram_col:
    if result.percentiles:
        st.plotly_chart(score_histogram(scores["neg_elbo"], label, value=value, value_label="your digit"),
                        key="enc_histogram", config={"displayModeBar": False})

with near_col:
    st.subheader("Its nearest test images")
    near = result.nearest
    images = test_images(entry, view)
    names = ", ".join(f"#{i} ({ckpt.classes[int(view.labels[i])]})" for i in near)
    if images is not None:
        pixel_image(st, vc.tile(images[near], cols=len(near), pad=3, pad_value=255), f"Nearest first: {names}",
                    scale=3)
    else:
        st.markdown(f"Nearest first: {names}")
        st.caption("Their pictures need the test set on disk (the Train page can download it).")
    # the plane's own close-up, drawn in the browser from the points it already has: the drawing's
    # code with its own sigma, and the nearest test codes as crosses
    latent_plane("enc_closeup", CloseupPayload(
        model=plane_model_of(entry, view), pin={"index": None, "z": short(mu), "sigma": short(sigma)},
        marks=[short(view.z_mean[i]) for i in near],
        caption="Close-up: your digit (ring) with the 1σ and 2σ ellipses of q(z|x); crosses mark its nearest test "
                "images."))
