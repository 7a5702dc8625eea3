from __future__ import annotations

import importlib.util
import shutil

import pytest

import stance


def test_public_surface_is_pinned() -> None:
    assert sorted(stance.__all__) == [
        "DataError",
        "InputError",
        "ModelLoadError",
        "Prediction",
        "StanceError",
        "StanceModel",
        "__version__",
        "load_model",
    ]
    for name in stance.__all__:
        assert hasattr(stance, name), name


def test_errors_form_one_family() -> None:
    for name in ("DataError", "InputError", "ModelLoadError"):
        assert issubclass(getattr(stance, name), stance.StanceError)


def test_the_c_scorer_is_built_where_a_compiler_is() -> None:
    # Optional at install (no compiler: the Python path answers), but on a machine with one, a
    # missing extension means the build broke silently and every prediction is 7x slower.
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler on this machine: the pure-Python path is expected")
    from stance.model import load_model

    assert importlib.util.find_spec("stance._fastpath") is not None
    assert load_model().compiled
