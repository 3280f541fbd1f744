"""VAE Latent Explorer: `streamlit run app.py`.

Run by Streamlit for each visitor (``__name__ == "__main__"``, see main), and imported once by the
server: `streamlit run` finds ``app`` below and serves, beside the app, the room page
(ui/room_site.py) that phones open without a Streamlit session."""

from pathlib import Path

import streamlit as st

from ui.navigation import app_navigation


def main() -> None:
    # a local icon: a Material icon as the page icon makes the browser fetch it from a font server
    st.set_page_config(page_title="VAE Latent Explorer", page_icon=str(Path(__file__).parent / "ui" / "icon.png"),
                       layout="wide")

    # The app's own navigation, drawn at once, before the imports below. Streamlit's
    # built-in one is switched off (client.showSidebarNavigation in .streamlit/config.toml): with a
    # pages/ folder, a server's first run would first show its legacy list of the folder's file names.
    PAGES = [
        st.Page("pages/explore.py", title="Explore", icon=":material/scatter_plot:", default=True),
        st.Page("pages/interpolate.py", title="Interpolate", icon=":material/timeline:"),
        st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:"),
        st.Page("pages/encode.py", title="Your digit", icon=":material/draw:"),
        st.Page("pages/inside.py", title="Inside the VAE", icon=":material/neurology:"),
        st.Page("pages/anomaly.py", title="Anomalies", icon=":material/troubleshoot:"),
        st.Page("pages/compare.py", title="AE vs VAE", icon=":material/compare:"),
        st.Page("pages/toy.py", title="Toy world", icon=":material/grain:"),
        st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    ]
    page = st.navigation(PAGES, position="hidden")
    app_navigation(PAGES)

    from ui.links import apply_link, update_link  # (after the page config and navigation)
    from ui.sidebar import model_sidebar
    from ui.state import pretrained_entries, restore_kept_widgets
    from ui.warmup import warm_up_in_background

    restore_kept_widgets()  # the widget values the pages keep across page switches (see keep_across_pages)

    apply_link()  # a shared link's model, pick and endpoints into the view, on a session's first run
    model_sidebar()
    # The URL follows the view: as this run's clicks and link left it, before the page (once a page
    # stops early with st.stop, nothing more of its run reaches the browser), and as the page left
    # it (Interpolate's first endpoints); update_link writes only what changed.
    update_link()
    try:
        page.run()
        update_link()
    finally:  # also when the page stops early
        # the first page is drawn (without torch): now torch and the models, in the background
        warm_up_in_background([entry.ckpt for entry in pretrained_entries()])


if __name__ == "__main__":
    main()
else:
    from starlette.middleware import Middleware

    from ui.room_site import RoomMiddleware

    app = st.App("app.py", middleware=[Middleware(RoomMiddleware)])
