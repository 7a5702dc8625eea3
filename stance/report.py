"""Per-speaker stance tables, changes over time and a self-contained HTML report, from the output
of `stance score`.

The input is read once into a canonical frame (`load_scored` / `prepare_scored`): one row per
input row, columns ``speaker`` (never null: "(unknown speaker)"), ``label`` (pro/anti/neutral, or
null for an article row with no quote), ``confidence``, ``date`` (naive UTC, NaT when missing or
unparsable), ``quote``, ``source``, ``title``, ``speaker_role``, ``model_version``. Everything
after that is vectorised pandas, so a million rows take seconds. The HTML is one file: inline CSS,
charts as inline SVG drawn by matplotlib's object API (no pyplot, so no global backend is chosen
and no figure outlives its function), every text from the input escaped, nothing fetched.
"""

from __future__ import annotations

import html
import io
import os
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stance.data import LABEL_ALIASES
from stance.errors import InputError

__all__ = [
    "LABELS",
    "MIN_QUOTES_PER_HALF",
    "UNKNOWN_SPEAKER",
    "load_scored",
    "monthly_timeline",
    "output_format",
    "prepare_scored",
    "speaker_table",
    "stance_changes",
    "summary",
    "top_quotes",
    "write_report",
    "write_speaker_csv",
]

LABELS: tuple[str, ...] = ("pro", "anti", "neutral")
UNKNOWN_SPEAKER = "(unknown speaker)"
MIN_QUOTES_PER_HALF = 5  # a speaker's change is measured only with this many dated quotes a half
MAX_TABLE_ROWS = 500  # speakers listed in the HTML table; the CSV has them all
MAX_QUOTE_CHARS = 420  # a longer quote is cut in the HTML (the input keeps it whole)
COLORS = {"pro": "#2166ac", "anti": "#c0392b", "neutral": "#b8b8b8"}
_NET = {"pro": 1.0, "anti": -1.0, "neutral": 0.0}

# canonical column -> the input's candidate names, first present wins. For the "coalesce" ones a
# row's empty value is filled from the next candidate (a row with no source but a url).
_CANDIDATES: dict[str, tuple[str, ...]] = {
    "speaker": ("speaker",),
    "label": ("label",),
    "confidence": ("confidence",),
    "model_version": ("model_version",),
    "date": ("date", "published", "published_at", "datetime"),
    "quote": ("quote", "text", "context"),
    "source": ("source", "url", "link", "id"),
    "title": ("title", "headline"),
    "speaker_role": ("speaker_role", "role"),
}
_COALESCE = ("source", "title")
_PROBABILITIES = ("p_pro", "p_anti", "p_neutral")
_REQUIRED = {
    "speaker": "the speaker's name per quote (may be empty)",
    "label": "the stance per quote: pro, anti or neutral (empty for an article with no quote)",
}
_WANTED = {name for names in _CANDIDATES.values() for name in names} | set(_PROBABILITIES)
_PREPARED = "stance.report.prepared"
_TEXT_COLUMNS = ("quote", "source", "title", "speaker_role", "model_version")
_CANONICAL = ("speaker", "label", "confidence", "date", *_TEXT_COLUMNS)


# -- reading -------------------------------------------------------------------------------
def load_scored(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the output of `stance score` (.parquet file or dataset folder, .csv, .jsonl/.ndjson,
    optionally compressed) into the canonical frame described in the module docstring."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    try:
        raw = _read_table(path)
    except InputError:
        raise
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, OSError) as err:
        if isinstance(err, FileNotFoundError | PermissionError):
            raise
        raise InputError(f"{path}: cannot be read as scored output ({err})") from err
    frame = prepare_scored(raw, where=str(path))
    frame.attrs["input_name"] = path.name
    return frame


def _read_table(path: Path) -> pd.DataFrame:
    if path.is_dir():
        return _read_parquet_folder(path)
    kind = _table_kind(path)
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "csv":
        # Everything as text first (a speaker "1984" stays a name); numbers are converted later.
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        frame = pd.read_csv(
            path,
            usecols=lambda c: c in _WANTED,
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=False,
            na_values=["", "NA", "NaN", "nan", "None", "null", "<NA>"],
        )
        frame.attrs["input_columns"] = list(header)
        return frame
    if kind == "jsonl":
        frame = pd.read_json(path, lines=True, dtype=False)
        columns = list(frame.columns)
        frame = frame[[c for c in columns if c in _WANTED]]
        frame.attrs["input_columns"] = columns
        return frame
    raise InputError(
        f"{path}: unknown input format {''.join(path.suffixes) or '(no extension)'!r}; "
        "expected the output of `stance score`: .parquet (file or folder), .csv or .jsonl"
    )


def _table_kind(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".xz", ".zst", ".zip"}:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    return {
        ".parquet": "parquet",
        ".pq": "parquet",
        ".csv": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
    }.get(last)


def _read_parquet(path: Path | list[Path], *, base: Path | None = None) -> pd.DataFrame:
    import pyarrow.dataset as ds

    dataset = ds.dataset(
        path, format="parquet", partitioning="hive", partition_base_dir=str(base) if base else None
    )
    columns = [c for c in dataset.schema.names if c in _WANTED]
    frame = dataset.to_table(columns=columns).to_pandas()
    frame.attrs["input_columns"] = list(dataset.schema.names)
    return frame


def _read_parquet_folder(path: Path) -> pd.DataFrame:
    files = sorted(
        p
        for p in path.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    )
    if not files:
        raise InputError(
            f"{path}: a folder with no .parquet files; "
            "expected a Parquet dataset from `stance score`"
        )
    return _read_parquet([str(p) for p in files], base=path)


