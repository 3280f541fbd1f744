"""VAE Latent Explorer: `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="VAE Latent Explorer", page_icon=":material/scatter_plot:", layout="wide")

from ui.sidebar import model_sidebar  # noqa: E402  (page config must come first)
from ui.state import keep_widget_state  # noqa: E402

# Widget values that must survive page switches (see keep_widget_state).
keep_widget_state("explore_manifold", "interp_steps", "interp_method", "interp_t", "interp_mode",
                  "gen_n", "gen_temperature", "gen_seed", "train_preset", "train_dataset", "train_epochs",
                  "train_batch_size", "train_lr", "train_beta", "train_hidden", "train_seed", "train_limit",
                  "train_iwae_k")

page = st.navigation([
    st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:", default=True),
    st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:"),
    st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
])
st.session_state["current_entry"] = model_sidebar()
page.run()
