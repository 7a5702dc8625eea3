"""The layout of a text (paragraphs, sentences) and its quotation marks paired into spans.

Used by `stance.quotes`. Everything here is one regex pass over the text plus bisection, so a
body of tens of thousands of characters without a single line break costs the same per
character as a short one.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from stance.speakers import UPPER, lazy_compile

__all__ = ["Layout", "Span", "is_title", "pair_marks"]

# Every pattern here starts with a literal or a narrow class: the regex engine then skips
# ahead instead of trying a match at every character of a long text.
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n\s*")
_NEWLINE_RE = re.compile(r"\n\s*")
# "* * *", "***" and "<…>" separate the parts of a transcript whose line breaks were flattened.
_SEPARATOR_RE = re.compile(r"\*\s?\*\s?\*\s*|<(?:…|\.\.\.)>\s*")
# Words whose full stop does not end a sentence: titles, months, initials ("U.S.", "V.").
_ABBREVIATIONS = re.findall(
    r"\w+",
    "Mr Mrs Ms Dr St Gen Lt Col Sgt Capt Sen Rep Gov Prof Jr Sr Adm Maj Brig Mt No Nos Vol Fig "
    "Art Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec vs approx",
)
# (The look-behinds sit after the full stop so that they run only where there is one.)
_NOT_AFTER = "".join(rf"(?<!\b{a}\.)" for a in _ABBREVIATIONS) + r"(?<!\b[A-Z]\.)(?<!\.[A-Za-z]\.)"
# A sentence ends at . ! ? or … (and closing marks after it) before a capital, a digit or an
# opening quotation mark (a quote may start with a lower-case word).
# (The look-behinds all end with a full stop: after ! ? … they hold anyway, so the pattern can
# start with a character class, which the regex engine scans for quickly.)
_SENT_END_RE = lazy_compile(
    globals(),
    "_SENT_END_RE",
    rf"[.!?…]{_NOT_AFTER}[.!?…]*[\"”’»)\]]*\s+(?=[\"“„‘«]|'\w|[(\[]?[0-9{UPPER}])",
)


class Layout:
    """Paragraph and sentence starts of a text, for O(log n) lookups by offset."""

    __slots__ = ("breaks", "end", "para_starts", "sent_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.end = _skip_back(text, len(text))  # the end of the text's last word
        # Blank lines separate paragraphs when the text has any; else every line is one.
        found: list[tuple[int, int]] = []
        if "\n" in text:
            splitter = _BLANK_LINE_RE if _BLANK_LINE_RE.search(text) else _NEWLINE_RE
            found = [(m.start(), m.end()) for m in splitter.finditer(text)]
        if "*" in text or "<" in text:
            found += [(m.start(), m.end()) for m in _SEPARATOR_RE.finditer(text)]
            found.sort()
        # A paragraph's text ends before the white space that precedes its break.
        breaks = [_skip_back(text, b) for b, _ in found]
        first = len(text) - len(text.lstrip())
        self.breaks = breaks
        self.para_starts = [first] + [e for _, e in found]
        starts = set(self.para_starts)
        starts.update(m.end() for m in _SENT_END_RE.finditer(text))
        self.sent_starts = sorted(starts)

    def sentence(self, pos: int) -> tuple[int, int]:
        """(start, end) of the sentence holding ``pos``; end is the next sentence's start."""
        i = bisect.bisect_right(self.sent_starts, pos) - 1
        start = self.sent_starts[i] if i >= 0 else 0
        end = self.sent_starts[i + 1] if i + 1 < len(self.sent_starts) else len(self.text)
        return start, end

    def paragraph(self, pos: int) -> int:
        """The index of the paragraph holding ``pos``."""
        return bisect.bisect_right(self.para_starts, pos) - 1

    def paragraph_end(self, pos: int) -> int:
        """Where the paragraph holding ``pos`` ends (its last character + 1)."""
        i = bisect.bisect_right(self.breaks, pos)
        return self.breaks[i] if i < len(self.breaks) else self.end

    def next_break(self, pos: int) -> tuple[int, int] | None:
        """(end of this paragraph, start of the next) after ``pos``, or None in the last one."""
        i = bisect.bisect_right(self.breaks, pos)
        if i >= len(self.breaks):
            return None
        return self.breaks[i], self.para_starts[i + 1]


@dataclass(frozen=True, slots=True)
class Span:
    """A quoted span: the inner (start, end) of each part, and the positions of its marks."""

    parts: tuple[tuple[int, int], ...]
    opener: int
    closer: int  # position of the closing mark (or of the paragraph end when none was found)
    double: bool  # double marks ("" “” «» „“) rather than single ones (‘’ '')

    @property
    def start(self) -> int:
        return self.parts[0][0]

    @property
    def end(self) -> int:
        return self.parts[-1][1]