# -- the canonical frame -------------------------------------------------------------------
def prepare_scored(frame: pd.DataFrame, *, where: str = "input") -> pd.DataFrame:
    """The canonical frame from any table shaped like `stance score`'s output (see the module
    docstring). Idempotent; raises InputError naming ``where`` for a missing column or a label
    that is not pro/anti/neutral."""
    if frame.attrs.get(_PREPARED) and set(_CANONICAL) <= set(frame.columns):
        return frame
    for column, expected in _REQUIRED.items():
        if column not in frame.columns:
            found = [str(c) for c in frame.attrs.get("input_columns", frame.columns)]
            raise InputError(
                f"{where}: missing column {column!r} ({expected}); expected the output of "
                f"`stance score`; found columns: {', '.join(found[:20]) or 'none'}"
                f"{' ...' if len(found) > 20 else ''}"
            )
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    out["speaker"] = _speakers(frame["speaker"])
    out["label"] = _labels(frame["label"], where)
    out["confidence"] = _confidence(frame)
    out["date"] = _dates(_pick(frame, "date"))
    for column in _TEXT_COLUMNS:
        out[column] = _pick(frame, column)
    out.attrs.update({k: v for k, v in frame.attrs.items() if k != "input_columns"})
    out.attrs[_PREPARED] = True
    return out


def _pick(frame: pd.DataFrame, column: str) -> pd.Series:
    present = [c for c in _CANDIDATES[column] if c in frame.columns]
    if not present:
        return pd.Series(None, index=pd.RangeIndex(len(frame)), dtype=object)
    picked = frame[present[0]].reset_index(drop=True)
    if column in _COALESCE:
        for other in present[1:]:
            picked = picked.where(
                picked.notna() & (picked.astype(str) != ""), frame[other].to_numpy()
            )
    return picked


def _by_unique(values: pd.Series, convert) -> tuple[np.ndarray, Any]:
    # Names, labels and dates repeat: convert each distinct value once, then spread the results.
    codes, uniques = pd.factorize(values.reset_index(drop=True), use_na_sentinel=True)
    return codes, convert(pd.Series(uniques, dtype=object))


def _speakers(values: pd.Series) -> pd.Categorical:
    codes, names = _by_unique(
        values, lambda u: u.astype(str).str.strip().replace("", UNKNOWN_SPEAKER)
    )
    names = np.append(names.to_numpy(dtype=object), UNKNOWN_SPEAKER)  # code -1 (null) -> the last
    # " Ana Lind" and "Ana Lind" are one speaker: categories must be distinct after stripping.
    name_codes, categories = pd.factorize(names)
    return pd.Categorical.from_codes(name_codes[codes], categories=categories.astype(object))


def _labels(values: pd.Series, where: str) -> pd.Categorical:
    codes, raw = _by_unique(values, lambda u: u)
    folded = [LABEL_ALIASES.get(str(v).strip().lower()) if str(v).strip() else "" for v in raw]
    unknown = [str(v) for v, f in zip(raw, folded, strict=True) if f is None]
    if unknown:
        shown = ", ".join(repr(v) for v in unknown[:5])
        raise InputError(
            f"{where}: unknown 'label' value(s) {shown}{' ...' if len(unknown) > 5 else ''}; "
            "expected pro, anti or neutral (or empty for an article with no quote)"
        )
    label_codes = np.array([LABELS.index(f) if f else -1 for f in folded] + [-1], dtype=np.int8)
    return pd.Categorical.from_codes(label_codes[codes], categories=list(LABELS))


def _confidence(frame: pd.DataFrame) -> pd.Series:
    present = [c for c in ("confidence", *_PROBABILITIES) if c in frame.columns]
    numbers = frame[present].apply(pd.to_numeric, errors="coerce") if present else None
    if numbers is None:
        return pd.Series(np.nan, index=pd.RangeIndex(len(frame)))
    numbers = numbers.reset_index(drop=True)
    confidence = (
        numbers["confidence"] if "confidence" in numbers else pd.Series(np.nan, index=numbers.index)
    )
    probabilities = [c for c in _PROBABILITIES if c in numbers]
    if probabilities:  # no confidence: the winning class's probability is the same number
        confidence = confidence.fillna(numbers[probabilities].max(axis=1))
    return confidence.astype(float)


