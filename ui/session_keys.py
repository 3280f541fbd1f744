"""The app's own session-state keys, in one place, each with what it holds. Widgets' keys are
named at their widget (and kept across pages with ui.state.keep_across_pages).

Imports nothing, so every module can use it.
"""

from typing import Final

# Models and choices (ui/state.py, ui/links.py, ui/sidebar.py)
VIEW: Final = "view"  # the ViewState (ui/view_state.py): the model shown, each model's pin and endpoints
USER_MODELS: Final = "user_models"  # {ModelEntry.id: ModelEntry}: the visitor's own models, oldest first
PER_MODEL: Final = "per_model"  # {ModelEntry.id: ModelState}: a page's other choices made with each model
MODEL_PICKER: Final = "model_id"  # the picker widget's key: set from the view before the picker is drawn
MODEL_NOTICE: Final = "model_notice"  # a sentence for the visitor, shown once (a model let go)
KEPT_WIDGETS: Final = "kept_widgets"  # set of widget keys re-stored on every run (see keep_across_pages)
LINK_APPLIED: Final = "link_applied"  # True once the URL's view was taken (a session's first run)
UPLOAD_ERROR: Final = "upload_error"  # why the last uploaded checkpoint was refused

# The Train page
TRAIN_JOB: Final = "train_job"  # the session's TrainingJob (ui/jobs.py)
TRAIN_DRAWN: Final = "train_drawn"  # (id of the job, epochs, still in line) the page was last drawn for
TRAIN_FIGURES: Final = "train_figures"  # ((id of the job, epochs, …), curves figure, (points file, extent) or None)
TRAIN_ERROR: Final = "train_error"  # why the training settings were refused
TRAIN_ADDED: Final = "train_added"  # True once the finished job's model joined the picker
MODELS_TRAINED: Final = "models_trained"  # how many models the session trained ("My model N")
DOWNLOAD_JOB: Final = "download_job"  # the session's DownloadJob
DOWNLOAD_ANNOUNCED: Final = "download_announced"  # True once a finished download reran the page

# The Toy world page
TOY_TRAIN_REQUESTED: Final = "toy_train_requested"  # True from the Train button's click to the next run
TOY_FIT: Final = "toy_fit"  # (settings, ToyFit): the session's toy model and what it was trained on

# The Your digit page
ENC_DRAWING: Final = "enc_drawing"  # the canvas's strokes (fabric.js JSON) as last drawn
ANOMALY_DETAILS: Final = "anomaly_details"  # where the selected image's details show: "plane" or "gallery"
ENC_RESTORE: Final = "enc_restore"  # the strokes the canvas redraws when it mounts again (after Upload)

# The Inside the VAE page
INSIDE_PIN_SEEN: Final = "inside_pin_seen"  # (model id, index) of Explore's pin last taken as the image walked