_MARK_RE = re.compile("[\"“”„«»‘’']")
_OPEN_SIDE = frozenset(" \t\n\r\u00a0([{—–-/\"“„«‘'")
_CLOSE_SIDE = frozenset(" \t\n\r\u00a0,.;:!?)]}—–-…\"”»’'")
# After an apostrophe-like mark: decades and elisions ("the '90s", "'em", "rock 'n' roll").
_ELISION_RE = re.compile(r"(?:\d0s|\d\d\b|em\b|tis\b|til\b|cause\b|n\b|bout\b|twas\b)")
_OPEN, _CLOSE, _EITHER = 1, 2, 3


def pair_marks(text: str, layout: Layout) -> list[Span]:
    """Every quoted span of ``text``: double marks first, then single marks outside them.

    Straight marks are opening or closing by the characters around them; a paragraph that ends
    inside a quote continues it when the next paragraph opens with a mark (a multi-paragraph
    quote); in flattened text an opening mark after a full stop inside a quote does the same.
    """
    doubles, singles = [], []
    n = len(text)
    for m in _MARK_RE.finditer(text):
        i, ch = m.start(), m.group()
        before = text[i - 1] if i else " "
        after = text[i + 1] if i + 1 < n else " "
        left, right = before in _OPEN_SIDE, after in _CLOSE_SIDE
        if ch == '"':
            kind = _OPEN if left and not right else _CLOSE if right and not left else _EITHER
            doubles.append((i, kind))
        elif ch in "“„«":
            # “ closes a German „...“ quote and sloppy typing uses it as a closer.
            kind = _CLOSE if ch == "“" and right and not left else _OPEN
            doubles.append((i, kind))
        elif ch in "”»":
            kind = _OPEN if ch == "”" and left and not right else _CLOSE
            doubles.append((i, kind))
        elif before.isalnum() and after.isalnum():
            continue  # an apostrophe inside a word: don't, Ukraine's
        elif left and not right and after.isalnum():
            if not _ELISION_RE.match(text, i + 1):
                singles.append((i, _OPEN))
        elif right and not left:
            singles.append((i, _CLOSE))
    spans = _pair(text, layout, doubles, double=True)
    if singles:
        starts = [s.opener for s in spans]
        inside = [mark for mark in singles if not _within(spans, starts, mark[0])]
        single_spans = _pair(text, layout, inside, double=False)
        if single_spans:
            # British style nests double marks inside single ones: keep the outer quote.
            s_starts = [s.opener for s in single_spans]
            spans = [s for s in spans if not _within(single_spans, s_starts, s.opener)]
            spans = sorted(spans + single_spans, key=lambda s: s.opener)
    return spans


def _within(spans: list[Span], starts: list[int], pos: int) -> bool:
    i = bisect.bisect_right(starts, pos) - 1
    return i >= 0 and spans[i].opener < pos <= spans[i].closer


def _pair(text: str, layout: Layout, marks: list[tuple[int, int]], *, double: bool) -> list[Span]:
    spans: list[Span] = []
    parts: list[list[int]] = []  # inner [start, end] of each part of the open quote; [] if none
    first = last = -1  # the open quote's first mark and its latest (re)opening mark
    para_starts = set(layout.para_starts)

    def close(at: int, *, unterminated: bool = False) -> None:
        parts[-1][1] = at
        # A quote left open at a paragraph's end is kept only when it is clearly speech: it
        # opened the paragraph or followed a colon, and has a few words.
        if unterminated and len(parts) == 1:
            lead = text[_skip_back(text, first) - 1 : _skip_back(text, first)]
            words = len(text[parts[0][0] : at].split())
            if not double or words < 3 or not (lead == ":" or first in para_starts):
                parts.clear()
                return
        trimmed = _trim(text, parts)
        if trimmed:
            spans.append(Span(trimmed, first, at, double))
        parts.clear()

    for k, (pos, kind) in enumerate(marks):
        if parts:
            brk = layout.next_break(last)
            if brk is not None and brk[0] < pos:
                # Rule: a mark opening the next paragraph continues a multi-paragraph quote.
                if pos == brk[1] and kind != _CLOSE:
                    parts[-1][1] = brk[0]
                    parts.append([pos + 1, -1])
                    last = pos
                    continue
                close(brk[0], unterminated=True)
        if not parts:
            if kind != _CLOSE:
                first = last = pos
                parts.append([pos + 1, -1])
            continue
        if kind != _OPEN:
            if double or _is_single_closer(text, pos, marks, k, layout):
                close(pos)
        elif double:
            # Rule: in flattened text an opening mark after a full stop inside an open quote is
            # the next paragraph of the same quote; otherwise the first mark was a stray one.
            if _SENTENCE_END_BEFORE_RE.search(text, max(0, pos - 4), pos) and pos - last > 2:
                parts[-1][1] = pos
                parts.append([pos + 1, -1])
                last = pos
            else:
                parts[:] = [[pos + 1, -1]]
                first = last = pos
    if parts:
        brk = layout.next_break(last)
        close(brk[0] if brk else layout.end, unterminated=True)
    return spans


