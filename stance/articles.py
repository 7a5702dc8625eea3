"""Reading articles: the seed's text layout, plain text and HTML pages -> `Article`.

The body text of an `Article` is where quote offsets are counted, so the readers clean it once
(markdown links keep their words, a trailer "Original url:" goes to `url`) and everything after
works on that text. Stdlib only; trafilatura is imported inside the HTML reader.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from stance.errors import InputError

__all__ = ["Article", "ArticleError", "article_from_html", "parse_article", "read_article"]


class ArticleError(InputError):
    """An article file that cannot be read or decoded; the message names the file."""


@dataclass(frozen=True, slots=True)
class Article:
    """An article's body text (in which quote offsets are counted) and its metadata."""

    text: str
    title: str | None = None
    date: str | None = None  # ISO 8601 when it could be parsed, else as written
    url: str | None = None
    source: str | None = None  # file path, url or row id


_MONTHS = "January February March April May June July August September October November December"
_MONTH_NUM = {m[:3].casefold(): i for i, m in enumerate(_MONTHS.split(), start=1)}
_DATE_RES = (
    re.compile(r"(?P<m>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})"),
    re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m>[A-Za-z]{3,9})\.?,?\s+(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"),
)
_MD_LINK_RE = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS_RE = re.compile(r"\*\*|__")
_BYLINE_RE = re.compile(r"(?i)^(?:by|from)\s+\S")
_URL_LINE_RE = re.compile(r"(?i)^(?:original\s+url|url|source\s+url|link)\s*:\s*(\S*)\s*$")


