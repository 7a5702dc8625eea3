"""The one-file HTML page of `stance report`: the figures of `stance.report` laid out as a header,
tables and the SVG charts of `stance.report_charts`, with inline CSS and a little inline script,
every text from the input escaped and nothing fetched."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from stance.errors import InputError
from stance.report import (
    LABELS,
    MIN_QUOTES_PER_HALF,
    UNKNOWN_SPEAKER,
    _prepared,
    _top_speakers,
    _write_atomically,
    monthly_timeline,
    speaker_table,
    stance_changes,
    summary,
    top_quotes,
)
from stance.report_charts import changes_chart, pct, shares_chart, timeline_chart

__all__ = ["write_report"]

MAX_TABLE_ROWS = 500  # speakers listed in the HTML table; the CSV has them all
MAX_QUOTE_CHARS = 420  # a longer quote is cut in the HTML (the input keeps it whole)


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


# -- the HTML ------------------------------------------------------------------------------
def _e(value: Any) -> str:
    """Escaped text of a cell; empty for a missing value."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _day(value: Any) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


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


def _figure(svg: str) -> str:
    return f'<figure class="chart">{svg}</figure>'


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
    title = ", ".join(f"{label} {pct(getattr(row, f'share_{label}'))}" for label in LABELS)
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
            f"<small>{pct(getattr(row, f'share_{label}'))}</small></td>"
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
        _figure(shares_chart(rows)),
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
        _figure(changes_chart(shown)),
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
        _figure(timeline_chart(timeline, with_dates)),
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
