"""Toy world: a VAE on 2-D data with a 2-D latent space, trained in seconds, so the data, its
codes and newly generated points can all be seen at once."""

import numpy as np
import streamlit as st

from vae_core.decoder_export import export_decoder
from ui.figures import PALETTE, add_points, latent_extent, plane_figure
from vae_core.toy import (COMPONENT_NAMES, TOY_DATASETS, build_toy_model, make_toy, mean_nn_distance, toy_encode,
                          toy_generate, train_toy)
from ui.latent_plane import PlaneModel, latent_plane
from ui.latent_plane.assets import publish
from ui.widgets import ensure_shell

DEFAULTS = dict(toy_dataset="moons", toy_n=2000, toy_noise=0.1, toy_seed=0, toy_steps=1000, toy_beta=1.0,
                toy_colour="component", toy_means=False)
GENERATED_COLOR = "#D55E00"

ensure_shell()
st.title("Toy world")
st.caption("Here the data are points in a plane and the latent space is a plane too, so you can watch both maps "
           "a VAE learns. The encoder sends each point to a small region of the latent plane, pulled towards "
           "N(0, I); the decoder sends every latent point back to where data lives, which is why points drawn "
           "from N(0, I) and decoded look like new data.")

for widget_key, default in DEFAULTS.items():  # set once, so the widgets need no default of their own
    st.session_state.setdefault(widget_key, default)

top = st.columns(4, gap="medium")
name = top[0].selectbox("Dataset", list(TOY_DATASETS), format_func=TOY_DATASETS.get, key="toy_dataset")
n = top[1].select_slider("Points", [500, 1000, 2000, 5000], key="toy_n")
noise = top[2].slider("Noise", 0.0, 0.5, step=0.01, key="toy_noise")
seed = top[3].number_input("Seed", 0, 1_000_000, key="toy_seed")
bottom = st.columns(4, gap="medium", vertical_alignment="bottom")
steps = bottom[0].select_slider("Training steps", [250, 500, 1000, 2000, 4000], key="toy_steps")
beta = bottom[1].select_slider("β (KL weight)", [0.1, 0.25, 0.5, 1.0, 2.0, 4.0], key="toy_beta",
                               help="Higher β pulls the codes harder onto N(0, I): smoother, blurrier generations")
colour = bottom[2].radio("Colour by", ["component", "angle"], horizontal=True, key="toy_colour",
                         help="component: which moon, Gaussian or arm a point comes from; angle: its direction "
                              "from the centre of the plane")
# A callback, not the button's return value: a click must survive a rerun before this line.
bottom[3].button("Train", type="primary", icon=":material/play_arrow:", width="stretch", key="toy_train",
                 on_click=lambda: st.session_state.update(toy_train_requested=True))

data = make_toy(name, n, noise, seed)
angle = np.arctan2(data.x[:, 1], data.x[:, 0])
key = (name, n, noise, seed, steps, beta)
names = [f"{COMPONENT_NAMES[name]} {i + 1}" for i in range(data.components)]


ANGLE_BINS = 12


def angle_colours() -> tuple[np.ndarray, list[str], list[str]]:
    """Each point's direction from the centre as one of 12 bins, with a cyclic colour per bin and
    a name that says its range (the legend under the planes is then the colour scale)."""
    bins = np.floor((angle + np.pi) / (2 * np.pi) * ANGLE_BINS).astype(int) % ANGLE_BINS
    colours = []
    for k in range(ANGLE_BINS):  # hue wheel at even lightness: cyclic, like the angle
        h = k / ANGLE_BINS * 6
        x = 1 - abs(h % 2 - 1)
        r, g, b = [(1, x, 0), (x, 1, 0), (0, 1, x), (0, x, 1), (x, 0, 1), (1, 0, x)][int(h) % 6]
        colours.append("#%02X%02X%02X" % tuple(int(40 + 175 * c) for c in (r, g, b)))
    step = 360 // ANGLE_BINS
    return bins, colours, [f"{-180 + k * step}°…{-180 + (k + 1) * step}°" for k in range(ANGLE_BINS)]


