"""`stance report`: the per-speaker figures, change detection, timelines, and the HTML itself
(escaped, self-contained, inline SVG), read from tables written here in every input format."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from stance.cli import main
from stance.errors import InputError
from stance.report import (
    UNKNOWN_SPEAKER,
    load_scored,
    monthly_timeline,
    prepare_scored,
    speaker_table,
    stance_changes,
    summary,
    top_quotes,
)
from stance.report_html import write_report

HOSTILE = '<script>alert("owned")</script> talks are a trap & a lie'
HOSTILE_NAME = "<img src=x onerror=alert(1)> $Mr$ Evil"
VERSION = "stance-test-0001"


def _row(speaker, label, date, confidence, quote, source=None, role=None) -> dict:
    probabilities = {"pro": 0.0, "anti": 0.0, "neutral": 0.0}
    if label:
        probabilities = {k: (1 - confidence) / 2 for k in probabilities} | {label: confidence}
    return {
        "speaker": speaker,
        "label": label,
        "confidence": confidence if label else None,
        "p_pro": probabilities["pro"],
        "p_anti": probabilities["anti"],
        "p_neutral": probabilities["neutral"],
        "model_version": VERSION if label else None,
        "date": date,
        "quote": quote,
        "source": source or f"wire-{abs(hash((speaker, quote))) % 10_000}",
        "speaker_role": role,
        "title": "An invented article",
    }


def scored_rows() -> list[dict]:
    rows = [
        # Ana Lind: 3 pro, 1 anti, 1 neutral over two months; one quote with a broken date.
        _row(
            "Ana Lind",
            "pro",
            "2023-01-05",
            0.90,
            "We are ready to meet them in Vienna.",
            role="foreign minister",
        ),
        _row(
            "Ana Lind",
            "pro",
            "2023-01-20T10:00:00Z",
            0.80,
            "Dialogue is the only way out.",
            role="foreign minister",
        ),
        _row(
            "Ana Lind",
            "anti",
            "2023-02-02",
            0.70,
            "Not while the shelling goes on.",
            role="minister",
        ),
        _row(
            "Ana Lind",
            "neutral",
            "2023-02-10",
            0.60,
            "The grain corridor reopened today.",
            role="foreign minister",
        ),
        _row(
            "Ana Lind",
            "pro",
            "sometime soon",
            0.50,
            "Our door stays open.",
            role="foreign minister",
        ),
        # Ben Okafor: two anti quotes, one of them the hostile text.
        _row("Ben Okafor", "anti", "2023-03-01", 0.99, HOSTILE),
        _row("Ben Okafor", "anti", None, 0.65, "Talks would only reward the invader."),
        # No speaker: one pro, one neutral; and an article with no quote at all.
        _row(None, "pro", "2023-01-07", 0.55, "Someone should call a ceasefire."),
        _row("  ", "neutral", "2023-01-08", 0.52, "Trains run late again."),
        _row(None, None, "2023-01-09", None, None),
        _row(HOSTILE_NAME, "pro", "2023-01-10", 0.58, "We can talk."),
    ]
    # Egon Varga moves from anti (six quotes, Jan-Mar 2023) to pro (six quotes, Apr-Jun 2023).
    for i in range(6):
        rows.append(
            _row(
                "Egon Varga",
                "anti",
                f"2023-0{1 + i // 2}-{10 + i:02d}",
                0.70 + i / 100,
                f"No talks until they leave, part {i}.",
            )
        )
        rows.append(
            _row(
                "Egon Varga",
                "pro",
                f"2023-0{4 + i // 2}-{10 + i:02d}",
                0.75 + i / 100,
                f"It is time to negotiate, part {i}.",
            )
        )
    # Fay Moreau: twelve dated quotes, steady (alternating anti/neutral): no change.
    for i in range(12):
        rows.append(
            _row(
                "Fay Moreau",
                "anti" if i % 2 else "neutral",
                f"2023-{1 + i // 2:02d}-15",
                0.6,
                f"Steady words {i}.",
            )
        )
    return rows


@pytest.fixture
def scored() -> pd.DataFrame:
    return pd.DataFrame(scored_rows())


def write_as(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:  # a Parquet dataset folder of two parts
        path.mkdir()
        half = len(frame) // 2
        frame.iloc[:half].to_parquet(path / "part-0.parquet", index=False)
        frame.iloc[half:].to_parquet(path / "part-1.parquet", index=False)
    return path


@pytest.fixture(params=["scored.parquet", "scored.csv", "scored.jsonl", "scored_dataset"])
def scored_path(request: pytest.FixtureRequest, scored: pd.DataFrame, tmp_path: Path) -> Path:
    return write_as(scored, tmp_path / request.param)


def by_speaker(table: pd.DataFrame) -> dict[str, dict]:
    return table.set_index("speaker").to_dict("index")


# -- the figures ---------------------------------------------------------------------------
def test_speaker_figures_are_exact_in_every_format(scored_path: Path) -> None:
    table = by_speaker(speaker_table(load_scored(scored_path)))
    ana = table["Ana Lind"]
    assert (ana["quotes"], ana["pro"], ana["anti"], ana["neutral"]) == (5, 3, 1, 1)
    assert ana["share_pro"] == pytest.approx(0.6)
    assert ana["share_anti"] == pytest.approx(0.2)
    assert ana["share_neutral"] == pytest.approx(0.2)
    assert ana["net_stance"] == pytest.approx(0.4)
    assert ana["mean_confidence"] == pytest.approx((0.9 + 0.8 + 0.7 + 0.6 + 0.5) / 5)
    assert ana["dated_quotes"] == 4  # "sometime soon" counts in the table, not in the timeline
    assert ana["first_date"] == pd.Timestamp("2023-01-05")
    assert ana["last_date"] == pd.Timestamp("2023-02-10")
    assert ana["role"] == "foreign minister"  # the most frequent of the speaker's roles

    ben = table["Ben Okafor"]
    assert (ben["quotes"], ben["anti"], ben["net_stance"]) == (2, 2, -1.0)
    assert ben["first_date"] == ben["last_date"] == pd.Timestamp("2023-03-01")

    unknown = table[UNKNOWN_SPEAKER]  # null and blank speakers together, never a stance of "nan"
    assert (unknown["quotes"], unknown["pro"], unknown["neutral"]) == (2, 1, 1)
    assert set(table) == {
        "Ana Lind",
        "Ben Okafor",
        "Egon Varga",
        "Fay Moreau",
        HOSTILE_NAME,
        UNKNOWN_SPEAKER,
    }


def test_table_order_and_columns(scored: pd.DataFrame) -> None:
    table = speaker_table(scored)
    assert list(table.columns) == [
        "speaker",
        "quotes",
        "pro",
        "anti",
        "neutral",
        "share_pro",
        "share_anti",
        "share_neutral",
        "net_stance",
        "mean_confidence",
        "dated_quotes",
        "first_date",
        "last_date",
        "role",
    ]
    assert table["speaker"].tolist()[:2] == ["Egon Varga", "Fay Moreau"]  # 12 quotes each, by name
    assert table["quotes"].is_monotonic_decreasing


def test_rows_without_a_label_are_documents_not_stances(scored: pd.DataFrame) -> None:
    facts = summary(scored)
    assert facts["rows"] == len(scored)
    assert facts["without_quotes"] == 1
    assert facts["quotes"] == len(scored) - 1
    assert facts["unknown_speaker_quotes"] == 2
    assert facts["undated_quotes"] == 2  # a missing date and an unparsable one
    assert facts["model_versions"] == [VERSION]
    assert facts["first_date"] == pd.Timestamp("2023-01-05")
    assert speaker_table(scored)["quotes"].sum() == facts["quotes"]


def test_dates_in_several_shapes() -> None:
    frame = prepare_scored(
        pd.DataFrame(
            {
                "speaker": ["A"] * 6,
                "label": ["pro"] * 6,
                "date": [
                    "2024-03-03",
                    "2024-03-03T23:30:00+02:00",
                    "March 3, 2024",
                    "",
                    "garbage",
                    None,
                ],
            }
        )
    )
    assert frame["date"].tolist()[:3] == [
        pd.Timestamp("2024-03-03"),
        pd.Timestamp("2024-03-03 21:30"),
        pd.Timestamp("2024-03-03"),
    ]
    assert frame["date"].iloc[3:].isna().all()


def test_labels_are_folded_and_unknown_ones_refused() -> None:
    frame = prepare_scored(
        pd.DataFrame({"speaker": ["A", "A", "A"], "label": [" PRO", "against", ""]})
    )
    assert frame["label"].tolist()[:2] == ["pro", "anti"]
    assert pd.isna(frame["label"].iloc[2])
    with pytest.raises(InputError, match=r"unknown 'label' value.*'maybe'"):
        prepare_scored(pd.DataFrame({"speaker": ["A"], "label": ["maybe"]}))


def test_binary_model_without_neutral_or_confidence() -> None:
    frame = pd.DataFrame(
        {
            "speaker": ["A", "A", "B"],
            "label": ["pro", "anti", "anti"],
            "p_pro": [0.8, 0.3, 0.1],
            "p_anti": [0.2, 0.7, 0.9],
            "text": ["x", "y", "z"],
        }
    )
    table = by_speaker(speaker_table(frame))
    assert table["A"]["neutral"] == 0 and table["A"]["share_neutral"] == 0
    assert table["A"]["mean_confidence"] == pytest.approx(0.75)  # the winning probability
    assert top_quotes(frame, n=5)["anti"]["quote"].tolist() == [
        "z",
        "y",
    ]  # `text` stands in for `quote`


def test_stance_change_of_a_speaker_who_moves_from_anti_to_pro(scored: pd.DataFrame) -> None:
    changes = stance_changes(scored)
    assert changes["speaker"].tolist() == [
        "Egon Varga",
        "Fay Moreau",
    ]  # the others have too few dated quotes
    egon = changes.iloc[0]
    assert (egon["n_before"], egon["n_after"]) == (6, 6)
    assert egon["net_before"] == -1.0 and egon["net_after"] == 1.0 and egon["change"] == 2.0
    assert egon["before_to"] < egon["after_from"]
    assert egon["z"] > 2
    fay = changes.iloc[1]
    assert fay["change"] == pytest.approx(0.0) and abs(fay["z"]) < 2
    # With a stricter rule Egon's six quotes a half are not enough.
    assert stance_changes(scored, min_quotes=7).empty


def test_monthly_timeline(scored: pd.DataFrame) -> None:
    timeline = monthly_timeline(scored, ["Egon Varga", "Ana Lind"])
    assert timeline["speaker"].unique().tolist() == ["Egon Varga", "Ana Lind"]  # in the order asked
    egon = timeline[timeline["speaker"] == "Egon Varga"].set_index("month")
    assert egon["quotes"].tolist() == [2] * 6
    assert egon.loc[pd.Timestamp("2023-01-01"), "net_stance"] == -1.0
    assert egon.loc[pd.Timestamp("2023-06-01"), "net_stance"] == 1.0
    ana = timeline[timeline["speaker"] == "Ana Lind"].set_index("month")
    assert ana["quotes"].to_dict() == {pd.Timestamp("2023-01-01"): 2, pd.Timestamp("2023-02-01"): 2}
    # By default the most quoted named speakers, never "(unknown speaker)".
    assert UNKNOWN_SPEAKER not in set(monthly_timeline(scored, top=10)["speaker"])


def test_most_confident_quotes_each_way(scored: pd.DataFrame) -> None:
    duplicated = pd.concat([scored, scored.iloc[[5]]])  # the same quote syndicated twice
    quotes = top_quotes(duplicated, n=3)
    assert quotes["anti"]["quote"].tolist()[0] == HOSTILE
    assert quotes["anti"]["quote"].tolist().count(HOSTILE) == 1
    assert quotes["anti"]["confidence"].is_monotonic_decreasing
    assert quotes["pro"]["quote"].tolist()[0] == "We are ready to meet them in Vienna."
    assert {"speaker", "date", "source", "confidence"} <= set(quotes["pro"].columns)


# -- the HTML ------------------------------------------------------------------------------
REPORT_OPTIONS = {"title": "Talks <b>watch</b>", "input_name": "in<put>.parquet"}


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Rendered once for the module: the charts are most of the suite's time.
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_report(pd.DataFrame(scored_rows()), out, **REPORT_OPTIONS)


@pytest.fixture
def report_html(report_path: Path) -> str:
    return report_path.read_text(encoding="utf-8")


def test_report_escapes_hostile_text(report_html: str) -> None:
    assert "<script>alert" not in report_html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in report_html
    assert "<img" not in report_html and "onerror=alert(1)>" not in report_html
    assert "&lt;img src=x onerror=alert(1)&gt;" in report_html
    assert "<b>watch</b>" not in report_html and "Talks &lt;b&gt;watch&lt;/b&gt;" in report_html
    assert "in&lt;put&gt;.parquet" in report_html
    # The only script is the report's own table sorter.
    assert report_html.count("<script") == 1


def test_report_is_self_contained_with_inline_svg(report_html: str) -> None:
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", report_html, re.I)
    assert not re.search(
        r"@import|url\(\s*['\"]?\s*(?:https?:)?//|<link|<iframe|<img", report_html, re.I
    )
    assert report_html.count("<svg") >= 3  # shares, changes, timelines
    assert "<?xml" not in report_html and "<!DOCTYPE svg" not in report_html
    for needle in (
        "Ana Lind",
        "Egon Varga",
        "Whose stance changed most",
        "Monthly timelines",
        "Most confident quotes",
        VERSION,
        "2023-01-05 to 2023-06-15",
    ):
        assert needle in report_html, needle


def test_report_is_deterministic(scored: pd.DataFrame, report_path: Path, tmp_path: Path) -> None:
    again = write_report(scored, tmp_path / "again.html", **REPORT_OPTIONS)
    assert again.read_bytes() == report_path.read_bytes()


def test_report_without_quotes_or_dates(tmp_path: Path) -> None:
    articles_only = pd.DataFrame(
        {"speaker": [None, None], "label": [None, None], "text": ["a", "b"]}
    )
    page = write_report(articles_only, tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "No quotes with a stance" in page and "2 rows without a quote" in page.replace(",", "")
    undated = pd.DataFrame({"speaker": ["A", "B"], "label": ["pro", "anti"], "quote": ["x", "y"]})
    page = write_report(undated, tmp_path / "undated.html").read_text(encoding="utf-8")
    assert "No dated quotes" in page and "<svg" in page


# -- the command line ----------------------------------------------------------------------
def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_writes_html(
    capsys: pytest.CaptureFixture[str], scored: pd.DataFrame, tmp_path: Path
) -> None:
    source = write_as(scored, tmp_path / "scored.parquet")
    code, out, err = run(
        capsys,
        "report",
        str(source),
        "-o",
        str(tmp_path / "r.html"),
        "--top",
        "3",
        "--title",
        "Weekly",
    )
    assert code == 0, err
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<title>Weekly</title>" in page and "scored.parquet" in page and "r.html" in out


def test_cli_csv_format(
    capsys: pytest.CaptureFixture[str], scored: pd.DataFrame, tmp_path: Path
) -> None:
    source = write_as(scored, tmp_path / "scored.jsonl")
    for argv, out in (
        (["-o", str(tmp_path / "t.csv")], tmp_path / "t.csv"),
        (["-o", str(tmp_path / "t.txt"), "--format", "csv"], tmp_path / "t.txt"),
    ):
        code, _, err = run(capsys, "report", str(source), *argv)
        assert code == 0, err
        table = pd.read_csv(out, keep_default_na=False).set_index("speaker")
        assert table.loc["Ana Lind", ["quotes", "pro", "anti", "neutral"]].tolist() == [5, 3, 1, 1]
        assert table.loc["Ana Lind", "share_pro"] == 0.6
        assert table.loc["Ana Lind", "net_stance"] == 0.4
        assert table.loc["Ana Lind", "first_date"] == "2023-01-05"
        assert table.loc[UNKNOWN_SPEAKER, "quotes"] == 2
        assert table.loc[HOSTILE_NAME, "pro"] == 1


@pytest.fixture
def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    return {
        "nolabel": write_as(
            pd.DataFrame({"speaker": ["A"], "text": ["x"], "extra": [1]}), tmp_path / "nolabel.csv"
        ),
        "nospeaker": write_as(
            pd.DataFrame({"label": ["pro"], "text": ["x"]}), tmp_path / "nospeaker.parquet"
        ),
        "badlabel": write_as(
            pd.DataFrame({"speaker": ["A"], "label": ["maybe"]}), tmp_path / "badlabel.jsonl"
        ),
        "good": write_as(pd.DataFrame({"speaker": ["A"], "label": ["pro"]}), tmp_path / "good.csv"),
        "txt": tmp_path / "notes.txt",
        "emptydir": tmp_path / "emptydir",
    }


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["{tmp}/missing.parquet", "-o", "{tmp}/r.html"], "missing.parquet: no such file"),
        (["{nolabel}", "-o", "{tmp}/r.html"], "missing column 'label'"),
        (["{nospeaker}", "-o", "{tmp}/r.html"], "missing column 'speaker'"),
        (["{badlabel}", "-o", "{tmp}/r.html"], "unknown 'label' value(s) 'maybe'"),
        (["{txt}", "-o", "{tmp}/r.html"], "unknown input format '.txt'"),
        (["{emptydir}", "-o", "{tmp}/r.html"], "no .parquet files"),
        (["{good}", "-o", "{tmp}/r.pdf"], "cannot tell the report format"),
        (["{good}", "-o", "{tmp}/no/such/dir/r.html"], "no folder"),
        (["{good}", "-o", "{tmp}/r.html", "--top", "0"], "--top must be at least 1"),
    ],
)
def test_cli_mistakes_are_one_line_errors(
    capsys: pytest.CaptureFixture[str],
    bad_inputs: dict[str, Path],
    tmp_path: Path,
    argv: list[str],
    pattern: str,
) -> None:
    bad_inputs["txt"].write_text("hello\n")
    bad_inputs["emptydir"].mkdir()
    filled = [a.format(tmp=tmp_path, **bad_inputs) for a in argv]
    code, _, err = run(capsys, "report", *filled)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stance: error: "), err
    assert pattern in lines[0], lines[0]
    if "nolabel" in argv[0]:
        assert "found columns: speaker, text, extra" in lines[0]  # says what the file does hold
    assert not (tmp_path / "r.html").exists()


# -- in a real browser ---------------------------------------------------------------------
@pytest.mark.browser
def test_report_renders_in_chromium(report_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    chromium = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if not chromium:
        pytest.skip("no Chromium on this machine")
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(report_path.as_uri())
            sizes = page.eval_on_selector_all(
                "figure svg", "els => els.map(e => e.getBoundingClientRect().width)"
            )
            assert len(sizes) >= 3 and min(sizes) > 300
            first = page.locator("table.speakers tbody tr td").first
            assert first.inner_text() == "Egon Varga"
            page.click("table.speakers th:has-text('Net stance')")  # numbers sort largest first
            assert first.inner_text() == HOSTILE_NAME  # one quote, pro: +1
            page.click("table.speakers th:has-text('Net stance')")
            assert first.inner_text() == "Ben Okafor"
        finally:
            browser.close()
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests


def test_change_split_keeps_each_day_whole() -> None:
    def quotes(speaker: str, label: str, day: str, n: int) -> list[dict]:
        return [
            {"speaker": speaker, "label": label, "date": day, "quote": f"{speaker} {day} {i}"}
            for i in range(n)
        ]

    frame = pd.DataFrame(
        # One press conference of ten quotes and two later ones: no day splits it 5 / 5.
        quotes("Gus Peron", "anti", "2023-01-01", 10)
        + quotes("Gus Peron", "pro", "2023-02-01", 2)
        # 6 quotes, then 1, then 5: the split falls before the single quote's day (6 / 6).
        + quotes("Hana Sato", "anti", "2023-01-01", 6)
        + quotes("Hana Sato", "pro", "2023-01-02", 1)
        + quotes("Hana Sato", "pro", "2023-03-01T08:00:00", 3)
        + quotes("Hana Sato", "pro", "2023-03-01T18:00:00", 2)
    )
    changes = stance_changes(frame)
    assert changes["speaker"].tolist() == ["Hana Sato"]
    hana = changes.iloc[0]
    assert (hana["n_before"], hana["n_after"]) == (6, 6)
    assert hana["before_to"] == pd.Timestamp("2023-01-01") and hana["after_from"] == pd.Timestamp(
        "2023-01-02"
    )
    assert hana["change"] == 2.0