def parse_article(text: str, *, source: str | None = None) -> Article:
    """An article from text in the seed layout or plain text.

    The seed layout is a "# Title" line, an optional "By ..." line, a date line, the body and an
    "Original url:" line followed by the url. Plain text may start with a headline line (short,
    followed by a blank line, no final full stop) and a date line; the rest is the body.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    title = date = url = None
    head, i = 0, 0
    # The header: title, byline and date lines before the first paragraph of the body.
    while i < len(lines) and head < 4:
        line = _clean_markdown(lines[i]).strip()
        i += 1
        if not line:
            continue
        head += 1
        if title is None and lines[i - 1].lstrip().startswith("# "):
            title = line.lstrip("# ").strip()
        elif _BYLINE_RE.match(line) and len(line) < 80:
            pass
        elif date is None and (iso := _parse_date(line)) is not None and len(line) < 60:
            date = iso
        elif title is None and date is None and head == 1 and _looks_like_headline(lines, i - 1):
            title = line
        else:
            i -= 1
            break
    body_lines = lines[i:]
    # The trailer: "Original url:" and the url (on the same or a following line).
    for j, raw in enumerate(body_lines):
        if m := _URL_LINE_RE.match(raw.strip()):
            rest = [m.group(1)] + [x.strip() for x in body_lines[j + 1 :]]
            url = next((x.strip("<>") for x in rest if x.strip("<>")), None)
            body_lines = body_lines[:j]
            break
    body = _clean_markdown("\n".join(body_lines)).strip()
    return Article(text=body, title=title, date=date, url=url, source=source)


def _looks_like_headline(lines: list[str], i: int) -> bool:
    # A short line on its own, not a sentence, not a quote with its attribution (those are body).
    line = lines[i].strip()
    followed_by_blank = i + 1 >= len(lines) or not lines[i + 1].strip()
    return (
        followed_by_blank
        and len(line) < 160
        and not line.endswith((".", ":", ";", ",", "!", "?"))
        and not line.startswith(('"', "“", "„", "«", "‘", "'"))
        and not _ATTRIBUTED_RE.search(line)
    )


_ATTRIBUTED_RE = re.compile(r"[\"”’»],?\s+\S+(?:\s+\S+)?\s+(?:said|says|told|added|wrote)\b")


def _clean_markdown(text: str) -> str:
    # Links keep their words, images go, bold markers go: offsets count in the clean text.
    return _MD_EMPHASIS_RE.sub("", _MD_LINK_RE.sub(lambda m: m.group(1) or "", text))


def _parse_date(line: str) -> str | None:
    """ISO 8601 for a line that is a date ("November 09, 2023", "9 Nov 2023", "2023-11-09")."""
    line = re.sub(r"(?i)^(?:published|updated|posted|date)\s*:?\s*", "", line.strip())
    for pattern in _DATE_RES:
        m = pattern.match(line)
        if not m or len(line) - m.end() > 25:  # a time or a zone may follow, not a sentence
            continue
        month = m.group("m")
        number = int(month) if month.isdigit() else _MONTH_NUM.get(month[:3].casefold())
        day, year = int(m.group("d")), int(m.group("y"))
        if number and 1 <= number <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{number:02d}-{day:02d}"
    return None


def article_from_html(html: str, *, url: str | None = None, source: str | None = None) -> Article:
    """An article from an HTML page: the main text by trafilatura, paragraphs kept apart."""
    import trafilatura  # only this reader needs it

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    meta = doc.as_dict() if doc is not None else {}
    text = meta.get("text") or _html_to_text(html)
    title = meta.get("title") or None
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if lines and title and lines[0] == title.strip():
        lines = lines[1:]  # trafilatura repeats the <h1> headline as the first line
    date = meta.get("date") or None
    return Article(
        text="\n\n".join(lines),
        title=title,
        date=_parse_date(date) or date if date else None,
        url=url or meta.get("url") or None,
        source=source or url,
    )


def _html_to_text(html: str) -> str:
    """Fallback for fragments trafilatura declines: tags dropped, block elements become lines.

    Linear on purpose, whatever the input: comments, scripts and styles are cut with str.find
    (an unclosed one runs to the end, as in a browser) and tags with regexes that cannot
    backtrack past the next "<"; html.parser rescans the rest of the document at each unclosed
    comment in some Python versions.
    """
    lower = html.lower()
    upcoming = {opener: lower.find(opener) for opener in _INVISIBLE}
    pieces, i = [], 0
    while live := [(at, opener) for opener, at in upcoming.items() if at >= 0]:
        start, opener = min(live)
        if start < i:  # inside a block already cut: look for the next one after it
            upcoming[opener] = lower.find(opener, i)
            continue
        pieces.append(html[i:start])
        end = lower.find(_INVISIBLE[opener], start + len(opener))
        i = len(html) if end < 0 else end + len(_INVISIBLE[opener])
        upcoming[opener] = lower.find(opener, i)
    pieces.append(html[i:])
    text = _BLOCK_TAG_RE.sub("\n", "".join(pieces))
    return unescape(_TAG_RE.sub("", text))


_INVISIBLE = {"<!--": "-->", "<script": "</script>", "<style": "</style>", "<title": "</title>"}
_BLOCK_TAG_RE = re.compile(r"(?i)</?(?:p|div|br|li|h[1-6]|blockquote|tr|section|article)\b[^<>]*>")
_TAG_RE = re.compile(r"<[^<>]*>")


def read_article(path: str | os.PathLike[str]) -> Article:
    """An article file: .txt/.md through parse_article, .html/.htm through article_from_html.

    Raises ArticleError naming the file when it cannot be read or is not UTF-8 text.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ArticleError(f"{path}: cannot read the article ({err.strerror or err})") from err
    is_html = path.suffix.lower() in (".html", ".htm", ".xhtml") or (
        path.suffix.lower() not in (".txt", ".md")
        and data.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
    )
    text = _decode(data, path, html=is_html)
    if is_html:
        return article_from_html(text, source=str(path))
    return parse_article(text, source=str(path))


def _decode(data: bytes, path: Path, *, html: bool) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        charset = re.search(rb"""charset=["']?([\w-]+)""", data[:4096]) if html else None
        if charset:
            try:
                return data.decode(charset.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
        raise ArticleError(
            f"{path}: not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start}); "
            "re-save the article as UTF-8"
        ) from err