if colour == "component":
    groups, group_colours, group_names = data.component, list(PALETTE), names
else:
    groups, group_colours, group_names = angle_colours()


def coloured(fig, points):
    return add_points(fig, points, groups=groups, names=group_names)


if st.session_state.pop("toy_train_requested", False):
    bar = st.progress(0.0, text="training…")

    def report(step: int, total: int, loss: float) -> None:
        bar.progress(step / total, text=f"step {step:,}/{total:,} · loss {loss:.2f} nats per point")

    model = build_toy_model(seed)
    trained = train_toy(model, data.x, steps=steps, beta=beta, seed=seed, callback=report)
    bar.empty()
    samples = toy_generate(model, n, seed=seed + 1, noise=True)
    st.session_state["toy_result"] = {
        "key": key, "seconds": trained.seconds, "loss": trained.history[-1]["loss"],
        "latents": toy_encode(model, data.x)[0], "samples": samples, "decoder": export_decoder(model),
        "means": toy_generate(model, n, seed=seed + 1, noise=False),
        "gen_distance": mean_nn_distance(samples, data.x),
        "data_distance": mean_nn_distance(make_toy(name, n, noise, seed + 1).x, data.x)}

result = st.session_state.get("toy_result")
if result is not None and result["key"] != key:
    result = None  # trained on other settings
extent = latent_extent(data.x, margin=0.3, floor=1.5)
if result is None:
    plots = st.columns([2, 1], gap="medium")
    with plots[0]:
        st.markdown("**Data** x")
        st.plotly_chart(coloured(plane_figure(extent, height=380), data.x), key="toy_data",
                        config={"displaylogo": False})
    plots[1].info("Press **Train** (a few seconds). The codes of these points and newly generated points "
                  "appear here.")
else:
    plots = st.columns([2, 1], gap="medium")
    with plots[0]:
        latents = result["latents"]
        plane = PlaneModel(f"toy/{'/'.join(map(str, key))}", publish(result["decoder"]), None, None,
                           tuple(group_names), tuple(group_colours), latent_extent(latents, margin=0.3))
        flat = lambda points: np.asarray(points, np.float32).ravel().round(4).tolist()  # noqa: E731
        latent_plane("toy_plane", "toy", plane, height=380,
                     points={"z": flat(latents), "labels": np.asarray(groups).tolist()},
                     toy={"key": f"{key}|{colour}", "titles": ["Data x", "Latent codes z = μ(x)"],
                          "data": {"z": flat(data.x), "labels": np.asarray(groups).tolist()}, "names": group_names,
                          "data_extent": extent})
        st.caption("Same colours in both planes: see where each part of the data goes. Point at the latent plane: "
                   "the ringed point in the data plane is the decoder's mean for that z. Circles: 1σ and 2σ of "
                   "N(0, I).")
    with plots[1]:
        means = st.session_state["toy_means"]
        st.markdown("**Generated** " + ("decoder mean of z" if means else "x ~ p(x | z)") + ", z ~ N(0, I)")
        fig = add_points(plane_figure(extent, height=380), data.x, name="data", color="#BBBBBB", opacity=0.6)
        add_points(fig, result["means" if means else "samples"], name="generated", color=GENERATED_COLOR,
                   opacity=0.8)
        st.plotly_chart(fig, key="toy_generated", config={"displaylogo": False})
        st.toggle("Decoder means only (no noise)", key="toy_means",
                  help="The mean of p(x|z) for each z: the curve or sheet the decoder has learned, without the "
                       "Gaussian noise it adds around it")
    st.success(f"Trained {steps:,} steps in {result['seconds']:.1f} s · final loss {result['loss']:.2f} nats per "
               f"point · a generated point lies on average {result['gen_distance']:.3f} from the nearest data "
               f"point (for a fresh sample of real data: {result['data_distance']:.3f}).")
    if name == "ring":
        st.caption("Between separate clusters the decoder must still send the prior's mass somewhere: a VAE with a "
                   "continuous latent space draws thin bridges from one cluster to the next.")
