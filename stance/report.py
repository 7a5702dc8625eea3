"""Per-speaker stance tables, changes over time and monthly timelines, from the output of
`stance score`: the figures behind `stance report` (the page itself is drawn by
`stance.report_html`, its charts by `stance.report_charts`; both read from here, never the
reverse).

The input is read once into a canonical frame (`load_scored` / `prepare_scored`): one row per
input row, columns ``speaker`` (never null: "(unknown speaker)"), ``label`` (pro/anti/neutral, or
null for an article row with no quote), ``confidence``, ``date`` (naive UTC, NaT when missing or
unparsable), ``quote``, ``source``, ``title``, ``speaker_role``, ``model_version``. Everything
after that is vectorised pandas, so a million rows take seconds.
"""

from __future__ import annotations

import os
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
    "write_speaker_csv",
]

LABELS: tuple[str, ...] = ("pro", "anti", "neutral")
UNKNOWN_SPEAKER = "(unknown speaker)"
MIN_QUOTES_PER_HALF = 5  # a speaker's change is measured only with this many dated quotes a half
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
    table = _label_counts(quotes.groupby(["speaker", "label"], observed=True))
    by = quotes.groupby("speaker", observed=True)
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


def _label_counts(groups: pd.api.typing.DataFrameGroupBy) -> pd.DataFrame:
    """Per group of ``groups`` (a groupby whose last key is the label): ``quotes``, then the
    ``pro``, ``anti`` and ``neutral`` counts (0 where a label never occurs)."""
    counts = (
        groups.size()
        .unstack("label", fill_value=0)
        .reindex(columns=list(LABELS), fill_value=0)
        .astype("int64")
    )
    counts.columns = list(LABELS)
    return pd.DataFrame({"quotes": counts.sum(axis=1)}).join(counts)


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
    timeline = _label_counts(
        dated.groupby([dated["speaker"], month, dated["label"]], observed=True)
    )
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