_SENTENCE_END_BEFORE_RE = re.compile(r"[.!?…]\s+$")


def _is_single_closer(
    text: str, pos: int, marks: list[tuple[int, int]], k: int, layout: Layout
) -> bool:
    # Rule: "s' " before a lower-case word is a plural possessive when the next mark in the
    # same paragraph is a closing one that can end the quote instead (if the next one opens a
    # new quote, this one closed the first: 'talks were ‘useless’ and ‘pointless’').
    if text[pos - 1 : pos] not in ("s", "S") or not re.match(r"\s+[a-z]", text[pos + 1 : pos + 3]):
        return True
    if re.match(
        r"\s+(?:he|she|they|it|said|says|added|told|according)\b", text[pos + 1 : pos + 15]
    ):
        return True
    para_end = layout.paragraph_end(pos)
    following = marks[k + 1] if k + 1 < len(marks) else None
    return following is None or following[0] >= para_end or following[1] == _OPEN


def _skip_back(text: str, pos: int) -> int:
    """``pos`` moved back over white space (without copying the text before it)."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos


def _trim(text: str, parts: list[list[int]]) -> tuple[tuple[int, int], ...]:
    out = []
    for s, e in parts:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return tuple(out)


# -- the form of a quoted span: speech, or a name in quotation marks -------------------------

# A quote closed by these is standalone speech; after other words it is a fragment.
STANDALONE_BEFORE = frozenset(".!?:;…—–-([\"”’»“„«‘'")
# Words right before a quote that make it a name or a title, not speech.
NAMING_CUE_RE = lazy_compile(
    globals(),
    "NAMING_CUE_RE",
    r"(?i)(?:so-called|so\s+called|dubbed|calls|called|calling|known\s+as|referred\s+to\s+as"
    r"|billed\s+as|titled|entitled|named|nicknamed|code-?named"
    r"|(?:the|a|his|her|their|its)\s+(?:[\w-]+\s+){0,2}?(?:film|movie|book|song|novel|album"
    r"|documentary|play|poem"
    r"|series|show|programme|program|newspaper|magazine|daily|weekly|slogan|term|word|words"
    r"|phrase|motto|hashtag|headline|title|banner|campaign|initiative|doctrine|project|festival"
    r"|exercises?|operation|platform)"
    r"|operation|newspaper|magazine|hashtag|slogan|(?:draft\s+)?(?:bill|law|decree|resolution"
    r"|convention|treaty|memorandum|declaration|strategy|programme|program|award|medal|prize"
    r"|order|portal|channel|website|company|agency))\s+(?:(?:the|a|an|it|its|what)\s+)?$"
    # After "called" and an object, only a determiner outside the quote makes it a name:
    # 'what Moscow calls its invasion a "special military operation"', not 'called it "absurd"'.
    r"|(?i:\b(?:call|calls|called|calling)(?:\s+(?!for\b|on\b|upon\b)[\w'’-]+){1,4}\s+(?:a|an|the)\s+$)",
)
# A quoted clause that opens with a subordinating conjunction is words, never a name or a title:
# 'backed the campaign "as soon as the budget allows it"'.
CLAUSE_START_RE = re.compile(
    r"(?:as\s+long\s+as|so\s+long\s+as|as\s+soon\s+as|provided|unless|until|because|if|once"
    r"|while|whereas|although|though|since|even\s+if|even\s+though)\b"
)
NAME_NOUN_AFTER_RE = re.compile(
    r"\s+(?:TV\s+|news\s+|web\s+)?(?:channel|portal|newspaper|magazine|agency|website|platform"
    r"|company|group|party|movement|foundation|fund|programme|program|project|operation"
    r"|initiative|festival|forum|format|award|prize|plant|factory|station|brigade|battalion"
    r"|regiment|unit|team|club|campaign|exercises?|system|complex|missiles?|law|bill|decree"
    r"|hotel|centre|center|studio|show|series|film|movie|album|song|book"
    # a policy's name: Trump's "peace through strength" approach
    r"|approach|policy|doctrine|formula|strategy|concept|narrative|rhetoric|agenda|framework)\b"
)
# A definite determiner or possessive right before a short quote makes it a term or a name:
# the "Istanbul agreements", Russia's "special military operation".
DEFINITE_BEFORE_RE = re.compile(
    r"(?:\b(?:the|The|this|these|those|its|their|his|her|our|your)|\w['’]s)\s+$"
)
_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")


def is_title(words: str) -> bool:
    """A short phrase whose words are all capitalised and which is not a sentence."""
    if words.rstrip("\"”’'»").endswith((".", "!", "?", ",")):
        return False
    tokens = _WORD_RE.findall(words)
    if not tokens or len(tokens) > 8:
        return False
    return all(t[0].isupper() for t in tokens if len(t) > 3 or t is tokens[0])
