"""Toy world: a VAE on 2-D data with a 2-D latent space, trained in seconds, so the data, its
codes and newly generated points can all be seen at once."""

import numpy as np
import streamlit as st

from vae_core.figures import add_points, add_prior_circles, latent_extent, plane_figure
from vae_core.toy import (COMPONENT_NAMES, TOY_DATASETS, build_toy_model, make_toy, mean_nn_distance, toy_encode,
                          toy_generate, train_toy)
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


def coloured(fig, points):
    if colour == "component":
        return add_points(fig, points, groups=data.component, names=names)
    return add_points(fig, points, values=angle)


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
        "latents": toy_encode(model, data.x)[0], "samples": samples,
        "means": toy_generate(model, n, seed=seed + 1, noise=False),
        "gen_distance": mean_nn_distance(samples, data.x),
        "data_distance": mean_nn_distance(make_toy(name, n, noise, seed + 1).x, data.x)}

result = st.session_state.get("toy_result")
if result is not None and result["key"] != key:
    result = None  # trained on other settings
extent = latent_extent(data.x, margin=0.3, floor=1.5)
plots = st.columns(3, gap="medium")
with plots[0]:
    st.markdown("**Data** x")
    st.plotly_chart(coloured(plane_figure(extent, height=380), data.x), key="toy_data",
                    config={"displaylogo": False})
if result is None:
    plots[1].info("Press **Train** (a few seconds). The codes of these points and newly generated points "
                  "appear here.")
else:
    with plots[1]:
        st.markdown("**Latent codes** z = μ(x)")
        fig = add_prior_circles(plane_figure(latent_extent(result["latents"], margin=0.3), axes=("z₁", "z₂"),
                                             height=380))
        st.plotly_chart(coloured(fig, result["latents"]), key="toy_latents", config={"displaylogo": False})
        st.caption("Same colours as the data: see where each part of it goes. Circles: 1σ and 2σ of N(0, I).")
    with plots[2]:
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
