"""The shipped judge of a dataset (pretrained/classifier/<dataset>.safetensors): the CNN that
tells the classes apart, loaded once per server process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from ui import state

if TYPE_CHECKING:  # imports torch, which the first screen does without
    from vae_core.classifier import Classifier


@dataclass(frozen=True)
class Judge:
    model: Classifier
    classes: tuple[str, ...]
    test_accuracy: float  # its share right on the dataset's test set, in [0, 1]

    def read(self, image: np.ndarray) -> int:
        """The class it sees in one uint8 [28, 28] image."""
        from vae_core.classifier import classify

        return int(classify(self.model, image[None])[0])


@st.cache_resource(show_spinner=False)
def _load(path: str, mtime: float) -> Judge | str:
    from vae_core.classifier import load_classifier
    from vae_core.errors import VAEError

    try:
        model, meta = load_classifier(path)
    except VAEError as e:
        return str(e)
    return Judge(model, tuple(meta["classes"]), meta["test_accuracy"])


def shipped_judge(dataset: str) -> Judge | None:
    """The dataset's shipped judge, or None when none ships; a file that cannot be read is one
    sentence on the page (and None)."""
    if dataset not in state.DATASET_TITLES:  # an uploaded checkpoint names its dataset: never a path
        return None
    return state.load_shipped(state.PRETRAINED_DIR / "classifier" / f"{dataset}.safetensors", _load, "classifier")
