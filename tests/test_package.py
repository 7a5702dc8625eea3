from __future__ import annotations

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
