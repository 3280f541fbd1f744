"""Inside the VAE: one image walked through the model with its numbers (mu, log sigma^2, sigma, eps,
z = mu + sigma * eps, the decode, the two loss terms), then beta live on one plane and what a larger
latent space buys. Every number is vae_core.walk_through's for this image and this eps."""

import numpy as np
import streamlit as st

import vae_core as vc
from ui import session_keys as keys
from ui.canvas import st_canvas
from ui.inside import beta_family, beta_payload, latent_sizes, loss_heatmap
from ui.latent_plane import latent_plane
from ui.latent_plane.payloads import InsidePayload
from ui.scores import metric, test_images
from ui.state import keep_across_pages, model_view, test_set
from ui.widgets import canvas_png, image_grid, pixel_image, plane_model_of, require_model, require_view, reseed

SOURCES = ["A test image", "Draw one"]
CANVAS_PX = 200
CLOUD = 16  # samples of "16 at once"
SIZE_DIGITS = 8  # test digits of the latent-size comparison

keep_across_pages("inside_source", inside_index=0, inside_seed=0, inside_cloud=False)
entry = require_model()
ckpt = entry.ckpt
st.title("Inside the VAE")
st.caption("One image through the model, step by step, with the numbers: the encoder's mean and variance, the "
           "reparameterization trick z = μ + σ ⊙ ε, the decoder, and the two terms of the loss.")
if not ckpt.config.variational or ckpt.config.num_classes:
    st.info("This page walks an image through an unconditional VAE: pick one in the sidebar (an autoencoder has "
            "no μ and σ, and a conditional VAE also needs the class).")
    st.stop()
view = require_view(entry, "This checkpoint carries no test-set latents and the dataset is not on disk.")
images = test_images(entry, view)
d = ckpt.config.latent_dim


def _random_index() -> None:
    st.session_state["inside_index"] = int(np.random.default_rng().integers(len(images)))
    st.session_state["inside_source"] = SOURCES[0]


# Arriving from Explore with a pinned test image: walk that one (once per new pin).
pin = model_view(entry).pin
if images is not None and pin and pin.get("index") is not None and 0 <= pin["index"] < len(images) \
        and st.session_state.get(keys.INSIDE_PIN_SEEN) != (entry.id, pin["index"]):
    st.session_state[keys.INSIDE_PIN_SEEN] = (entry.id, pin["index"])
    st.session_state["inside_index"] = pin["index"]
    st.session_state["inside_source"] = SOURCES[0]


def beta_and_latent_sizes() -> None:
    """The end of the page, shown with or without an image: beta live, and the latent sizes."""
    st.divider()
    st.header("β, live")
    st.markdown("The loss can weigh its KL term by β: reconstruction + β · KL. A small β is close to a plain "
                "autoencoder: its codes spread far beyond N(0, I) (a high KL, the rate). A large β packs them into "
                "N(0, I) and pays in reconstruction (the distortion): blurrier decodes. With a 2-D code, going below "
                "β = 1 buys little reconstruction, because two numbers, not the KL, limit it. Slide β: the plane "
                "swaps to the model trained with it, in your browser, and the plot marks where it sits between the "
                "two.")
    family = beta_family()
    payload = beta_payload(family, next((k for k, m in enumerate(family) if m.beta == 1.0), 0)) if family else None
    if payload is None:
        st.info("The β family of MNIST models (pretrained/beta/) is not in this copy of the app.")
    else:
        latent_plane("inside_beta", payload)

    st.header("Latent size")
    sizes = latent_sizes(family)
    mnist = test_set("mnist")
    if len(sizes) < 2 or mnist is None:
        st.info("The latent-size models (pretrained/latent/) or the MNIST test set are not in this copy of the app.")
    else:
        originals = mnist.images[:SIZE_DIGITS]
        pixel_image(st, image_grid(originals, SIZE_DIGITS), f"The first {SIZE_DIGITS} MNIST test digits", scale=3)
        for model_entry in sizes:
            mu, _ = vc.encode(model_entry.ckpt.model, originals)
            neg_elbo = metric(model_entry, "neg_elbo")
            score = f"−ELBO {neg_elbo:.1f} nats on the test set" if neg_elbo is not None else "no test metrics"
            pixel_image(st, image_grid(vc.decode(model_entry.ckpt.model, mu), SIZE_DIGITS),
                        f"{model_entry.ckpt.config.latent_dim}-D code: reconstructed from μ · {score}", scale=3)
        st.markdown("Only the 2-D model can be explored on a plane: its codes are points you can see and point at, "
                    "while 8 or 32 numbers per image have no plane to draw them on. The 2-D model is blurry because "
                    "two numbers cannot hold a digit's every stroke: many different images share nearly the same "
                    "code, and the decoder can only draw their average. A larger code keeps more detail, and its "
                    "−ELBO is lower.")


