"""Generate: new images of a chosen class, or from the prior."""

import streamlit as st

import vae_core as vc
from ui.state import class_model, keep_across_pages, model_state
from ui.widgets import grid_columns, image_grid, pixel_image, png_download, require_model, reseed

keep_across_pages(gen_n=36, gen_temperature=1.0, gen_seed=0, gen_class_temperature=vc.DEFAULT_TEMPERATURE)
entry = require_model()
ckpt = entry.ckpt
maker = class_model(entry).ckpt  # the model that makes a chosen class (a conditional VAE where one ships)
state = model_state(entry)
noun = "digit" if ckpt.dataset == "mnist" else "item"


def made(n: int, name: str) -> str:
    """What was made, in words: "16 new 4s", "16 new Bag images"."""
    return f"{n} new {name}s" if noun == "digit" else f"{n} new {name} images"


st.title("Generate new images")

st.subheader(f"Make {'an' if noun[0] in 'aeiou' else 'a'} {noun}")
if maker.config.num_classes:
    st.caption(f"Press a button: a conditional VAE, told the class, decodes random points of its 2-D style "
               f"space (slant, width, stroke) into brand-new {noun}s of that class. Press again for more.")
elif maker.latents is not None:
    st.caption(f"Press a button: the model decodes points near the test {noun}s of that class that lie among "
               f"their own kind in its latent space. Press again for more.")
else:
    st.info("This model carries neither class inputs nor test-set codes, so it cannot make a chosen class.")


def choose(label: int) -> None:
    state["generate_class"] = label
    state["class_seed"] = state.get("class_seed", 0) + 1


if maker.config.num_classes or maker.latents is not None:
    with st.container(horizontal=True, gap="small"):  # wraps into a compact grid on a phone
        for label, name in enumerate(maker.classes):
            st.button(name, key=f"gen_class_{label}", on_click=choose, args=(label,),
                      type="primary" if state.get("generate_class") == label else "secondary")
    variety = st.slider("Variety", 0.3, 1.5, step=0.05, key="gen_class_temperature",
                        help="How far the random styles may stray from the typical one (the temperature of "
                             "the draw): low makes tidy, similar images; high, bolder and more varied ones.")
    if "generate_class" in state:
        label, seed = state["generate_class"], state["class_seed"]
        grid = image_grid(vc.generate_class(maker, label, 16, seed=seed, temperature=variety), 8)
        pixel_image(st, grid, made(16, maker.classes[label]), scale=4)
        png_download(st, grid, f"class-{label}.png", key="gen_class_download")
        if maker.config.num_classes:
            st.markdown("**One style, every class**")
            style = vc.sample_prior(1, maker.config.latent_dim, variety, seed)[0]
            row = vc.style_in_every_class(maker, style)
            pixel_image(st, image_grid(row, len(row)), f"The style at z = ({style[0]:.2f}, {style[1]:.2f}) "
                        f"drawn as each class: the model keeps what class an image is apart from how it is drawn.",
                        scale=3)

st.divider()
st.subheader("Sample from the prior")
st.caption("Points drawn from N(0, T²·I) and decoded. Lower temperatures stay near the centre of the "
           "latent space (typical, cleaner images); higher ones explore its edges.")
if ckpt.config.num_classes:
    st.info("This is a conditional model: every image it draws needs a class, chosen above.")
    st.stop()
left, right = st.columns([1, 3], gap="large")
with left:
    n = st.slider("How many", 4, 100, key="gen_n")
    temperature = st.slider("Temperature T", 0.1, 2.0, step=0.05, key="gen_temperature")
    seed = st.number_input("Seed", 0, 1_000_000, key="gen_seed")
    st.button("New samples", on_click=reseed, args=("gen_seed",), icon=":material/casino:")
z = vc.sample_prior(n, ckpt.config.latent_dim, temperature, seed)
grid = image_grid(vc.decode(ckpt.model, z), grid_columns(n))
with right:
    pixel_image(st, grid, f"{n} samples · T = {temperature:.2f} · seed {seed}", scale=4)
    png_download(st, grid, "samples.png", key="gen_prior_download")
