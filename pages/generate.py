"""Generate: new images from the prior, or of a chosen class."""

import streamlit as st

import vae_core as vc
from ui.state import keep_across_pages, latent_view, model_state
from ui.widgets import image_grid, pixel_image, png_download, require_model, reseed

keep_across_pages("gen_n", "gen_temperature", "gen_seed")
entry = require_model()
ckpt = entry.ckpt
view = latent_view(entry, entry.id)
state = model_state(entry)
noun = "digit" if ckpt.dataset == "mnist" else "item"

st.title("Generate new images")

st.subheader(f"Make {'an' if noun[0] in 'aeiou' else 'a'} {noun}")
if view is None:
    st.info("Class-conditional sampling needs the test-set latents, which this checkpoint does not carry.")
else:
    st.caption(f"Press a button: the model draws points near where that class lives in the latent space "
               f"and decodes them into brand-new {noun}s.")

    def choose(label: int) -> None:
        state["generate_class"] = label
        state["class_seed"] = state.get("class_seed", 0) + 1

    per_row = 5
    for row in range(0, len(ckpt.classes), per_row):
        for label, column in zip(range(row, row + per_row), st.columns(per_row)):
            if label < len(ckpt.classes):
                column.button(ckpt.classes[label], key=f"gen_class_{label}", on_click=choose, args=(label,),
                              width="stretch",
                              type="primary" if state.get("generate_class") == label else "secondary")
    if "generate_class" in state:
        label = state["generate_class"]
        z = vc.sample_class(view.gaussians, label, 16, temperature=0.75, seed=state["class_seed"])
        grid = image_grid(vc.decode(ckpt.model, z), 8)
        pixel_image(st, grid, f"16 new {noun}s of class {ckpt.classes[label]} (press again for more)", scale=4)
        png_download(st, grid, f"class-{label}.png", key="gen_class_download")

st.divider()
st.subheader("Sample from the prior")
st.caption("Points drawn from N(0, T²·I) and decoded. Lower temperatures stay near the centre of the "
           "latent space (typical, cleaner images); higher ones explore its edges.")
left, right = st.columns([1, 3], gap="large")
with left:
    n = st.slider("How many", 4, 100, 36, key="gen_n")
    temperature = st.slider("Temperature T", 0.1, 2.0, 1.0, step=0.05, key="gen_temperature")
    seed = st.number_input("Seed", 0, 1_000_000, 0, key="gen_seed")
    st.button("New samples", on_click=reseed, args=("gen_seed",), icon=":material/casino:")
z = vc.sample_prior(n, ckpt.config.latent_dim, temperature, seed)
grid = image_grid(vc.decode(ckpt.model, z), min(n, 10))
with right:
    pixel_image(st, grid, f"{n} samples · T = {temperature:.2f} · seed {seed}", scale=4)
    png_download(st, grid, "samples.png", key="gen_prior_download")