image, name = None, None
source_col, encoder_col = st.columns([1, 2], gap="large")
with source_col:
    if images is None:
        st.caption("The test set is not on disk: draw a digit.")
        source = SOURCES[1]
    else:
        source = st.radio("Image", SOURCES, key="inside_source", horizontal=True, label_visibility="collapsed")
    if source == SOURCES[0]:
        st.session_state["inside_index"] = min(st.session_state["inside_index"], len(images) - 1)
        pick_cols = st.columns([3, 2], vertical_alignment="bottom")
        index = pick_cols[0].number_input("Test image", 0, len(images) - 1, key="inside_index")
        pick_cols[1].button("Random", on_click=_random_index, icon=":material/casino:", width="stretch")
        image, name = images[index], f"Test image {index} ({ckpt.classes[int(view.labels[index])]})"
    else:
        # the canvas's toolbar (undo, redo, clear) appears in this caption's row, not over the choice above
        st.caption("Draw one digit, large:")
        drawing = st_canvas(stroke_width=16, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS_PX,
                            width=CANVAS_PX, drawing_mode="freedraw", return_image_data=True, key="inside_canvas")
        png = canvas_png(drawing)
        if png is None:
            st.info("Draw a digit on the black square.")
        else:
            try:
                image, name = vc.prepare_image(png), "Your drawing"
            except vc.ImageError as e:
                st.error(f"Your drawing: {e}")
    if image is not None:
        pixel_image(st, image, f"{name}: x, as the model sees it (28×28)", scale=5)
if image is None:
    beta_and_latent_sizes()
    st.stop()

seed = int(st.session_state["inside_seed"])
walk = vc.walk_through(ckpt.model, image, vc.standard_normal(d, seed))
sub = [chr(0x2080 + i) if i < 10 else f"_{i}" for i in range(1, d + 1)]  # z₁, z₂, ...


def num(v: float) -> str:
    return f"{v:.3f}"


with encoder_col:
    st.subheader("1 · The encoder: μ and log σ², then σ")
    st.latex(r"q(z \mid x) = \mathcal{N}\big(\mu(x),\ \operatorname{diag}\sigma^2(x)\big), \qquad "
             r"\sigma_i = \exp\big(\tfrac12 \log \sigma_i^2\big)")
    rows = [f"| z{sub[i]} | {num(walk.mu[i])} | {num(walk.logvar[i])} | {num(walk.sigma[i])} |" for i in range(d)]
    st.markdown("| coordinate | μ | log σ² | σ = exp(½ log σ²) |\n|---|---:|---:|---:|\n" + "\n".join(rows))
    st.caption("The encoder outputs log σ² rather than σ: any real number is a valid log-variance, so the network "
               "needs no constraint, and σ = exp(½ log σ²) is always positive.")

st.subheader("2 · ε ~ N(0, I), and z = μ + σ ⊙ ε")
eps_cols = st.columns([1, 1, 1, 3], vertical_alignment="bottom")
eps_cols[0].number_input("ε seed", 0, 1_000_000, key="inside_seed")
eps_cols[1].button("Resample ε", on_click=reseed, args=("inside_seed",), icon=":material/casino:", width="stretch")
cloud_on = eps_cols[2].toggle(f"{CLOUD} at once", key="inside_cloud",
                              help=f"Draw {CLOUD} ε with this seed (the first is the ε above) and decode each z")
