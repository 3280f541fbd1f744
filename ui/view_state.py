"""The view a visitor looks at: which model, and with each model its pin (Explore's picked point)
and its interpolation endpoints.

It lives in one place, the session's ``ViewState`` (ui.state.view_state). Everything else is
derived from it on every run: the sidebar's model picker, the share link (ui/links.py), the
planes' payloads (pages/explore.py, pages/interpolate.py, pages/inside.py). A link opened or a
plane clicked writes here, and nowhere else.

Pure (no Streamlit), so it is tested as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ui.link_format import Point

End = Literal["a", "b"]


@dataclass
class ModelView:
    """One model's place in the view, kept when the visitor switches to another model and back."""

    pin: Point | None = None  # Explore's pinned test image or spot
    endpoints: dict[str, Point] = field(default_factory=dict)  # Interpolate's "a" and "b"
    next_endpoint: End = "a"  # the endpoint a click on the plane places next

    def place(self, pin: Point | None = None, endpoints: dict[str, Point] | None = None) -> None:
        """Take this pin and these endpoints where given (a link, a click); keep the rest."""
        if pin is not None:
            self.pin = pin
        if endpoints:
            self.endpoints.update(endpoints)


@dataclass
class ViewState:
    """The model shown (a ModelEntry.id, None before the first run has chosen one) and each model's view."""

    model: str | None = None
    models: dict[str, ModelView] = field(default_factory=dict)

    def of(self, model: str) -> ModelView:
        """The view of ``model`` (a new, empty one the first time)."""
        return self.models.setdefault(model, ModelView())

    @property
    def current(self) -> ModelView:
        """The shown model's view (an empty one, not kept, when no model is shown)."""
        return self.of(self.model) if self.model is not None else ModelView()

    def show(self, model: str, pin: Point | None = None, endpoints: dict[str, Point] | None = None) -> None:
        """Show ``model``, with this pin and these endpoints where given (a link, a click)."""
        self.model = model
        self.of(model).place(pin, endpoints)

    def forget(self, model: str) -> None:
        """A model let go: its view goes with it (the next run shows another model)."""
        self.models.pop(model, None)
        if self.model == model:
            self.model = None
