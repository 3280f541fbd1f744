"""AE vs VAE: a plain autoencoder's latent space beside a VAE's, and decodes of the same
random points from each, to see why only the VAE's space can be sampled."""

import streamlit as st

import vae_core as vc
from ui.latent_plane import ComparePayload, latent_plane
from ui.scores import latent_space_stats, metric, reach_sentence
from ui.state import DATASET_TITLES, autoencoder_and_vae, keep_across_pages
from ui.widgets import (image_grid, pixel_image, plain_markdown, plane_model_of, png_download, require_model,
                        require_view, reseed)
from vae_core.compare import LatentSource, prior_reach, random_latents

SOURCES: dict[LatentSource, str] = {"prior": "N(0, I): the VAE's prior", "uniform": "Uniform over each plot"}

keep_across_pages(compare_source="prior", compare_n=16, compare_seed=0, compare_same_scale=False)
entry = require_model()
st.title("Autoencoder vs VAE")
st.caption("Point at either plane: both models decode that same z, side by side. Same architecture, same data, "
           "same trainer. The autoencoder is trained only to reconstruct, so it may put its codes anywhere. The VAE "
           "also pays a KL penalty for codes that stray from N(0, I), which packs them into a known, gap-free "
           "region: any point drawn from N(0, I) decodes to a plausible image.")

ae, vae = autoencoder_and_vae(entry)
if ae is None or vae is None:
    missing = "autoencoder" if ae is None else "VAE"
    st.info(f"No pretrained {missing} ships for {DATASET_TITLES.get(entry.ckpt.dataset, entry.ckpt.dataset)}. "
            "Pick an MNIST or Fashion-MNIST model in the sidebar.")
    st.stop()
no_latents = "These checkpoints carry no test-set latents and the dataset is not on disk."
views = {"ae": require_view(ae, no_latents), "vae": require_view(vae, no_latents)}

controls = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
source = controls[0].radio("Random points from", list(SOURCES), format_func=SOURCES.get, horizontal=True,
                           key="compare_source")
n = controls[1].slider("How many", 8, 40, step=8, key="compare_n")
seed = controls[2].number_input("Seed", 0, 1_000_000, key="compare_seed")
controls[3].button("New points", on_click=reseed, args=("compare_seed",), icon=":material/casino:", width="stretch")
same_scale = st.toggle("Same axes for both", key="compare_same_scale",
                       help="Draw both plots over the larger of the two extents, to compare their scales")

shared_extent = max(v.extent for v in views.values())
for (side, model_entry), column in zip((("ae", ae), ("vae", vae)), st.columns(2, gap="large")):
    view, ckpt = views[side], model_entry.ckpt
    with column:
        st.subheader("Autoencoder" if side == "ae" else "VAE")
        recon, knn = metric(model_entry, "recon"), metric(model_entry, "knn_accuracy")
        figures = (f"test reconstruction {recon:.1f} nats" if recon is not None else "no test metrics") + \
            (f" · k-NN {100 * knn:.1f} %" if knn is not None else "")
        # two lines on both sides, so the plots below stay level
        st.caption(f"{plain_markdown(model_entry.label)}  \n{figures}")
        # The same seed gives the same points (N(0, I)) or the same relative places (uniform) for both.
        z = random_latents(n, ckpt.config.latent_dim, seed, source, view.extent)
        model = plane_model_of(model_entry, view, extent=shared_extent if same_scale else view.extent)
        latent_plane(f"compare_plane_{side}", ComparePayload(model=model, group="compare", height=460,
                                                             marks=z[:, :2].round(4).tolist()))
        grid = image_grid(vc.decode(ckpt.model, z), 8)
        pixel_image(st, grid, f"Decodes of the {n} random points marked × on the plane (seed {seed})", scale=3)
        png_download(st, grid, f"{side}-decodes.png", scale=3, key=f"compare_png_{side}")
        s = latent_space_stats(model_entry, view, source)
        st.markdown(f"Of 2,000 points drawn this way, **{100 * s['holes']:.0f} %** land far from every test code, "
                    f"and their nearest codes are as varied as **{s['variety']:.1f}** equally common classes "
                    f"(of {len(ckpt.classes)}).",
                    help="Far: farther from any test code than 99 % of the test codes are from their nearest "
                         "neighbour, so the decoder never saw anything there. Varied: the exponential of the "
                         "entropy of the classes of the points' nearest test codes.")
        if ckpt.config.latent_dim == 2:
            st.markdown(reach_sentence(prior_reach(view.z_mean, view.labels, len(ckpt.classes)), ckpt.classes))

st.divider()
st.markdown("""
**What to look for**

- **Scale.** The autoencoder's codes spread as far as reconstruction happened to push them; the VAE's stay
  within a few units of the origin, where N(0, I) lives, because the KL term charges for straying.
- **Sampling.** Points from N(0, I) are a fair draw for the VAE: their decodes cover every class. For the
  autoencoder the same points fall only on the classes that happen to sit near its origin, and whole classes
  may lie beyond their reach (the last line under each plot says which).
- **Holes.** Points from N(0, I) rarely fall in a hole of the VAE (the share under its plot): the KL term
  packs its codes where the prior puts its mass. Uniform points cover each whole square, corners included,
  and there both models meet places no training image was encoded to and draw smudges or near-blank images:
  the autoencoder in its empty wedges between classes, the VAE beyond the prior's 3σ, where it was never
  asked to draw anything. A VAE is smooth where its prior lives, not everywhere.
- **The price.** The KL term costs the VAE some reconstruction accuracy, but in two dimensions little:
  compare the test reconstruction under each title (the shipped VAEs trained 160 epochs, the autoencoders 30).
""")