def _dates(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(None).astype("datetime64[ns]").reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype("datetime64[ns]").reset_index(drop=True)

    def parse(unique: pd.Series) -> pd.Series:
        text = unique.astype(str).str.strip()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "could not infer format" and friends: NaT says it
            parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
            rest = parsed.isna() & (text != "")
            if rest.any():  # "March 3, 2024", "03 Mar 2024 10:00 GMT"
                parsed[rest] = pd.to_datetime(text[rest], errors="coerce", utc=True, format="mixed")
        return parsed.dt.tz_convert(None).astype("datetime64[ns]")

    codes, parsed = _by_unique(values, parse)
    stamps = np.append(parsed.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    return pd.Series(stamps[codes])


def _prepared(df: pd.DataFrame) -> pd.DataFrame:
    return prepare_scored(df, where=df.attrs.get("input_name", "input"))


def _quotes_only(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    # Pick the columns before the rows: copying a million quote texts is most of the cost.
    return df[list(columns)][df["label"].notna()]


def _names(values: pd.Series) -> pd.Series:
    return values.astype(object)


# -- the tables ----------------------------------------------------------------------------
def speaker_table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per speaker with at least one quote, most quoted first: ``quotes``; ``pro``,
    ``anti``, ``neutral`` counts and their ``share_*``; ``net_stance`` = share pro - share anti
    (from -1, all anti, to +1, all pro); ``mean_confidence``; ``dated_quotes``, ``first_date``,
    ``last_date``; ``role``, the speaker's most frequent role. Rows with no label (articles with
    no quote) are not counted here."""
    quotes = _quotes_only(_prepared(df), ["speaker", "label", "confidence", "date", "speaker_role"])
    counts = (
        quotes.groupby(["speaker", "label"], observed=True)
        .size()
        .unstack("label", fill_value=0)
        .reindex(columns=list(LABELS), fill_value=0)
        .astype("int64")
    )
    counts.columns = list(LABELS)
    by = quotes.groupby("speaker", observed=True)
    table = pd.DataFrame({"quotes": counts.sum(axis=1)}).join(counts)
    for label in LABELS:
        table[f"share_{label}"] = table[label] / table["quotes"]
    table["net_stance"] = table["share_pro"] - table["share_anti"]
    table["mean_confidence"] = by["confidence"].mean()
    table["dated_quotes"] = by["date"].count()
    table["first_date"] = by["date"].min()
    table["last_date"] = by["date"].max()
    table["role"] = _main_role(quotes)
    table = table.rename_axis("speaker").reset_index()
    table["speaker"] = _names(table["speaker"])
    return table.sort_values(
        ["quotes", "speaker"], ascending=[False, True], kind="stable", ignore_index=True
    )


def _main_role(quotes: pd.DataFrame) -> pd.Series:
    roles = quotes.loc[quotes["speaker_role"].notna(), ["speaker", "speaker_role"]]
    roles = roles[roles["speaker_role"].astype(str).str.strip() != ""]
    if roles.empty:
        return pd.Series(dtype=object)
    counts = (
        roles.groupby(["speaker", "speaker_role"], observed=True).size().rename("n").reset_index()
    )
    top = counts.sort_values(
        ["speaker", "n"], ascending=[True, False], kind="stable"
    ).drop_duplicates("speaker")
    return top.set_index("speaker")["speaker_role"]


def _top_speakers(table: pd.DataFrame, top: int) -> list[str]:
    return table.loc[table["speaker"] != UNKNOWN_SPEAKER, "speaker"].head(top).tolist()


def stance_changes(df: pd.DataFrame, *, min_quotes: int = MIN_QUOTES_PER_HALF) -> pd.DataFrame:
    """How each named speaker's net stance moved over time, biggest move first.

    The rule: a speaker's dated quotes are split at the day that best divides them in two, the
    quotes of one day staying together (a press conference is not cut in half), so the earlier
    and the later half never share a day; each half needs at least ``min_quotes`` quotes.
    ``change`` = net stance of the later half - net stance of the earlier half (from -2 to +2).
    ``z`` divides the change by its standard error under "no change" (the spread of the speaker's
    +1/0/-1 scores over both halves): |z| >= 2 is unlikely to be chance.
    Columns: speaker, dated_quotes, before_from, before_to, net_before, n_before, after_from,
    after_to, net_after, n_after, change, z.
    """
    columns = [
        "speaker",
        "dated_quotes",
        "before_from",
        "before_to",
        "net_before",
        "n_before",
        "after_from",
        "after_to",
        "net_after",
        "n_after",
        "change",
        "z",
    ]
    quotes = _quotes_only(_prepared(df), ["speaker", "date", "label"])
    dated = quotes[quotes["date"].notna() & (quotes["speaker"] != UNKNOWN_SPEAKER)]
    dated = dated.assign(
        day=dated["date"].dt.floor("D"), score=dated["label"].map(_NET).astype(float)
    )
    # Each speaker's days with the number of quotes before each; a day can start the later half
    # when both sides keep min_quotes; the most even such split wins (the earliest on a tie).
    days = dated.groupby(["speaker", "day"], observed=True).size().rename("n").reset_index()
    by_speaker = days.groupby("speaker", observed=True)["n"]
    days["before"] = by_speaker.cumsum() - days["n"]
    days["total"] = by_speaker.transform("sum")
    days = days[(days["before"] >= min_quotes) & (days["total"] - days["before"] >= min_quotes)]
    days = days.assign(uneven=(2 * days["before"] - days["total"]).abs())
    splits = days.sort_values(["speaker", "uneven", "day"], kind="stable").drop_duplicates(
        "speaker"
    )
    if splits.empty:
        return pd.DataFrame(columns=columns)
    dated = dated.merge(splits[["speaker", "day"]].rename(columns={"day": "split"}), on="speaker")
    dated["later"] = dated["day"] >= dated["split"]
    halves = (
        dated.groupby(["speaker", "later"], observed=True)
        .agg(n=("score", "size"), net=("score", "mean"), start=("date", "min"), end=("date", "max"))
        .unstack("later")
    )
    overall = dated.groupby("speaker", observed=True)["score"].agg(["size", "var"])
    out = pd.DataFrame(
        {
            "dated_quotes": overall["size"],
            "before_from": halves[("start", False)],
            "before_to": halves[("end", False)],
            "net_before": halves[("net", False)],
            "n_before": halves[("n", False)],
            "after_from": halves[("start", True)],
            "after_to": halves[("end", True)],
            "net_after": halves[("net", True)],
            "n_after": halves[("n", True)],
        }
    )
    out["change"] = out["net_after"] - out["net_before"]
    spread = np.sqrt(overall["var"].fillna(0.0) * (1 / out["n_before"] + 1 / out["n_after"]))
    out["z"] = (out["change"] / spread.where(spread > 0)).fillna(0.0)
    out = out.rename_axis("speaker").reset_index()
    out["speaker"] = _names(out["speaker"])
    order = out["change"].abs().sort_values(ascending=False, kind="stable").index
    return out.loc[order, columns].reset_index(drop=True)


def monthly_timeline(
    df: pd.DataFrame, speakers: Sequence[str] | None = None, *, top: int = 10
) -> pd.DataFrame:
    """Per speaker and calendar month (``month``: its first day) the dated quotes' ``quotes``,
    ``pro``/``anti``/``neutral`` counts and ``net_stance``; for ``speakers``, else the ``top``
    most quoted named speakers. Months without quotes have no row."""
    frame = _prepared(df)
    if speakers is None:
        speakers = _top_speakers(speaker_table(frame), top)
    quotes = _quotes_only(frame, ["speaker", "date", "label"])
    dated = quotes[quotes["date"].notna() & quotes["speaker"].isin(list(speakers))]
    month = dated["date"].dt.to_period("M").dt.start_time.rename("month")
    counts = (
        dated.groupby([dated["speaker"], month, dated["label"]], observed=True)
        .size()
        .unstack("label", fill_value=0)
        .reindex(columns=list(LABELS), fill_value=0)
        .astype("int64")
    )
    counts.columns = list(LABELS)
    timeline = pd.DataFrame({"quotes": counts.sum(axis=1)}).join(counts)
    timeline["net_stance"] = (timeline["pro"] - timeline["anti"]) / timeline["quotes"]
    timeline = timeline.reset_index()
    timeline["speaker"] = _names(timeline["speaker"])
    if timeline.empty:
        return pd.DataFrame(columns=["speaker", "month", "quotes", *LABELS, "net_stance"])
    rank = {name: i for i, name in enumerate(speakers)}
    return timeline.sort_values(
        ["speaker", "month"],
        key=lambda s: s.map(rank) if s.name == "speaker" else s,
        kind="stable",
        ignore_index=True,
    )


def top_quotes(df: pd.DataFrame, *, n: int = 10) -> dict[str, pd.DataFrame]:
    """The ``n`` most confident ``pro`` and ``anti`` quotes, each distinct (speaker, quote) once,
    with speaker, speaker_role, date, quote, confidence, source and title."""
    frame = _prepared(df)
    columns = ["speaker", "speaker_role", "date", "quote", "confidence", "source", "title"]
    picked = {}
    for label in ("pro", "anti"):
        # Order the confidences alone, then fetch the texts of the first few rows only.
        mask = (frame["label"] == label) & frame["quote"].notna()
        order = (
            frame["confidence"][mask]
            .sort_values(ascending=False, kind="stable", na_position="last")
            .index
        )
        # The same words syndicated in many articles are one quote: look deeper until n distinct.
        depth = 4 * n
        while True:
            distinct = frame.loc[order[:depth], columns].drop_duplicates(["speaker", "quote"])
            if len(distinct) >= n or depth >= len(order):
                break
            depth *= 4
        picked[label] = (
            distinct.head(n).reset_index(drop=True).assign(speaker=lambda t: _names(t["speaker"]))
        )
    return picked


def summary(df: pd.DataFrame) -> dict[str, Any]:
    """The header's figures: rows, quotes, documents without quotes, speakers, undated quotes,
    date range and model versions."""
    frame = _prepared(df)
    quotes = _quotes_only(frame, ["speaker", "date", "label"])
    dates = quotes["date"].dropna()
    named = quotes.loc[quotes["speaker"] != UNKNOWN_SPEAKER, "speaker"]
    versions = pd.Series(frame["model_version"].dropna().unique(), dtype=object).astype(str)
    return {
        "rows": len(frame),
        "quotes": len(quotes),
        "without_quotes": len(frame) - len(quotes),
        "speakers": int(named.nunique()),
        "unknown_speaker_quotes": int(len(quotes) - len(named)),
        "undated_quotes": int(len(quotes) - len(dates)),
        "first_date": dates.min() if len(dates) else None,
        "last_date": dates.max() if len(dates) else None,
        "model_versions": sorted(set(versions[versions.str.strip() != ""])),
        "labels": {label: int(n) for label, n in quotes["label"].value_counts().items()},
    }


# -- writing -------------------------------------------------------------------------------
def output_format(out: str | os.PathLike[str], fmt: str | None = None) -> str:
    """``fmt`` when given, else "html" or "csv" from ``out``'s extension."""
    if fmt:
        if fmt not in ("html", "csv"):
            raise InputError(f"unknown report format {fmt!r}; use html or csv")
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".csv":
        return "csv"
    raise InputError(
        f"{out}: cannot tell the report format from {suffix or 'no extension'!r}; "
        "name it .html or .csv, or pass --format html|csv"
    )


def write_speaker_csv(df: pd.DataFrame, out: str | os.PathLike[str]) -> Path:
    """The per-speaker table as CSV (shares to 4 decimals, dates as YYYY-MM-DD), atomically."""
    table = speaker_table(df)
    return _write_atomically(
        out,
        table.to_csv(index=False, float_format="%.4f", date_format="%Y-%m-%d", lineterminator="\n"),
    )


def write_report(
    df: pd.DataFrame,
    out: str | os.PathLike[str],
    *,
    title: str | None = None,
    top: int = 10,
    input_name: str | None = None,
) -> Path:
    """Render the one-file HTML report of ``df`` (a frame from `load_scored`, or any table shaped
    like `stance score`'s output) to ``out``, atomically. ``top``: the speakers in the charts and
    timelines, the changes listed and the quotes shown each way."""
    if top < 1:
        raise InputError(f"--top must be at least 1, not {top}")
    frame = _prepared(df)
    name = input_name or frame.attrs.get("input_name") or "scored quotes"
    page = _render(frame, title=title or f"Stance report: {name}", top=top, input_name=name)
    return _write_atomically(out, page)


def _write_atomically(out: str | os.PathLike[str], text: str) -> Path:
    out = Path(out)
    if not out.parent.is_dir():
        raise InputError(f"{out}: no folder {str(out.parent)!r} to write it in")
    if out.is_dir():
        raise InputError(f"{out}: is a folder; name the file to write")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide the report from its readers
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


# -- the HTML ------------------------------------------------------------------------------
def _e(value: Any) -> str:
    """Escaped text of a cell; empty for a missing value."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _day(value: Any) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _render(frame: pd.DataFrame, *, title: str, top: int, input_name: str) -> str:
    facts = summary(frame)
    table = speaker_table(frame)
    speakers = _top_speakers(table, top)
    changes = stance_changes(frame)
    timeline = monthly_timeline(frame, speakers)
    quotes = top_quotes(frame, n=top)
    sections = [
        _header_html(facts, title=title, input_name=input_name),
        _shares_section(table, speakers),
        _table_section(table),
        _changes_section(changes, top),
        _timeline_section(timeline, speakers, facts),
        _quotes_section(quotes),
    ]
    parts = {"title": _e(title), "css": _CSS, "script": _SCRIPT, "body": "\n".join(sections)}
    return re.sub(r"\{(title|css|script|body)\}", lambda m: parts[m.group(1)], _PAGE)


def _section(anchor: str, heading: str, *parts: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(heading)}</h2>\n' + "\n".join(parts) + "\n</section>"


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def _header_html(facts: dict[str, Any], *, title: str, input_name: str) -> str:
    labels = facts["labels"]
    span = (
        f"{_day(facts['first_date'])} to {_day(facts['last_date'])}"
        if facts["first_date"] is not None
        else "no dates"
    )
    cards = [
        (f"{facts['rows']:,}", "rows read"),
        (f"{facts['quotes']:,}", "quotes with a stance"),
        (f"{facts['speakers']:,}", "named speakers"),
        (
            f"{labels.get('pro', 0):,} / {labels.get('anti', 0):,} / {labels.get('neutral', 0):,}",
            "pro / anti / neutral",
        ),
        (span, "dates of the quotes"),
    ]
    details = [
        f"{facts['without_quotes']:,} rows without a quote "
        "(articles with no quote: not counted as stances)",
        f"{facts['unknown_speaker_quotes']:,} quotes with no speaker "
        f"(listed as {_e(UNKNOWN_SPEAKER)})",
        f"{facts['undated_quotes']:,} quotes without a usable date "
        "(in the tables, not in the timelines)",
    ]
    versions = ", ".join(facts["model_versions"]) or "not recorded"
    return (
        f"<header>\n<h1>{_e(title)}</h1>\n"
        f'<p class="sub">Input <code>{_e(input_name)}</code> &middot; '
        f"model <code>{_e(versions)}</code></p>\n"
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{_e(value)}</b><span>{_e(what)}</span></div>'
            for value, what in cards
        )
        + '</div>\n<ul class="details">'
        + "".join(f"<li>{d}</li>" for d in details)
        + "</ul>\n"
        '<p class="legend">'
        '<span class="key pro"></span>pro: favours talks or a negotiated settlement '
        '<span class="key anti"></span>anti: rejects or postpones talks '
        '<span class="key neutral"></span>neutral: no stance on talks. '
        "<em>Net stance</em> = share pro &minus; share anti, from &minus;1 (all against talks) to "
        "+1 (all in favour). Labels are the model&rsquo;s reading of each quote, "
        "not verified positions.</p>\n"
        '<nav><a href="#shares">Stance by speaker</a><a href="#speakers">All speakers</a>'
        '<a href="#changes">Changes</a><a href="#timelines">Timelines</a>'
        '<a href="#quotes">Quotes</a></nav>\n'
        "</header>"
    )


def _net(value: float) -> str:
    css = "pro" if value > 0 else "anti" if value < 0 else ""
    return f'<span class="net {css}">{value:+.2f}</span>'


def _mix_bar(row: Any) -> str:
    title = ", ".join(f"{label} {_pct(getattr(row, f'share_{label}'))}" for label in LABELS)
    spans = "".join(
        f'<span class="{label}" style="width:{100 * getattr(row, f"share_{label}"):.2f}%"></span>'
        for label in LABELS
    )
    return f'<div class="mix" title="{title}">{spans}</div>'


def _table_section(table: pd.DataFrame) -> str:
    heading = "All speakers"
    if table.empty:
        return _section("speakers", heading, _note("No quotes with a stance in this input."))
    shown = table.head(MAX_TABLE_ROWS)
    head = (
        "<thead><tr><th>Speaker</th><th>Role</th><th class=num>Quotes</th><th>Stance mix</th>"
        "<th class=num>Pro</th><th class=num>Anti</th><th class=num>Neutral</th>"
        "<th class=num>Net stance</th><th class=num>Mean conf.</th>"
        "<th>First date</th><th>Last date</th>"
        "</tr></thead>"
    )
    rows = []
    for row in shown.itertuples(index=False):
        counts = "".join(
            f'<td class=num data-v="{getattr(row, label)}">{getattr(row, label):,} '
            f"<small>{_pct(getattr(row, f'share_{label}'))}</small></td>"
            for label in LABELS
        )
        confidence = "" if pd.isna(row.mean_confidence) else f"{row.mean_confidence:.2f}"
        unknown = " class=unknown" if row.speaker == UNKNOWN_SPEAKER else ""
        rows.append(
            f"<tr><td{unknown}>{_e(row.speaker)}</td>"
            f'<td class=role title="{_e(row.role)}">{_e(row.role)}</td>'
            f'<td class=num data-v="{row.quotes}">{row.quotes:,}</td>'
            f'<td data-v="{row.share_pro - row.share_anti:.4f}">{_mix_bar(row)}</td>{counts}'
            f'<td class=num data-v="{row.net_stance:.4f}">{_net(row.net_stance)}</td>'
            f"<td class=num>{confidence}</td><td class=day>{_day(row.first_date)}</td>"
            f"<td class=day>{_day(row.last_date)}</td></tr>"
        )
    more = len(table) - len(shown)
    notes = [_note("Click a column heading to sort. Shares are of each speaker&rsquo;s quotes.")]
    if more:
        notes.append(
            _note(
                f"{more:,} less quoted speakers are not listed here: "
                "<code>stance report ... --format csv</code> writes them all."
            )
        )
    body = (
        f'<table class="speakers sortable">{head}<tbody>\n' + "\n".join(rows) + "\n</tbody></table>"
    )
    # A long table scrolls in its own box (header kept in view) so the sections below stay near.
    box = "scroll tall" if len(shown) > 20 else "scroll"
    return _section("speakers", heading, *notes[:1], f'<div class="{box}">{body}</div>', *notes[1:])


def _shares_section(table: pd.DataFrame, speakers: list[str]) -> str:
    heading = "Stance of the most quoted speakers"
    if not speakers:
        return _section("shares", heading, _note("No named speakers with a quote in this input."))
    rows = table.set_index("speaker").loc[speakers]
    return _section(
        "shares",
        heading,
        _note(
            f"The {len(speakers)} most quoted named speakers, most in favour of talks at the top; "
            "the number at the right of each bar is the speaker&rsquo;s quote count."
        ),
        _figure(_shares_chart(rows)),
    )


def _changes_section(changes: pd.DataFrame, top: int) -> str:
    heading = "Whose stance changed most"
    rule = _note(
        "The rule: each named speaker&rsquo;s dated quotes are split in time at the day that "
        "best divides them in two (the quotes of one day stay together), and both the earlier "
        f"and the later half need at least {MIN_QUOTES_PER_HALF} quotes. <em>Change</em> = net "
        "stance of the later half &minus; net stance of the earlier half (from &minus;2 to +2). "
        "<em>z</em> compares the change with what chance alone gives with this many quotes: "
        "|z| &ge; 2 is unlikely to be noise; smaller ones are shown faded."
    )
    if changes.empty:
        return _section(
            "changes", heading, rule, _note("No speaker has enough dated quotes for this.")
        )
    shown = changes.head(top)
    rows = "\n".join(
        f"<tr{'' if abs(row.z) >= 2 else ' class=weak'}><td>{_e(row.speaker)}</td>"
        f"<td class=day>{_day(row.before_from)} &ndash; {_day(row.before_to)}</td>"
        f"<td class=num>{row.n_before:,}</td>"
        f"<td class=num>{_net(row.net_before)}</td>"
        f"<td class=day>{_day(row.after_from)} &ndash; {_day(row.after_to)}</td>"
        f"<td class=num>{row.n_after:,}</td>"
        f"<td class=num>{_net(row.net_after)}</td><td class=num>{_net(row.change)}</td>"
        f"<td class=num>{row.z:+.1f}</td></tr>"
        for row in shown.itertuples(index=False)
    )
    table = (
        '<table class="changes sortable"><thead><tr><th>Speaker</th>'
        "<th>Earlier half</th><th class=num>Quotes</th>"
        "<th class=num>Net</th><th>Later half</th><th class=num>Quotes</th><th class=num>Net</th>"
        "<th class=num>Change</th><th class=num>z</th></tr></thead>"
        f"<tbody>\n{rows}\n</tbody></table>"
    )
    more = len(changes) - len(shown)
    tail = [_note(f"{more:,} more speakers met the rule and moved less.")] if more else []
    if not (changes["z"].abs() >= 2).any():
        tail.insert(
            0,
            _note(
                "None of these moves is clearly beyond chance (|z| &ge; 2): read them as noise "
                "until more quotes confirm them."
            ),
        )
    return _section(
        "changes",
        heading,
        rule,
        _figure(_changes_chart(shown)),
        f'<div class="scroll">{table}</div>',
        *tail,
    )


def _timeline_section(timeline: pd.DataFrame, speakers: list[str], facts: dict[str, Any]) -> str:
    heading = "Monthly timelines"
    with_dates = [s for s in speakers if s in set(timeline["speaker"])]
    if not with_dates:
        return _section(
            "timelines",
            heading,
            _note(
                "No dated quotes from the top speakers: timelines need a "
                "parseable <code>date</code> column."
            ),
        )
    return _section(
        "timelines",
        heading,
        _note(
            "Per calendar month: the net stance of the speaker&rsquo;s quotes (line, left axis; "
            "hollow points are months with fewer than 3 quotes) and the number of quotes (grey "
            f"bars, right axis). {facts['undated_quotes']:,} undated quotes are left out."
        ),
        _figure(_timeline_chart(timeline, with_dates)),
    )


def _quotes_section(quotes: dict[str, pd.DataFrame]) -> str:
    columns = []
    for label, heading in (
        ("pro", "Most confident in favour of talks"),
        ("anti", "Most confident against talks"),
    ):
        items = []
        for row in quotes[label].itertuples(index=False):
            text = str(row.quote)
            if len(text) > MAX_QUOTE_CHARS:
                text = text[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
            role = f", {_e(row.speaker_role)}" if _e(row.speaker_role) else ""
            meta = [f"<b>{_e(row.speaker)}</b>{role}", _day(row.date) or "undated"]
            if not pd.isna(row.confidence):
                meta.append(f"confidence {row.confidence:.2f}")
            if _e(row.title):
                meta.append(f"<i>{_e(row.title)}</i>")
            if _e(row.source):
                meta.append(f'<span class="src">{_e(row.source)}</span>')
            meta_line = " &middot; ".join(meta)
            items.append(
                f"<li><blockquote>“{_e(text)}”</blockquote><p class=meta>{meta_line}</p></li>"
            )
        body = f"<ol>{''.join(items)}</ol>" if items else _note("None.")
        columns.append(f'<div class="side {label}"><h3>{_e(heading)}</h3>{body}</div>')
    return _section(
        "quotes", "Most confident quotes", f'<div class="quotes">{"".join(columns)}</div>'
    )


# -- the charts ----------------------------------------------------------------------------
_RC = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, searchable
    "svg.hashsalt": "stance-report",  # the same input gives the same file
    "text.parse_math": False,  # a "$" in a speaker's name is a dollar sign, not TeX
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#999999",
    "xtick.color": "#555555",
    "ytick.color": "#333333",
    "legend.frameon": False,
}


def _figure(svg: str) -> str:
    return f'<figure class="chart">{svg}</figure>'


def _svg(draw, *args: Any, layout: str | None = "constrained") -> str:
    """Draw on a fresh Figure (matplotlib's object API: no pyplot, no global backend) and return
    its inline SVG element."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC), warnings.catch_warnings():
        # A name in a script the default font lacks: the browser draws it (fonttype none).
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        fig = Figure(layout=layout)
        draw(fig, *args)
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _short(name: str, limit: int = 36) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _shares_chart(rows: pd.DataFrame) -> str:
    def draw(fig, rows: pd.DataFrame) -> None:
        rows = rows.sort_values(
            "net_stance", kind="stable"
        )  # barh draws bottom-up: most pro on top
        fig.set_size_inches(11, 0.32 * len(rows) + 1.0)
        ax = fig.add_subplot()
        y = np.arange(len(rows))
        left = np.zeros(len(rows))
        present = [label for label in LABELS if rows[label].sum() > 0]
        for label in present:
            share = rows[f"share_{label}"].to_numpy()
            ax.barh(y, share, left=left, height=0.72, color=COLORS[label], label=label)
            for yi, start, width in zip(y, left, share, strict=True):
                if width >= 0.07:
                    ax.text(
                        start + width / 2,
                        yi,
                        _pct(width),
                        ha="center",
                        va="center",
                        fontsize=7.5,
                        color="#222222" if label == "neutral" else "white",
                    )
            left += share
        for yi, n in zip(y, rows["quotes"], strict=True):
            ax.text(1.01, yi, f"{n:,}", va="center", fontsize=8, color="#555555")
        ax.set_yticks(y, [_short(str(name)) for name in rows.index])
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"])
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.legend(
            loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(present), fontsize=8, handlelength=1
        )

    return _svg(draw, rows)


def _changes_chart(changes: pd.DataFrame) -> str:
    def draw(fig, changes: pd.DataFrame) -> None:
        rows = changes.iloc[::-1]  # biggest move at the top
        fig.set_size_inches(11, 0.34 * len(rows) + 1.0)
        ax = fig.add_subplot()
        ax.axvline(0, color="#bbbbbb", linewidth=0.8)
        for yi, row in enumerate(rows.itertuples(index=False)):
            color = COLORS["pro"] if row.change > 0 else COLORS["anti"]
            alpha = 1.0 if abs(row.z) >= 2 else 0.35
            ax.annotate(
                "",
                xy=(row.net_after, yi),
                xytext=(row.net_before, yi),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": color,
                    "alpha": alpha,
                    "lw": 1.6,
                    "shrinkA": 4,
                    "shrinkB": 3,
                },
            )
            ax.plot([row.net_before], [yi], "o", ms=6, mfc="white", mec=color, alpha=alpha)
            ax.plot([row.net_after], [yi], "o", ms=6, color=color, alpha=alpha)
        ax.set_yticks(range(len(rows)), [_short(str(name)) for name in rows["speaker"]])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.set_xlim(-1.08, 1.08)
        ax.set_xticks([-1, -0.5, 0, 0.5, 1], ["−1\nall anti", "−0.5", "0", "+0.5", "+1\nall pro"])
        ax.set_xlabel("net stance: earlier half (hollow) → later half (filled)")
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)

    return _svg(draw, changes)


def _timeline_chart(timeline: pd.DataFrame, speakers: list[str]) -> str:
    def draw(fig, timeline: pd.DataFrame, speakers: list[str]) -> None:
        import matplotlib.dates as mdates
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from matplotlib.ticker import MaxNLocator

        ncols = 1 if len(speakers) == 1 else 2
        nrows = -(-len(speakers) // ncols)
        height = 1.95 * nrows + 0.75
        fig.set_size_inches(11, height)
        fig.subplots_adjust(
            left=0.065,
            right=0.955,
            bottom=0.4 / height,
            top=1 - 0.55 / height,
            hspace=0.45,
            wspace=0.22,
        )
        axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False).ravel()
        months = pd.date_range(timeline["month"].min(), timeline["month"].max(), freq="MS")
        middle = months + pd.Timedelta(days=14)  # a month's point and bar sit mid-month
        for ax, speaker in zip(axes, speakers, strict=False):
            data = timeline[timeline["speaker"] == speaker].set_index("month").reindex(months)
            counts = data["quotes"].fillna(0).to_numpy()
            net = data["net_stance"].to_numpy(dtype=float)
            bars = ax.twinx()
            bars.bar(middle, counts, width=22, color="#dddddd", linewidth=0)
            bars.set_ylim(0, max(counts.max(), 1) * 1.15)
            bars.tick_params(axis="y", labelsize=7, colors="#999999", length=0)
            bars.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
            bars.spines[["top", "left"]].set_visible(False)
            bars.spines["right"].set_color("#cccccc")
            ax.set_zorder(bars.get_zorder() + 1)  # the stance line over the bars
            ax.patch.set_visible(False)
            ax.axhline(0, color="#aaaaaa", linewidth=0.7)
            ax.plot(middle, net, color="#444444", linewidth=1.2)
            ax.fill_between(
                middle,
                0,
                net,
                where=net >= 0,
                interpolate=True,
                color=COLORS["pro"],
                alpha=0.2,
                linewidth=0,
            )
            ax.fill_between(
                middle,
                0,
                net,
                where=net <= 0,
                interpolate=True,
                color=COLORS["anti"],
                alpha=0.2,
                linewidth=0,
            )
            solid = counts >= 3
            ax.plot(middle[solid], net[solid], "o", ms=3.5, color="#444444")
            ax.plot(middle[~solid], net[~solid], "o", ms=3.5, mfc="white", mec="#444444")
            ax.set_ylim(-1.15, 1.15)
            ax.set_yticks([-1, 0, 1], ["−1 anti", "0", "+1 pro"])
            ax.set_title(f"{_short(speaker, 48)}  ({int(counts.sum()):,} dated quotes)")
        for ax in axes[len(speakers) :]:
            ax.set_visible(False)
        locator = mdates.AutoDateLocator(maxticks=8)
        axes[0].xaxis.set_major_locator(locator)
        axes[0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        span = pd.Timedelta(days=16)
        axes[0].set_xlim(months[0] - span, months[-1] + pd.Timedelta(days=30) + span)
        for ax in axes[max(0, len(speakers) - ncols) : len(speakers)]:
            ax.xaxis.set_tick_params(labelbottom=True)
        fig.legend(
            handles=[
                Line2D(
                    [],
                    [],
                    color="#444444",
                    marker="o",
                    ms=3.5,
                    label="net stance that month (left axis)",
                ),
                Patch(color="#dddddd", label="quotes that month (right axis)"),
            ],
            loc="upper left",
            bbox_to_anchor=(0.055, 1),
            ncol=2,
            fontsize=8,
        )

    # A fixed layout: constrained layout over twenty axes costs seconds and gains nothing here.
    return _svg(draw, timeline, speakers, layout=None)


_CSS = """
:root { --pro: #2166ac; --anti: #c0392b; --neutral: #b8b8b8;
  --ink: #1d1d1f; --muted: #666; --line: #e3e3e3; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fafafa;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 8px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 8px; }
code { font-size: 13px; background: #f2f2f2; padding: 1px 4px; border-radius: 3px; }
.sub, .note, .details { color: var(--muted); }
.note { margin: 4px 0 10px; font-size: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0 8px; }
.card { flex: 1 1 160px; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card b { display: block; font-size: 18px; white-space: nowrap; }
.card span { color: var(--muted); font-size: 13px; }
.details { margin: 6px 0; padding-left: 18px; font-size: 14px; }
.legend { font-size: 14px; }
.key { display: inline-block; width: 11px; height: 11px; margin: 0 4px 0 10px;
  border-radius: 2px; vertical-align: -1px; }
.key:first-child { margin-left: 0; }
.key.pro, .mix .pro { background: var(--pro); }
.key.anti, .mix .anti { background: var(--anti); }
.key.neutral, .mix .neutral { background: var(--neutral); }
nav { margin-top: 10px; display: flex; gap: 16px; flex-wrap: wrap; }
nav a { color: var(--pro); text-decoration: none; font-weight: 600; }
figure.chart { margin: 8px 0 12px; }
figure.chart svg { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
.scroll.tall { max-height: 640px; overflow-y: auto; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: middle; }
th { position: sticky; top: 0; z-index: 1; background: #fff; box-shadow: inset 0 -2px 0 #ccc;
  white-space: nowrap; }
table.sortable th { cursor: pointer; }
table.sortable th[data-dir="asc"]::after { content: " ▲"; font-size: 10px; }
table.sortable th[data-dir="desc"]::after { content: " ▼"; font-size: 10px; }
tbody tr:nth-child(even) { background: #f8f8f8; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td small { color: var(--muted); }
td.role { color: var(--muted); font-size: 13px; max-width: 170px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
td.day { white-space: nowrap; }
td.unknown { font-style: italic; color: var(--muted); }
tr.weak { color: #999; }
.mix { display: flex; width: 120px; height: 12px; border-radius: 2px; overflow: hidden;
  background: #eee; }
.mix span { display: block; height: 100%; }
.net.pro { color: var(--pro); font-weight: 600; }
.net.anti { color: var(--anti); font-weight: 600; }
.quotes { display: grid; grid-template-columns: 1fr 1fr; gap: 28px; }
@media (max-width: 800px) { .quotes { grid-template-columns: 1fr; } }
.side h3 { padding-bottom: 4px; border-bottom: 3px solid; }
.side.pro h3 { border-color: var(--pro); color: var(--pro); }
.side.anti h3 { border-color: var(--anti); color: var(--anti); }
.side ol { padding-left: 22px; margin: 0; }
.side li { margin-bottom: 14px; }
blockquote { margin: 0; font-size: 15px; overflow-wrap: anywhere; }
.meta { margin: 3px 0 0; font-size: 13px; color: var(--muted); overflow-wrap: anywhere; }
.meta b { color: var(--ink); }
.src { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
"""

# Sorting is a nicety: without JavaScript the tables read as they are, most quoted first.
_SCRIPT = """
for (const table of document.querySelectorAll("table.sortable")) {
  table.tHead.addEventListener("click", (event) => {
    const th = event.target.closest("th");
    if (!th) return;
    const column = th.cellIndex, body = table.tBodies[0];
    const first = th.classList.contains("num") ? "desc" : "asc";
    const dir = th.dataset.dir ? (th.dataset.dir === "asc" ? "desc" : "asc") : first;
    for (const cell of th.parentElement.cells) delete cell.dataset.dir;
    th.dataset.dir = dir;
    const key = (row) => {
      const cell = row.cells[column], text = cell.dataset.v ?? cell.textContent.trim();
      const number = Number(text);
      return text !== "" && !Number.isNaN(number) ? number : text.toLowerCase();
    };
    const sign = dir === "asc" ? 1 : -1;
    const rows = [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b);
      return x < y ? -sign : x > y ? sign : 0;
    });
    body.append(...rows);
  });
}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="stance report">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
{body}
<footer>Made by <code>stance report</code>. The stances are a model&rsquo;s labels for each
quote; read the quotes before you cite a speaker&rsquo;s position.</footer>
</main>
<script>{script}</script>
</body>
</html>
"""
