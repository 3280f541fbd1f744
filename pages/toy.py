"""Toy world: a VAE on 2-D data with a 2-D latent space, trained in seconds, so the data, its
codes and newly generated points can all be seen at once."""

import streamlit as st

from ui.figures import add_points, angle_groups, component_groups, plane_figure
from ui.latent_plane import ToyPayload, ToyWorld, latent_plane, plane_model
from ui.session_keys import TOY_TRAIN_REQUESTED
from ui.state import keep_across_pages, keep_toy_fit, toy_fit
from ui.widgets import ensure_shell, plane_points
from vae_core.images import PICK_COLOR, latent_extent
from vae_core.toy import NEAR_NOISE, TOY_DATASETS, component_names, fit_toy, make_toy

ensure_shell()
keep_across_pages(toy_dataset="moons", toy_n=2000, toy_noise=0.1, toy_seed=0, toy_steps=1000, toy_beta=1.0,
                  toy_colour="component", toy_means=False)
st.title("Toy world")
st.caption("Here the data are points in a plane and the latent space is a plane too, so you can watch both maps "
           "a VAE learns. The encoder sends each point to a small region of the latent plane, pulled towards "
           "N(0, I); the decoder sends every latent point back to where data lives, which is why points drawn "
           "from N(0, I) and decoded look like new data.")

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
                 on_click=lambda: st.session_state.update({TOY_TRAIN_REQUESTED: True}))

settings = (name, n, noise, seed, steps, beta)
data = make_toy(name, n, noise, seed)
groups = (component_groups(data.component, component_names(name, data.components)) if colour == "component"
          else angle_groups(data.x))

if st.session_state.pop(TOY_TRAIN_REQUESTED, False):
    bar = st.progress(0.0, text="training…")

    def report(step: int, total: int, loss: float) -> None:
        bar.progress(step / total, text=f"step {step:,}/{total:,} · loss {loss:.2f} nats per point")

    keep_toy_fit(settings, fit_toy(name, n, noise, seed, steps, beta, callback=report))
    bar.empty()

fit = toy_fit(settings)  # None until trained on these settings
extent = latent_extent(data.x, margin=0.3, floor=1.5)
plots = st.columns([2, 1], gap="medium")
if fit is None:
    with plots[0]:
        st.markdown("**Data** x")
        st.plotly_chart(add_points(plane_figure(extent, height=380), data.x, groups=groups.labels, names=groups.names),
                        key="toy_data", config={"displaylogo": False})
    plots[1].info("Press **Train** (a few seconds). The codes of these points and newly generated points "
                  "appear here.")
else:
    with plots[0]:
        plane = plane_model(fit.model, f"toy/{'/'.join(map(str, settings))}", groups.names, groups.colors,
                            latent_extent(fit.latents, margin=0.3))
        world = ToyWorld(key=f"{settings}|{colour}", titles=("Data x", "Latent codes z = μ(x)"),
                         data=plane_points(data.x, groups.labels), names=tuple(groups.names), data_extent=extent)
        latent_plane("toy_plane", ToyPayload(model=plane, toy=world, points=plane_points(fit.latents, groups.labels),
                                             height=380))
        st.caption("Same colours in both planes: see where each part of the data goes. Point at the latent plane: "
                   "the ringed point in the data plane is the decoder's mean for that z. Circles: 1σ and 2σ of "
                   "N(0, I).")
    with plots[1]:
        means = st.session_state["toy_means"]
        st.markdown("**Generated** " + ("decoder mean of z" if means else "x ~ p(x | z)") + ", z ~ N(0, I)")
        fig = add_points(plane_figure(extent, height=380), data.x, name="data", color="#BBBBBB", opacity=0.6)
        add_points(fig, fit.means if means else fit.samples, name="generated", color=PICK_COLOR, opacity=0.8)
        st.plotly_chart(fig, key="toy_generated", config={"displaylogo": False})
        st.toggle("Decoder means only (no noise)", key="toy_means",
                  help="The mean of p(x|z) for each z: the curve or sheet the decoder has learned, without the "
                       "Gaussian noise it adds around it")
    st.success(f"Trained {steps:,} steps in {fit.training.seconds:.1f} s · final loss {fit.loss:.2f} nats per "
               f"point · {100 * fit.near_share:.0f} % of the generated points lie on the data (within "
               f"{NEAR_NOISE} noise σ of a data point); on average a generated point lies {fit.generated_distance:.3f} "
               f"from the nearest data point (a fresh sample of real data: {fit.data_distance:.3f}).")
    if name == "ring":
        st.info("Why the ring's generated points also lie between the clusters: z ~ N(0, I) covers the whole "
                "latent plane, while the codes of the eight clusters (middle plane) leave gaps between them and "
                "around the origin. The decoder is continuous, so it sends those gaps to thin bridges from one "
                "cluster to the next, and the prior's centre, where no code lies, to a sparse cloud inside the ring. "
                "Point at a gap in the latent plane to see where it goes. One Gaussian prior cannot avoid it; a "
                "mixture prior with a component per cluster would.")
