"""Train: fit your own VAE in the browser. The training waits its turn in the server's queue
and runs in a worker process; the page only polls its progress, so other widgets and pages
stay usable, and redraws its figures only when an epoch ends."""

import streamlit as st

import vae_core as vc
from ui.figures import history_figure
from ui.jobs import DownloadJob, TrainingJob
from ui.latent_plane import ComparePayload, PlaneModel, latent_plane, points_asset
from ui.latent_plane.assets import publish
from ui.session_keys import (DOWNLOAD_ANNOUNCED, DOWNLOAD_JOB, TRAIN_ADDED, TRAIN_DRAWN, TRAIN_ERROR, TRAIN_FIGURES,
                             TRAIN_JOB)
from ui.state import DATASET_TITLES, MAX_USER_MODELS, add_trained_model, keep_across_pages
from ui.training_queue import QueueError, line_sentence
from ui.training_service import current_session, server_queue
from ui.widgets import ensure_shell

PRESETS = {
    "Quick (under a minute)": dict(hidden="256", epochs=8, batch_size=256, lr=3e-3, beta=1.0, iwae_k=20),
    "Standard (about 5 minutes)": dict(hidden="512,256", epochs=40, batch_size=256, lr=2e-3, beta=1.0, iwae_k=100),
    "Custom": None,
}
# β, the weight of the KL term: 0 (reconstruction only), 1 (the true ELBO), 4 (a β-VAE), ...
BETAS = [0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
# The live plane's words: a training's decoder stays in its worker process until the model is done.
NO_DECODER = "Decoding comes with the trained model."  # (one line on the plane, even a phone's)
LIVE_HINT = ("Each dot is a test image's code: watch the classes spread out and separate as it trains. The trained "
             "model joins the model picker, and Explore decodes any spot of it. Point at the plane to read a "
             "spot's z; the chips hide and show classes.")

ensure_shell()
keep_across_pages("train_preset", "train_dataset", "train_epochs", "train_batch_size", "train_lr", "train_beta",
                  "train_hidden", "train_iwae_k", train_seed=0, train_limit=60_000)
st.title("Train your own model")
job: TrainingJob | None = st.session_state.get(TRAIN_JOB)
download_job: DownloadJob | None = st.session_state.get(DOWNLOAD_JOB)
job_snapshot = job.snapshot() if job is not None else None
busy = job_snapshot is not None and job_snapshot.running
queued = busy and job_snapshot.status == "queued"


def jobs_running() -> bool:
    return any(j is not None and j.snapshot().running
               for j in (st.session_state.get(TRAIN_JOB), st.session_state.get(DOWNLOAD_JOB)))


polling = jobs_running()


def apply_preset() -> None:
    preset = PRESETS[st.session_state["train_preset"]]
    if preset:
        for key, value in preset.items():
            st.session_state[f"train_{key}"] = value


if "train_hidden" not in st.session_state:
    st.session_state["train_preset"] = next(iter(PRESETS))
    apply_preset()
if st.session_state.get("train_beta") not in BETAS:
    st.session_state["train_beta"] = 1.0

settings, live = st.columns([2, 3], gap="large")
with settings:
    st.selectbox("Preset", list(PRESETS), key="train_preset", on_change=apply_preset, disabled=busy)
    dataset = st.selectbox("Dataset", list(vc.DATASETS), format_func=DATASET_TITLES.get, key="train_dataset",
                           disabled=busy)
    st.select_slider("β, the weight of the KL term", BETAS, key="train_beta", format_func=lambda b: f"{b:g}",
                     disabled=busy)
    st.caption("β trades reconstruction against the pull of every code towards N(0, I): **0** reconstructs "
               "best but leaves a gappy space like an autoencoder's, **1** is the true ELBO, **4** gives a "
               "smoother, more sampleable space with blurrier images.")
    with st.expander("Settings", expanded=st.session_state["train_preset"] == "Custom"):
        c1, c2 = st.columns(2)
        c1.number_input("Epochs", 1, 500, key="train_epochs", disabled=busy)
        c2.select_slider("Batch size", [32, 64, 128, 256, 512, 1024, 2048], key="train_batch_size", disabled=busy)
        c1.number_input("Learning rate", 1e-5, 1.0, key="train_lr", format="%.4f", step=1e-4, disabled=busy)
        c1.text_input("Encoder layer sizes", key="train_hidden", help="Comma-separated widths, e.g. 512,256; "
                      "the decoder mirrors them", disabled=busy)
        c2.number_input("Seed", 0, 1_000_000, key="train_seed", disabled=busy)
        c1.number_input("Training images", 1_000, 60_000, step=1_000, key="train_limit", disabled=busy,
                        help="Fewer images train faster (the test set shrinks in proportion)")
        c2.number_input("−log p(x) samples (K)", 1, 1000, key="train_iwae_k", disabled=busy,
                        help="Importance samples for the final evaluation")

    missing = not vc.data.available(dataset)  # the same search order the loader uses
    if missing and not busy:
        st.warning(f"{DATASET_TITLES[dataset]} is not on this machine yet (about "
                   f"{'11' if dataset == 'mnist' else '30'} MB). Training needs it; everything else works without.")
        if download_job is None or not download_job.snapshot().running:
            st.button(f"Download {DATASET_TITLES[dataset]}", icon=":material/download:", key="train_download",
                      on_click=lambda: st.session_state.update({DOWNLOAD_JOB: DownloadJob(dataset).start(),
                                                                DOWNLOAD_ANNOUNCED: False}))
        if download_job is not None:
            snap = download_job.snapshot()
            if snap.status == "failed":
                st.error(snap.message)

    def start() -> None:
        try:
            model_config = vc.VAEConfig(hidden=vc.parse_layer_sizes(st.session_state["train_hidden"]))
            train_config = vc.TrainConfig(epochs=int(st.session_state["train_epochs"]),
                                          batch_size=int(st.session_state["train_batch_size"]),
                                          lr=float(st.session_state["train_lr"]),
                                          beta=float(st.session_state["train_beta"]),
                                          warmup_epochs=min(1.0, 0.1 * int(st.session_state["train_epochs"])),
                                          seed=int(st.session_state["train_seed"]))
        except (ValueError, vc.VAEError) as e:
            st.session_state[TRAIN_ERROR] = f"Check the settings: {e}"
            return
        st.session_state.pop(TRAIN_ERROR, None)
        limit = int(st.session_state["train_limit"])
        new_job = TrainingJob(st.session_state["train_dataset"], model_config, train_config,
                              limit=limit if limit < 60_000 else None, iwae_k=int(st.session_state["train_iwae_k"]))
        try:
            st.session_state[TRAIN_JOB] = new_job.start(server_queue(), current_session())
        except QueueError as e:
            st.session_state[TRAIN_ERROR] = str(e)
            return
        st.session_state[TRAIN_ADDED] = False

    def leave_queue() -> None:
        job.leave()
        st.session_state.pop(TRAIN_JOB, None)

    start_col, stop_col = st.columns(2)
    start_col.button("Start training", type="primary", on_click=start, disabled=busy or missing,
                     icon=":material/play_arrow:", width="stretch", key="train_start",
                     help=f"Training needs {DATASET_TITLES[dataset]}: download it above first." if missing else None)
    if queued:
        stop_col.button("Leave the queue", icon=":material/logout:", width="stretch", key="train_leave",
                        on_click=leave_queue)
    else:
        stop_col.button("Stop", disabled=not busy, icon=":material/stop:", width="stretch", key="train_stop",
                        on_click=lambda: job.stop())
    if TRAIN_ERROR in st.session_state:
        st.error(st.session_state[TRAIN_ERROR])


def progress_panel() -> None:
    """Polled every second while a job runs (see below): the progress line only, which costs
    the server next to nothing; a new epoch or the end of a job reruns the whole page."""
    job_progress()
    if polling and (not jobs_running() or figures_key() != st.session_state.get(TRAIN_DRAWN)):
        st.rerun()  # the whole page: its figures follow the new epoch, or the settings come back


def figures_key() -> tuple[int, int, bool] | None:
    """What the page shows of the session's training (see shown_of), or None without one."""
    job = st.session_state.get(TRAIN_JOB)
    return None if job is None else shown_of(job, job.snapshot())


def shown_of(job: TrainingJob, snap) -> tuple[int, int, bool]:
    """The training job, how many epochs it has completed, and whether it still waits in line (its
    start brings the Stop button)."""
    return id(job), len(snap.history), snap.status == "queued"


def job_figures() -> tuple | None:
    """The training's loss curves and its test codes for the live plane (the points file and the
    view's half-width, or None), built anew only when an epoch was added; records what they show,
    which the polling panel compares against."""
    job = st.session_state.get(TRAIN_JOB)
    snap = job.snapshot() if job is not None else None
    key = None if job is None else shown_of(job, snap)
    st.session_state[TRAIN_DRAWN] = key
    if snap is None or not snap.history:
        return None
    cached = st.session_state.get(TRAIN_FIGURES)
    if cached is None or cached[0][:2] != key[:2]:
        # every code (up to the test set's 10,000): a points file of 90 KB, drawn in the browser
        codes = ((points_asset(*snap.latents), vc.latent_extent(snap.latents[0]))
                 if snap.latents is not None else None)
        cached = st.session_state[TRAIN_FIGURES] = (key, history_figure(snap.history), codes)
    return cached


def live_plane(dataset: str, epochs: int, points: bytes, extent: float) -> ComparePayload:
    """The test codes after ``epochs`` epochs on the live latent plane, with no decoder. The points
    file is named by its content: a new epoch's is a new file, which the plane redraws; the same
    payload again (a rerun) only refreshes it."""
    # published on every full run (a stat when it exists): a file in use is the last the cache prunes
    model = PlaneModel(f"training/epoch-{epochs}", None, NO_DECODER, publish(points),
                       tuple(vc.DATASETS[dataset].classes), tuple(vc.PALETTE), extent)
    return ComparePayload(model=model, height=440, title=f"The test images' codes after epoch {epochs}",
                          hint=LIVE_HINT)


def draw_figures(figures: tuple | None) -> None:
    """The curves, and under them the plane (as wide as the column: its points need the room)."""
    if figures is None:
        return
    st.plotly_chart(figures[1], key="train_curves")
    if figures[2] is not None:
        latent_plane("train_plane", live_plane(st.session_state[TRAIN_JOB].dataset, figures[0][1], *figures[2]))


def job_progress() -> None:
    """The jobs' progress, place in line and outcome (the figures are drawn by the page: see job_figures)."""
    download = st.session_state.get(DOWNLOAD_JOB)
    if download is not None:
        snap = download.snapshot()
        if snap.running:
            st.progress(snap.fraction, text=snap.message or "downloading…")
        elif snap.status == "done" and not st.session_state.get(DOWNLOAD_ANNOUNCED):
            st.session_state[DOWNLOAD_ANNOUNCED] = True
            st.rerun()  # the whole page: the dataset is now available
    job = st.session_state.get(TRAIN_JOB)
    if job is None:
        st.info("Pick a preset and press **Start training**. Progress, loss curves and the latent space "
                "appear here, refreshed every epoch. You can switch pages meanwhile. Your session keeps your "
                f"{MAX_USER_MODELS} newest models; download one from the sidebar to keep it for good.")
        return
    snap = job.snapshot()
    ev = snap.last_event
    if snap.running:
        if snap.status == "queued":
            st.info(f"**{line_sentence(snap.place, snap.wait)}.** Trainings take turns on this server. You can "
                    "use the other pages meanwhile, or leave the queue.", icon=":material/schedule:")
        elif snap.status == "evaluating":  # its own bar: the training bar at 100 % with "ETA 0 s" looked stuck
            st.progress(snap.fraction, text=snap.message[:1].upper() + snap.message[1:] + "…")
        elif ev is None:
            st.progress(snap.fraction, text=snap.message or "starting…")
        else:
            st.progress(min(1.0, ev.step / ev.total_steps),
                        text=f"epoch {ev.epoch}/{ev.epochs} · step {ev.step:,}/{ev.total_steps:,} · "
                             f"loss {ev.loss:.1f} nats · ETA {ev.eta:.0f} s, then the evaluation")
    elif snap.status in ("done", "stopped") or (snap.status == "diverged" and snap.result is not None):
        if snap.result is not None and not st.session_state.get(TRAIN_ADDED):
            st.session_state[TRAIN_ADDED] = True
            add_trained_model(snap.result)
            st.rerun()  # the whole page, so the sidebar picker shows the new model
        m = snap.result.metrics if snap.result else {}
        if snap.status == "diverged":  # the weights of the last good epoch were kept
            st.error(f"{snap.message} That model is now selected in the model picker.")
        else:
            st.success(f"Finished: {snap.message} It is now selected in the model picker"
                       + (f" (test −ELBO {m['neg_elbo']:.1f} nats)." if "neg_elbo" in m else "."))
    elif snap.status == "diverged":
        st.error(snap.message)
    elif snap.status == "failed":
        st.error(f"Training failed: {snap.message}")


with live:
    figures = job_figures()
    # Polled only while a job runs: an idle Train page left open costs the server nothing.
    st.fragment(run_every=1.0 if polling else None)(progress_panel)()
    draw_figures(figures)
