"""stance: where does a speaker stand on negotiating?

The public surface, kept short (a test pins it): load a model, predict, extract quotes, score
articles. Everything else lives in the submodules.
"""

from __future__ import annotations

from stance.errors import DataError, InputError, ModelLoadError, StanceError
from stance.model import Prediction, StanceModel, load_model

__all__ = [
    "DataError",
    "InputError",
    "ModelLoadError",
    "Prediction",
    "StanceError",
    "StanceModel",
    "__version__",
    "load_model",
]

__version__ = "0.1.0"
