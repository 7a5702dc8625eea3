from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from stance.cli import main
from stance.model import card_path_for

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, pattern: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("stance: error: ")
    assert "Traceback" not in err
    assert pattern in lines[0], lines[0]


def test_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["stance"] == "stance.cli:main"


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stance.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("train", "evaluate", "predict", "extract"):
        assert command in result.stdout


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "usage: stance" in err


def test_train_then_evaluate_json(
    capsys: pytest.CaptureFixture[str], tiny_csv: Path, tmp_path: Path
) -> None:
    out_path = tmp_path / "m.joblib"
    code, out, _ = run(
        capsys, "train", str(tiny_csv), "--out", str(out_path), "--no-search", "--quiet"
    )
    assert code == 0 and out_path.exists() and card_path_for(out_path).exists()
    code, out, _ = run(capsys, "evaluate", str(tiny_csv), "--model", str(out_path), "--json")
    assert code == 0
    report = json.loads(out)
    assert {"accuracy", "macro_f1", "n", "per_class", "confusion"} <= set(report)
    assert report["n"] == 24
    assert report["confusion"]["labels"] == ["anti", "neutral", "pro"]
    assert sum(map(sum, report["confusion"]["matrix"])) == 24
    assert set(report["per_class"]["pro"]) == {"precision", "recall", "f1", "support"}


def test_same_data_and_seed_give_same_predictions(
    capsys: pytest.CaptureFixture[str], tiny_csv: Path, tmp_path: Path
) -> None:
    outputs = []
    for name in ("a.joblib", "b.joblib"):
        assert (
            run(
                capsys,
                "train",
                str(tiny_csv),
                "--out",
                str(tmp_path / name),
                "--seed",
                "7",
                "--quiet",
            )[0]
            == 0
        )
        code, out, _ = run(
            capsys,
            "predict",
            "We could talk next week.",
            "--model",
            str(tmp_path / name),
            "--json",
            "--speaker",
            "X",
        )
        assert code == 0
        record = json.loads(out)
        record.pop("model_version")
        outputs.append(record)
    assert outputs[0] == outputs[1]


def test_evaluate_text_table(
    capsys: pytest.CaptureFixture[str], tiny_csv: Path, tiny_model_path: Path
) -> None:
    code, out, _ = run(capsys, "evaluate", str(tiny_csv), "--model", str(tiny_model_path))
    assert code == 0 and "macro-F1" in out and "confusion" in out


def test_predict_json_with_speaker_and_explanation(
    capsys: pytest.CaptureFixture[str], tiny_model_path: Path
) -> None:
    code, out, _ = run(
        capsys,
        "predict",
        "No negotiations until they leave.",
        "--speaker",
        "Fay Moreau",
        "--explain",
        "--json",
        "--model",
        str(tiny_model_path),
    )
    assert code == 0
    record = json.loads(out)
    assert set(record) == {
        "text",
        "speaker",
        "label",
        "confidence",
        "probabilities",
        "model_version",
        "explanation",
    }
    assert record["speaker"] == "Fay Moreau"
    assert record["explanation"] and {"feature", "weight"} == set(record["explanation"][0])


def test_predict_plain_output(capsys: pytest.CaptureFixture[str], tiny_model_path: Path) -> None:
    code, out, _ = run(
        capsys,
        "predict",
        "We are ready to talk.",
        "--speaker",
        "Ana",
        "--model",
        str(tiny_model_path),
    )
    assert code == 0 and out.startswith("Ana: ")


def test_model_from_environment(
    capsys: pytest.CaptureFixture[str], tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANCE_MODEL_PATH", str(tiny_model_path))
    code, out, _ = run(capsys, "predict", "We are ready to talk.", "--speaker", "Ana", "--json")
    assert code == 0 and json.loads(out)["model_version"].startswith("stance-")


@pytest.fixture
def tampered_model(tiny_model_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "bad.joblib"
    shutil.copy(tiny_model_path, target)
    shutil.copy(card_path_for(tiny_model_path), card_path_for(target))
    with target.open("ab") as handle:
        handle.write(b"tampered")
    return target


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["evaluate", "/nonexistent.csv"], "/nonexistent.csv: no such file"),
        (["train", "/nonexistent.csv", "--out", "{tmp}/x.joblib"], "no such file"),
        (
            ["evaluate", "{csv}", "--text-column", "quote", "--model", "{model}"],
            "missing column 'quote'",
        ),
        (["evaluate", "{badlabel}", "--model", "{model}"], "unknown 'label' 'maybe'"),
        (["evaluate", "{latin1}", "--model", "{model}"], "not UTF-8"),
        (["evaluate", "{csv}", "--model", "{tampered}"], "does not match its card"),
        (["evaluate", "{csv}", "--model", "{tmp}/none.joblib"], "no model artifact there"),
        (["predict", "   ", "--model", "{model}"], "the text to classify is empty"),
        (["train", "{onelabel}", "--out", "{tmp}/x.joblib"], "at least two labels"),
    ],
)
def test_user_mistakes_are_one_line_errors(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_csv: Path,
    tiny_model_path: Path,
    tampered_model: Path,
    argv: list[str],
    pattern: str,
) -> None:
    (tmp_path / "badlabel.csv").write_text("text,label\nWe want talks,maybe\n", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes("text,label\nCaf\u00e9,pro\n".encode("latin-1"))
    (tmp_path / "onelabel.csv").write_text(
        "text,label\nWe want talks,pro\nTalk now,pro\n", encoding="utf-8"
    )
    names = {
        "tmp": str(tmp_path),
        "csv": str(tiny_csv),
        "model": str(tiny_model_path),
        "tampered": str(tampered_model),
        "badlabel": str(tmp_path / "badlabel.csv"),
        "latin1": str(tmp_path / "latin1.csv"),
        "onelabel": str(tmp_path / "onelabel.csv"),
    }
    code, _, err = run(capsys, *[a.format(**names) for a in argv])
    assert_one_line_error(code, err, pattern)


def test_encoding_option_reads_other_encodings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\nCaf\u00e9 talks resumed,neutral\n".encode("latin-1"))
    code, out, _ = run(
        capsys,
        "evaluate",
        str(path),
        "--encoding",
        "latin-1",
        "--json",
        "--model",
        str(tiny_model_path),
    )
    assert code == 0 and json.loads(out)["n"] == 1


def test_skip_invalid_reports_count(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_model_path: Path
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("text,label\nWe want talks,pro\n,anti\nNo talks,bogus\n", encoding="utf-8")
    code, out, err = run(
        capsys, "evaluate", str(path), "--skip-invalid", "--json", "--model", str(tiny_model_path)
    )
    assert code == 0
    assert json.loads(out)["skipped"] == 2 and json.loads(out)["n"] == 1
    assert "mixed.csv:3: " in err and "mixed.csv:4: " in err  # named, not dropped silently
    assert json.loads(out)["skipped_rows"][1].endswith(
        "mixed.csv:4: unknown 'label' 'bogus' (expected pro, anti or neutral, or an alias)"
    )


def test_missing_file_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stance.cli", "evaluate", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('"There is nothing to discuss until they leave," Kuleba said.', "Dmytro Kuleba"),
        ("Lavrov: we have never refused talks.", "Sergei Lavrov"),
        ("We have never refused talks.", None),
    ],
)
def test_predict_attaches_the_speaker_found_in_the_text(
    capsys: pytest.CaptureFixture[str], tiny_model_path: Path, text: str, speaker: str | None
) -> None:
    code, out, _ = run(capsys, "predict", text, "--json", "--model", str(tiny_model_path))
    assert code == 0 and json.loads(out)["speaker"] == speaker
