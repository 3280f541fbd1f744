"""The project's exception types.

Every error a user can cause (a bad file, a missing dataset, a divergent run)
is one of these, with a message that says what is wrong and what to do. The
CLI and the app show the message and carry on; anything else is a bug.
"""


class VAEError(Exception):
    """Base class of every error vae_core raises on purpose."""


class DataError(VAEError):
    """A dataset file is missing, corrupt, or cannot be downloaded."""


class CheckpointError(VAEError):
    """A checkpoint file cannot be read safely or does not fit its model."""


class ImageError(VAEError):
    """A user's image cannot be turned into a 28x28 digit."""


class ConfigError(VAEError):
    """A model or training setting is out of range."""


class DivergedError(VAEError):
    """A training diverged before its first epoch ended, so there is no model to keep."""