st.latex(r"z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0, I)")
st.markdown(f"ε = ({', '.join(num(v) for v in walk.eps)}), drawn with seed {seed}")
st.markdown("\n".join(
    f"- z{sub[i]} = μ{sub[i]} + σ{sub[i]} · ε{sub[i]} = {num(walk.mu[i])} + {num(walk.sigma[i])} × "
    f"({num(walk.eps[i])}) = **{num(walk.z[i])}**" for i in range(d)))
st.caption("The reparameterization trick: the randomness is all in ε, which does not depend on the encoder, so "
           "gradients flow through μ and σ to train it.")

cloud = [vc.walk_through(ckpt.model, image, e) for e in vc.standard_normal(d, seed, n=CLOUD)] if cloud_on else []
plane_col, decode_col = st.columns([3, 2], gap="large")
with plane_col:
    if d == 2:
        latent_plane("inside_plane", InsidePayload(
            model=plane_model_of(entry, view), mu=tuple(walk.mu.round(5).tolist()),
            sigma=tuple(walk.sigma.round(5).tolist()), z=tuple(walk.z.round(5).tolist()),
            cloud=[w.z.round(5).tolist() for w in cloud], title="q(z|x) on the latent plane"))
    else:
        st.info(f"This model's codes have {d} coordinates: there is no plane to draw them on.")
with decode_col:
    pixel_image(st, walk.pixels, f"The decode of z = ({', '.join(num(v) for v in walk.z)})", scale=5)
    if cloud:
        pixel_image(st, image_grid(np.stack([w.pixels for w in cloud]), 8),
                    f"The decodes of the {CLOUD} samples of z (the crosses on the plane)", scale=2)
        st.caption("Every sample is a plausible reading of the same image: how much they differ shows how unsure "
                   "the encoder is (σ).")

st.subheader("3 · The loss for this image, in nats")
loss_col, map_col = st.columns([3, 2], gap="large")
with loss_col:
    st.latex(r"-\mathrm{ELBO} = \text{reconstruction} + \mathrm{KL}\big(q(z \mid x)\,\|\,\mathcal{N}(0, I)\big)")
    st.latex(r"\text{reconstruction} = -\sum_{p=1}^{784} \big[x_p \log \hat x_p + (1 - x_p) \log (1 - \hat x_p)\big]")
    st.latex(r"\mathrm{KL} = \sum_i \tfrac12 \big(\mu_i^2 + \sigma_i^2 - 1 - \log \sigma_i^2\big)")
    st.caption("x̂ = sigmoid(decoder(z)): the decode's probability of ink at each pixel.")
    shares = [f"{100 * t / walk.kl:.0f} % of KL" if walk.kl > 0 else "" for t in walk.kl_terms]
    kl_rows = [f"| KL, coordinate {i + 1}: ½ (μ{sub[i]}² + σ{sub[i]}² − 1 − log σ{sub[i]}²) | "
               f"{num(walk.kl_terms[i])} | {shares[i]} |" for i in range(d)]
    st.markdown("| term | nats | share |\n|---|---:|---:|\n"
                f"| reconstruction: BCE summed over the 784 pixels | {num(walk.recon)} | |\n"
                + "\n".join(kl_rows) + "\n"
                f"| KL: the sum over coordinates | {num(walk.kl)} | |\n"
                f"| **−ELBO = reconstruction + KL** | **{num(walk.neg_elbo)}** | |")
    st.caption("The reconstruction term is measured at this one z (it changes with ε); the KL term is exact, the "
               "closed form for a diagonal Gaussian against N(0, I) (it does not depend on ε). Training minimises "
               "their sum averaged over images.")
with map_col:
    # theme=None: Streamlit's theme would replace the heat map's colour scale with its own
    st.plotly_chart(loss_heatmap(walk.bce_map), key="inside_heatmap", theme=None, config={"displaylogo": False})
    st.caption("Each pixel's share of the reconstruction term: bright where the decode of z misses x.")

beta_and_latent_sizes()
