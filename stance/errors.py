"""The project's exceptions: one family per kind of failure, all under StanceError.

Each message says what went wrong, where, and what to do; the CLI prints it as one line and the
API maps it to a 4xx.
"""

from __future__ import annotations


class StanceError(Exception):
    """Base class of every error that is the user's to fix (bad input, bad file, bad model)."""


class DataError(StanceError):
    """A labelled CSV that cannot be read or validated."""


class ModelLoadError(StanceError):
    """A model artifact that is missing, tampered with or of an unknown format."""


class InputError(StanceError):
    """An input to score (a table, an archive, an article) that cannot be read."""
