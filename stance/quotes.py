"""Article text -> direct quotes with their speakers.

A quote is the words inside quotation marks that someone said or wrote ("..." “...” « » „...“
and British ‘...’), a transcript turn ("Vladimir Putin: ..."), or a fragment quoted inside
reported speech (Zelensky said Ukraine was "not ready"). Scare quotes, titles and names in
quotation marks are not quotes. Each quote gets its speaker (canonical name), the speaker's role,
the sentence(s) around it and its character offsets in the article.

The work is one pass over the text with compiled regexes: sentence and paragraph starts and the
quotation marks paired by a small state machine (`stance.quotemarks`), transcript turns found at
their colons; each candidate is then judged and attributed by looking only at a bounded window
around it, with the grammar of attributions and the alias table of `stance.speakers`. Articles
are read by `stance.articles` (re-exported here). Stdlib only; knows nothing of the model.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from stance import quotemarks as qm
from stance import speakers as sp
from stance.articles import Article, ArticleError, article_from_html, parse_article, read_article
from stance.quotemarks import Layout, Span, pair_marks
from stance.speakers import SpeakerAliases

__all__ = [
    "Article",
    "ArticleError",
    "Quote",
    "SpeakerAliases",
    "article_from_html",
    "extract_quotes",
    "find_attribution",
    "parse_article",
    "read_article",
]


@dataclass(frozen=True, slots=True)
class Quote:
    """A direct quote: its words, the sentence(s) around it, who said it and where it is."""

    quote: str  # the words inside the marks (split and multi-paragraph parts joined by a space)
    context: str  # the sentence(s) holding the quote
    speaker: str | None
    speaker_role: str | None
    start: int  # text[start:end] spans the quote, split parts included
    end: int
    is_fragment: bool  # a fragment inside reported speech: classify `context`, not `quote`

    @property
    def text_for_model(self) -> str:
        """What the stance model should read: the sentence for a fragment, else the quote."""
        return self.context if self.is_fragment else self.quote


# -- extraction: the public functions --------------------------------------------------------


def extract_quotes(text: str, *, aliases: SpeakerAliases | None = None) -> list[Quote]:
    """The direct quotes of an article's text, in document order, with their speakers."""
    if not text or not text.strip():
        return []
    return _Extractor(text, aliases or SpeakerAliases.default()).run()


def find_attribution(text: str, *, aliases: SpeakerAliases | None = None) -> str | None:
    """The speaker named in a single quote a user typed, or None.

    '"We are ready to talk," Peskov said.' -> "Dmitry Peskov"; 'Lavrov: we are open' ->
    "Sergei Lavrov"; 'Peskov said talks were possible' -> "Dmitry Peskov".
    """
    if not text or text.isspace():
        return None
    # (Every shortcut below skips only work that cannot find a speaker: the answers are those
    # of the whole extraction, at a fraction of its cost for a typical single quote.)
    # A text without a quotation mark, a colon, a dash or a reporting word names nobody.
    quotes, dashes = _cues(text)
    # (Without quotation marks the speech verbs found here are those of the plain sentence.)
    verbs = None if quotes else sp.speech_verbs(text)
    if not (quotes or dashes or verbs or "ccording" in text or "words" in text):
        return None
    extractor = _Extractor(text, aliases or SpeakerAliases.default(), context=False)
    # Quotes and transcript turns need quotation marks or a colon (and a colon only counts
    # where a turn's label may end: a text whose colons follow plain words, "The answer is
    # simple: ...", has no quote, and its words are the plain sentence's).
    if quotes and (_has_quotation_mark(text) or _may_hold_turn(text)):
        for quote in extractor.quotes():
            if quote.speaker:
                return quote.speaker
    # No quotation marks: "Name: words", "Name said ..." or "..., Name said".
    stripped = text.strip()
    if dashes and (m := _LABEL_START_RE.match(stripped)) and not _is_question(m.group(1)):
        found = extractor.resolve(m.group(1), 0)
        if found[0]:
            return found[0]
    return extractor.attribute_plain(stripped, verbs=verbs)


# What find_attribution needs to find anything: a quotation mark (an apostrophe inside a word is
# none), a colon or a dash, a speech verb, "according to" or "in his words".
_LABEL_START_RE = sp.lazy_compile(globals(), "_LABEL_START_RE", rf"({sp.CHUNK})\s*[:—–-]\s")
# (A hyphen ends a label only before white space.)
_HYPHEN_END_RE = re.compile(r"-\s")


def _is_question(label: str) -> bool:
    """ "Question: ...", "Journalist: ...": the words of the one asking, nobody's quote."""
    return label.casefold().rstrip(".") in sp.QUESTION_LABELS or sp.is_question_label(label)


def _cues(text: str) -> tuple[bool, bool]:
    """(quotes, dashes): whether ``text`` holds a quotation mark or a colon, as `pair_marks` and
    the transcript turns see them (an apostrophe between two letters is no mark), and whether it
    holds what may end a "Name:" or "Name -" label (a colon, a dash, a hyphen before a space)."""
    # (A search for one character is a fast scan in C; one for a character that a text cannot
    # hold, a curly mark in plain ASCII, returns at once.)
    colon = ":" in text
    quotes = colon or _has_quotation_mark(text)
    dashes = (
        colon
        or "—" in text
        or "–" in text
        or ("-" in text and _HYPHEN_END_RE.search(text) is not None)
    )
    return quotes, dashes


def _has_quotation_mark(text: str) -> bool:
    """``_cues``' quotes without the colon: a quotation mark that `pair_marks` may pair."""
    return (
        '"' in text
        or "“" in text
        or "”" in text
        or "„" in text
        or "«" in text
        or "»" in text
        or ("'" in text and _has_apostrophe_mark(text, "'"))
        or ("’" in text and _has_apostrophe_mark(text, "’"))
        or ("‘" in text and _has_apostrophe_mark(text, "‘"))
    )


def _may_hold_turn(text: str) -> bool:
    """Whether `_Extractor._turns` may find a turn at one of the colons of ``text``: only a
    test that saves the layout and the label patterns. A turn's label is a question word
    ("Question:", its first word), "A" or "Answer", a speaker phrase (its last word closes
    one), a phrase whose parenthetical is cut off ("Putin (Russia):"), or a phrase right
    before the colon; any word of the 120 characters before the colon may start the label."""
    colon = text.find(":")
    while colon >= 0:
        before = text[max(0, colon - 120) : colon]
        at, colon = colon, text.find(":", colon + 1)
        label = before.rstrip("*_ \t").rstrip()
        if not label:
            continue
        if label.endswith(")"):
            return True
        # (The label's last word, and the one ending at the colon: "**Vladimir Putin**:".)
        last = label.rsplit(None, 1)[-1]
        if last in ("A", "Answer") or sp.may_close_phrase(last):
            return True
        if sp.may_close_phrase(before.rsplit(None, 1)[-1]):
            return True
        if not _TURN_COLON_RE.match(text, at):
            continue  # (no turn at a colon before white space alone)
        # (A label's first word, with its markdown and full stops dropped, cased as any. In
        # bytes, where translate is fast, for ASCII text; white space as str.split sees it.)
        low = before.casefold()
        if (
            not _QUESTION_WORDS.isdisjoint(low.encode().translate(_MARKUP_TO_SPACE).split())
            if low.isascii()
            else not sp.QUESTION_LABELS.isdisjoint(low.translate(_MARKUP_TO_SPACE_STR).split())
        ):
            return True
    return False


_QUESTION_WORDS = frozenset(w.encode() for w in sp.QUESTION_LABELS)
# Markdown marks, full stops and the white space of str.split() -> spaces, for bytes.split().
_MARKUP_TO_SPACE = bytes(
    0x20 if c < 0x80 and (chr(c) in "*_#." or chr(c).isspace()) else c for c in range(256)
)
_MARKUP_TO_SPACE_STR = str.maketrans("*_#.", "    ")


def _has_apostrophe_mark(text: str, mark: str) -> bool:
    """Whether ``mark`` (an apostrophe) stands somewhere in ``text`` without a letter or a digit
    on both sides: a quotation mark, not the apostrophe of "don't"."""
    # (str.find, not a regex: a regex engine's scan for a class with non-ASCII characters tests
    # every character of the text one by one.)
    i = text.find(mark)
    while i >= 0:
        if not (i and text[i - 1].isalnum() and text[i + 1 : i + 2].isalnum()):
            return True
        i = text.find(mark, i + 1)
    return False


# -- extraction: the worker ------------------------------------------------------------------

_ANSWER = "A:"  # the label of an interviewee's answer turn ("A: ...", "Answer: ...")
_TURN_COLON_RE = re.compile(r":[ \t]*(?:\n[ \t]*)?(?=\S)")
_LABEL_RE = sp.lazy_compile(globals(), "_LABEL_RE", rf"\s*{sp.CHUNK}\s*")
_PARENTHETICAL_RE = re.compile(r"\s*\([^()]{1,40}\)\s*$")
# The subject of a sentence: "Yulia Tymoshenko took ...", "The opposition leader Yulia Tymoshenko
# took ...".
_SUBJECT_START_RE = sp.lazy_compile(
    globals(),
    "_SUBJECT_START_RE",
    r"(?:(?:But|And|However|Meanwhile|Earlier|Later|Still|Yet|Also|Then|Now|Separately),?\s+"
    r"|(?:In|On|At|After|Before|During|Speaking|Asked|Earlier|Later)\b[^,.;:!?\"“”«»~]{0,80},\s+)?"
    r"(?:[Tt]he\s+(?:(?!(?:of|in|at|for|from|with|to|on|by|and|or)\s)[a-z0-9][\w'’-]*\s+){1,3}?)?"
    rf"(?P<s>{sp.CHUNK})(?:{sp.APPOS})?\s+(?!(?:and|or)\s)(?:{sp.ADV}\s+){{0,2}}[a-z]",
)
# "the 61-year-old Dane": "the" and lower-case words before a capitalised word.
_DESCRIBED_BEFORE_RE = re.compile(r"\b[Tt]he\s+(?:[a-z0-9][\w'’-]*\s+){0,3}$")
_NAME_ONLY_RE = sp.lazy_compile(globals(), "_NAME_ONLY_RE", sp.CHUNK)
_LOOKBACK = 40  # sentences or speakers looked back at to resolve a pronoun or a role
_SENTENCE_BREAK_CHAR_RE = re.compile("[.!?…\n*<]")
_CONTEXT = 400  # characters of context kept on either side of a quote, at most
_HEAD_SYNONYMS = (("head of state", "president"), ("head of government", "minister"))
_COMMA_INTRO_RE = sp.lazy_compile(
    globals(),
    "_COMMA_INTRO_RE",
    rf"(?:\b{sp.SPEECH_VERB}|\b[Aa]ccording\s+to\s+{sp.CHUNK})[^.!?;:\"“”«»~]{{0,60}},\s*$",
)
_SPLIT_REST_RE = re.compile(r"[^.!?\"“”«»~\n]{0,60}?[,:]\s*$")
_AFTER_TAIL_RE = re.compile(r"[^.!?\"“”«»]{0,80}?(?:[.!?]\s*|$)")
_MARKS = "\"“”„«»‘’'"
_SENTENCE_TAIL_RE = re.compile(r"[^.!?\"“”~]{0,60}?[.!?]")
_THAT_RE = re.compile(r"\bthat\b")
# Where an attribution may close a sentence: '..., Peskov said', '... — said Peskov'. (The
# definition: `_late_starts` finds its matches without the regex engine.)
_LATE_RE = re.compile(r"[,;]\s+|\s[—–]\s")


def _late_starts(text: str, start: int, end: int) -> list[int]:
    """The starts of ``_LATE_RE.finditer(text, start, end)``'s matches, found with str.find:
    the regex engine tries that pattern at every character, which cost more than the rest
    for a long text with few commas. (A comma's match takes the white space after it: a dash
    right after that white space starts no match, as in the regex's scan.)"""
    found = []
    for mark in ",;":
        i = text.find(mark, start, end)
        while i >= 0:
            if i + 1 < end and text[i + 1].isspace():
                j = i + 2
                while j < end and text[j].isspace():
                    j += 1
                found.append((i, j))
            i = text.find(mark, i + 1, end)
    for dash in "—–" if end - start >= 3 else "":
        i = text.find(dash, start + 1, end - 1)
        while i >= 0:
            if text[i - 1].isspace() and text[i + 1].isspace():
                found.append((i - 1, i + 2))
            i = text.find(dash, i + 1, end - 1)
    if len(found) > 1:
        found.sort()
    out, last = [], start
    for i, j in found:
        if i >= last:
            out.append(i)
            last = j
    return out


@dataclass(frozen=True, slots=True)
class _Turn:
    label: int  # where the speaker label starts
    start: int  # the turn's words: text[start:end]
    end: int
    phrase: str | None  # the label; None for a question turn


class _Who(NamedTuple):
    # (A named tuple, not a frozen dataclass: one is made for every speaker phrase resolved, and
    # a frozen dataclass's __init__ costs several times as much.)
    name: str | None
    role: str | None
    person: bool  # a person (for "he"/"she"), not a body or a place


_NOBODY = _Who(None, None, False)


class _Extractor:
    """One article's extraction: its layout, spans, turns and what is known of its people."""

    def __init__(self, text: str, aliases: SpeakerAliases, *, context: bool = True) -> None:
        self.text = text
        self.want_context = context  # False: quotes without their sentences (speakers only)
        self.aliases = aliases
        self.masked = text
        self._mentions: dict[str, tuple[int, str, str | None] | None] = {}
        self._roles: dict[str, str] = {}  # canonical speaker -> role at first mention
        self._role_names: dict[str, list[tuple[int, str]]] = {}
        # head word -> (the people titled with it found so far, where to read on; None: all)
        self._head_names: dict[str, tuple[list[tuple[int, str, str]], int | None]] = {}
        # The attribution between the parts of a split quote, by the quote's opening mark.
        self._middle: dict[int, tuple[str, str | None]] = {}
        # Persons named as speakers, ordered by where they were named.
        self._people: list[_Who] = []
        self._people_at: list[int] = []
        self._subjects: dict[int, _Who | None] = {}  # sentence index -> its subject, if a person
        self._last_body: tuple[int, _Who] | None = None
        self._previous: tuple[int, Quote] | None = None  # (paragraph, quote)
        # The speech verbs of ``masked`` (and their ends), once found; None: not yet.
        self._verbs_of: str | None = None
        self._verbs: list[re.Match[str]] = []
        self._verb_ends: list[int] = []

    @functools.cached_property
    def layout(self) -> Layout:
        # (Built on first use: a single quote without quotation marks never needs it.)
        return Layout(self.text)

    # The pass: candidates in document order, each judged and attributed.
    def run(self) -> list[Quote]:
        return list(self.quotes())

    def quotes(self) -> Iterator[Quote]:
        """The quotes one by one (each is judged after those before it, so a caller may stop)."""
        turns = self._turns()
        spans = pair_marks(self.text, self.layout)
        if turns:
            ends = [t.label for t in turns]
            spans = [s for s in spans if not self._in_turn(turns, ends, s.opener)]
        spans = self._merge_split(spans)
        self.masked = self._mask(spans, turns)
        items: list[tuple[int, _Turn | Span]] = [(t.start, t) for t in turns]
        items += [(s.start, s) for s in spans]
        items.sort(key=lambda item: item[0])
        for _, item in items:
            quote = self._turn_quote(item) if isinstance(item, _Turn) else self._span_quote(item)
            if quote is not None:
                self._previous = (self.layout.paragraph(quote.start), quote)
                yield quote

    # -- transcript turns
    def _turns(self) -> list[_Turn]:
        text, layout = self.text, self.layout
        para_starts = set(layout.para_starts)
        found: list[tuple[int, int, str | None]] = []
        for m in _TURN_COLON_RE.finditer(text):
            colon = m.start()
            # (A label is short: a sentence start far before the colon is cut off, so that a text
            # without full stops costs no more per colon.)
            start = max(layout.sentence(colon)[0], colon - 120)
            while start < colon and text[start] in "*_# \t":
                start += 1  # markdown around a label: **Vladimir Putin:**
            label = _PARENTHETICAL_RE.sub("", text[start:colon].strip("*_ \t"))
            if not label:
                continue
            if len(label) < 60 and (
                label.casefold().rstrip(".") in sp.QUESTION_LABELS or sp.is_question_label(label)
            ):
                found.append((start, m.end(), None))
            elif label in ("A", "Answer") and start in para_starts:
                found.append((start, m.end(), _ANSWER))  # the interviewee's answer
            elif len(label) < 80 and self._is_speaker_label(
                label, at_paragraph_start=start in para_starts
            ):
                found.append((start, m.end(), label))
            elif tail := self._heading_label(max(start, colon - 80), colon):
                found.append((tail.start(), m.end(), tail.group()))
        turns = []
        for k, (label, begin, phrase) in enumerate(found):
            end = min(
                layout.paragraph_end(begin), found[k + 1][0] if k + 1 < len(found) else len(text)
            )
            while end > begin and text[end - 1].isspace():
                end -= 1
            if end > begin:
                turns.append(_Turn(label, begin, end, phrase))
        return turns

    def _is_speaker_label(self, label: str, *, at_paragraph_start: bool) -> bool:
        if not _LABEL_RE.fullmatch(label) or any(t in sp.LABEL_STOP for t in label.split()):
            return False
        name, role = sp.split_role_name(label)
        if not name or len(name.split()) > 4 or sp.is_institution(name):
            return False
        if len(name.split()) == 1:
            # A one-word label ("Peskov:") only opening a paragraph, and only for a known person.
            known = self.aliases.knows(name) or role is not None or self._mention(name) is not None
            return at_paragraph_start and known
        return True

    def _heading_label(self, floor: int, colon: int) -> re.Match[str] | None:
        """A label run on from a heading in flattened text: "... at the BRICS Summit President
        of Russia Vladimir Putin:", "(Laughter) Vladimir Putin:"."""
        tail = sp.chunk_at_end(self.text, floor, colon)
        if tail is None or tail.start() == floor:
            return None
        name, role = sp.split_role_name(tail.group())
        if not name or len(name.split()) < 2 or sp.is_institution(name):
            return None
        before = self.text[max(0, tail.start() - 30) : tail.start()].rstrip()
        if before.endswith((")", "]")):
            return tail
        # Not the object of a verb or a preposition: "a message for President Zelensky:".
        word = before.rsplit(None, 1)[-1].casefold() if before else ""
        if (
            role is None
            or not word.isalpha()
            or word in sp.NOT_BEFORE_LABEL
            or word in sp.SPEECH_VERB_WORDS
        ):
            return None
        return tail

    @staticmethod
    def _in_turn(turns: list[_Turn], labels: list[int], pos: int) -> bool:
        i = bisect.bisect_right(labels, pos) - 1
        return i >= 0 and turns[i].label <= pos < turns[i].end

    def _turn_quote(self, turn: _Turn) -> Quote | None:
        if turn.phrase is None:
            return None  # a question: not a quote of a public figure
        text = self.text
        start, end = turn.start, turn.end
        # A turn wholly inside quotation marks: the quote is the words inside them.
        if end - start > 2 and text[start] in _MARKS and text[end - 1] in _MARKS:
            start, end = start + 1, end - 1
        words = " ".join(text[start:end].split())
        if not any(ch.isalpha() for ch in words):
            return None
        if turn.phrase == _ANSWER:
            who = self._person_before(turn.label, None)  # the person the interview is with
        else:
            who = self.resolve_who(turn.phrase, turn.label)
            self._remember(who, turn.label)
        return Quote(words, words, who.name, who.role, start, end, False)

    # -- quoted spans
    def _merge_split(self, spans: list[Span]) -> list[Span]:
        """Join "We are ready," Peskov said, "but not now." into one quote."""
        out: list[Span] = []
        for span in spans:
            if out and (middle := self._split_attribution(out[-1], span)) is not None:
                first = out[-1]
                out[-1] = Span(first.parts + span.parts, first.opener, span.closer, first.double)
                self._middle[first.opener] = middle
                continue
            out.append(span)
        return out

    def _split_attribution(self, a: Span, b: Span) -> tuple[str, str | None] | None:
        text = self.text
        if a.double != b.double or self.layout.paragraph(a.closer) != self.layout.paragraph(
            b.opener
        ):
            return None
        if text[a.end - 1] in ".!?" or b.opener - a.closer > 160:
            return None
        m = sp.AFTER_RE.match(text, a.closer + 1, b.opener)
        if m and _SPLIT_REST_RE.match(text, m.end(), b.opener):
            return sp.speaker_group(m)
        m = sp.ANONYMOUS_AFTER_RE.match(text, a.closer + 1, b.opener)
        if m and _SPLIT_REST_RE.match(text, m.end(), b.opener):
            return sp.described(m), None
        return None

    def _mask(self, spans: list[Span], turns: list[_Turn]) -> str:
        # Quoted words are blanked for the attribution search: a "said" inside a quote is not
        # an attribution, and a name inside one is not the subject of a sentence.
        ranges = sorted([p for s in spans for p in s.parts] + [(t.start, t.end) for t in turns])
        pieces, last = [], 0
        for s, e in ranges:
            if s < last:
                continue
            pieces.append(self.text[last:s])
            pieces.append("~" * (e - s))
            last = e
        pieces.append(self.text[last:])
        return "".join(pieces)

    def _span_quote(self, span: Span) -> Quote | None:
        text, masked, layout = self.text, self.masked, self.layout
        words = " ".join(" ".join(text[s:e].split()) for s, e in span.parts)
        if not any(ch.isalpha() for ch in words):
            return None
        n_words = len(words.split())
        sent_start = layout.sentence(span.opener)[0]
        sent_end = layout.sentence(max(span.closer - 1, span.opener))[1]
        para = layout.paragraph(span.opener)
        lead_char = self._char_before(span.opener, layout.para_starts[para])
        # A comma makes the quote standalone only after a verb: 'He said, "We are ready."'
        standalone = (
            lead_char is None
            or lead_char in qm.STANDALONE_BEFORE
            or (
                lead_char == ","
                and words[:1].isupper()
                and _COMMA_INTRO_RE.search(masked, max(0, span.opener - 90), span.opener)
                is not None
            )
        )
        window = max(0, span.opener - 40)
        # Rule: a quote right after "so-called", "dubbed", "the film" ... names a thing.
        if (
            not standalone
            and _may_end_naming_cue(masked, window, span.opener)
            and qm.NAMING_CUE_RE.search(masked, window, span.opener)
            and not qm.CLAUSE_START_RE.match(words)
        ):
            return None
        # Rule: a short quote followed by "channel", "portal", "operation" ... is a name.
        if n_words <= 6 and qm.NAME_NOUN_AFTER_RE.match(text, span.closer + 1):
            return None
        phrase, appos, at, direct = self._attribution(
            span, sent_start, sent_end, fragment=not standalone
        )
        # Rule: a short quote after "the", "its", "Russia's" is a term used as a name, unless
        # it is lower-case words someone is said to have used (Putin said the aim was the
        # "demilitarisation and denazification" of Ukraine).
        if (
            not standalone
            and n_words <= 4
            and masked[window : span.opener].rstrip().endswith(_DEFINITE_ENDINGS)
            and qm.DEFINITE_BEFORE_RE.search(masked, window, span.opener)
            and (phrase is None or not words[:1].islower())
        ):
            return None
        # Rule: a short capitalised phrase nobody is said to have said is a title or a name.
        if not direct and n_words <= 8 and qm.is_title(words):
            return None
        who = self.resolve_who(phrase, at, appositive=appos) if phrase is not None else _NOBODY
        if phrase is None and standalone:
            who = self._continued(para, span)
        # Rule: a short quote needs a speaker (a fragment: a speaker and a verb in its sentence).
        # (A colon introduces speech: 'The message read: "Stay home."' is kept.)
        if (
            n_words <= 4
            and who.name is None
            and phrase is None
            and lead_char != ":"
            and (not standalone or who is _NOBODY or words[-1:] not in ".!?,")
        ):
            return None
        if phrase:
            self._remember(who, at if at is not None else span.closer)
        context = self._context(span, sent_start, sent_end) if self.want_context else ""
        return Quote(words, context, who.name, who.role, span.start, span.end, not standalone)

    def _context(self, span: Span, sent_start: int, sent_end: int) -> str:
        # The sentence(s) around the quote, clipped to a few hundred characters on either side
        # (text without full stops would otherwise give every quote the whole text).
        start, end = max(sent_start, span.start - _CONTEXT), min(sent_end, span.end + _CONTEXT)
        if start > sent_start:
            start = self.text.find(" ", start, span.start) + 1 or start
        if end < sent_end:
            end = self.text.rfind(" ", span.end, end) if " " in self.text[span.end : end] else end
        return " ".join(self.text[start:end].split())

    def _names_a_person(self, phrase: str, appositive: str | None) -> bool:
        """Whether a subject phrase (or the name set off after it) is someone known: a full
        name, a listed or earlier-named surname, or a role ("the minister")."""
        if phrase.casefold() in sp.PRONOUNS:
            return sp.PRONOUNS[phrase.casefold()] == "person"
        name, role = sp.split_role_name(phrase)
        if name is None and appositive and _NAME_ONLY_RE.fullmatch(appositive):
            name = sp.split_role_name(appositive)[0]
        if name is None:
            return role is not None
        if sp.is_institution(name):
            return True
        return " " in name or self.aliases.knows(name) or self._mention(name) is not None

    def _char_before(self, pos: int, floor: int) -> str | None:
        i = pos - 1
        while i >= floor and self.text[i].isspace():
            i -= 1
        return self.text[i] if i >= floor else None

    def _attribution(
        self, span: Span, sent_start: int, sent_end: int, *, fragment: bool
    ) -> tuple[str | None, str | None, int | None, bool]:
        """(speaker phrase, appositive, its offset, whether it is right next to the quote)."""
        masked = self.masked
        # 1. The attribution between the parts of a split quote.
        if span.opener in self._middle:
            return (*self._middle[span.opener], span.parts[0][1], True)
        # 2. Right after the closing mark: ', Peskov said' / ', said Peskov' / ', he added'.
        para_end = self.layout.paragraph_end(span.closer)
        after = sp.AFTER_RE.match(masked, span.closer + 1, min(para_end, span.closer + 200))
        if after and self._after_fits(span, after):
            return (*sp.speaker_group(after), sp.speaker_start(after), True)
        if self._may_attribute(span.closer + 1, para_end) and (
            m := sp.ANONYMOUS_AFTER_RE.match(masked, span.closer + 1, para_end)
        ):
            # '"...," a senior diplomat said.' ('"...," the veteran diplomat said': described)
            return sp.described(m), None, span.closer + 1, True
        # 3. Earlier in the sentence: 'Peskov said: "..."', 'Zelensky said Ukraine was "not ready"'.
        lead_start = max(sent_start, span.opener - 400)
        lead = masked[lead_start : span.opener]
        if not lead.strip() and self._char_before(span.opener, 0) == ":":
            previous = self.layout.para_starts[self.layout.paragraph(span.opener)] - 1
            lead_start = max(self.layout.sentence(previous)[0], span.opener - 400)
            lead = masked[lead_start : span.opener]  # 'Peskov said:' closing the paragraph before
        found = sp.lead_speaker(lead, fragment=fragment)
        if found is not None:
            return found[0], found[1], lead_start + found[2], not fragment
        # 3b. A colon after another verb: 'Mel Stride went further: "..."' -> the sentence's
        # subject introduces the quote.
        if lead.rstrip().endswith(":") and lead_start == self.layout.sentence(lead_start)[0]:
            m = _SUBJECT_START_RE.match(masked, lead_start, span.opener)
            if m and self._names_a_person(m.group("s"), m.groupdict().get("appos")):
                return m.group("s"), m.groupdict().get("appos"), m.start("s"), True
        # 4. At the end of the sentence: 'Ukraine was "not ready" for talks, Zelensky said.'
        sent_end = min(sent_end, span.closer + 300)
        for pos in _late_starts(masked, span.closer + 1, sent_end):
            if not self._may_attribute(pos, sent_end):
                break  # (nor at any later comma)
            late = sp.AFTER_RE.match(masked, pos, sent_end)
            if late and _AFTER_TAIL_RE.fullmatch(masked, late.end(), sent_end):
                return (*sp.speaker_group(late), pos, False)
            late = sp.ANONYMOUS_AFTER_RE.match(masked, pos, sent_end)
            if late and _AFTER_TAIL_RE.fullmatch(masked, late.end(), sent_end):
                return sp.described(late), None, pos, False
        return None, None, None, False

    def _may_attribute(self, start: int, end: int) -> bool:
        """Whether an attribution after a quote (AFTER_RE, ANONYMOUS_AFTER_RE) may start at
        ``start`` in masked[:end]: each holds a speech verb or "according to". (Only a test
        that saves the match: a verb of the masked text, found once, must end after ``start``
        and start before ``end``; or ``end`` cuts a word, where a verb may end for the regex.)"""
        masked = self.masked
        if masked.find("according", start, end) >= 0:
            return True
        if end < len(masked) and _is_word_char(masked[end - 1]) and _is_word_char(masked[end]):
            return True
        verbs, ends = self._masked_verbs()
        i = bisect.bisect_right(ends, start)
        return i < len(verbs) and verbs[i].start() < end

    def _masked_verbs(self) -> tuple[list[re.Match[str]], list[int]]:
        """The speech verbs of the masked text and where each ends (found once per masking)."""
        if self._verbs_of is not self.masked:
            self._verbs = sp.speech_verbs(self.masked)
            self._verb_ends = [m.end() for m in self._verbs]
            self._verbs_of = self.masked
        return self._verbs, self._verb_ends

    def _after_fits(self, span: Span, after: re.Match[str]) -> bool:
        # After a quote that ends its sentence ('"We will win." Peskov said ...'), a name and a
        # verb may start a new statement: accept them only when the sentence ends soon after.
        if (
            self.text[span.end - 1] not in ".!?"
            or self.text[span.closer + 1 : after.start() + 1].strip()
        ):
            return True
        tail = self.masked[after.end() : after.end() + 80]
        m = _SENTENCE_TAIL_RE.match(tail)
        return bool(m) and not _THAT_RE.search(m.group())

    def _continued(self, para: int, span: Span) -> _Who:
        # Rule: an unattributed quote right after another one (same or next paragraph)
        # continues the same speaker's words.
        if self._previous is None:
            return _NOBODY
        prev_para, prev = self._previous
        if prev.speaker is None or para - prev_para > 1:
            return _NOBODY
        if para != prev_para and span.opener != self.layout.para_starts[para]:
            return _NOBODY
        return _Who(prev.speaker, prev.speaker_role, True)

    def _remember(self, who: _Who, pos: int) -> None:
        if who.name is None:
            return
        if who.person:
            i = bisect.bisect_right(self._people_at, pos)
            self._people_at.insert(i, pos)
            self._people.insert(i, who)
        else:
            self._last_body = (pos, who)

    # -- speakers
    def resolve(self, phrase: str, pos: int) -> tuple[str | None, str | None]:
        """(canonical speaker, role) for a speaker phrase found at ``pos``."""
        who = self.resolve_who(phrase, pos)
        return who.name, who.role

    def resolve_who(
        self,
        phrase: str,
        pos: int,
        *,
        appositive: str | None = None,
        describe: bool = True,
        name_only: bool = False,
    ) -> _Who:
        """The speaker a phrase found at ``pos`` names, with a role, and what is learnt of
        them for later quotes; ``name_only``: the name is all that is wanted (the last
        resolution of a single quote), its role is left out."""
        phrase = " ".join(phrase.split())
        if not phrase:
            return _NOBODY  # sp.ANONYMOUS
        kind = sp.PRONOUNS.get(phrase.casefold())
        if kind == "person":
            return self._person_before(pos, phrase)
        if kind == "body":
            return self._last_body[1] if self._last_body else _NOBODY
        if kind is not None:
            return _NOBODY  # "they", "we": not one speaker
        name, role = sp.split_role_name(phrase)
        if role and appositive and _NAME_ONLY_RE.fullmatch(appositive):
            # "The French president, François Hollande, said": the name is the appositive
            # ("Qatar's envoy, Sheikh Khalid Al Thani": with its honorific).
            named, named_role = sp.split_role_name(appositive)
            if named and not sp.is_institution(named) and (name is None or named_role is None):
                name = named
        if (
            name is not None
            and " " not in name
            and sp.is_demonym(name)
            and (
                phrase[:4].casefold() == "the "
                or _DESCRIBED_BEFORE_RE.search(self.text, max(0, pos - 40), pos)
            )
        ):
            # "The 61-year-old Dane, who ..., said": a description, not a name.
            role, name = role or name, None
        role = role or sp.appositive_role(appositive)
        role_only = name is None and role is not None
        if role_only and self._nothing_before(pos):
            return _Who(None, role, False)  # (nobody is named before it, to refer to)
        if role_only:
            # "the diplomat", "the 61-year-old Dane" fit anybody: the latest person.
            generic = _is_generic(role)
            name = None if generic and describe else self._name_for_role(role, pos)
            if (
                name is None
                and describe
                and not _INDEFINITE_RE.match(phrase)
                and not _INDEFINITE_BEFORE_RE.search(self.text, max(0, pos - 30), pos)
                and not (_role_heads(role) and _role_heads(role) <= _UNNAMED_HEADS)
            ):
                # "the diplomat said", "the prime minister said": the latest person named
                # before whose role (when known) agrees with the description.
                who = self._described(role, pos)
                if who is not None:
                    if not generic:  # a later "the prime minister" is the same person
                        key = (sp.tidy_role(role) or role).casefold()
                        self._role_names.setdefault(key, []).append((pos, who.name))
                    return who
        if name is None:
            return _Who(None, role, False)
        person = not sp.is_institution(name)
        if len(name.split()) == 1 and person:
            mention = self._mention(name)
            if mention is None and role and role.split()[-1].casefold() in sp.GIVEN_NAME_TITLES:
                mention = self._given_name_mention(name, pos)  # "Sheikh Mohammed"
            if mention and (mention[0] < pos or not self.aliases.knows(name)):
                name, role = mention[1], role or mention[2]
            elif not self.aliases.knows(name) and name.isupper():
                person = False  # an acronym: NATO, EU
        if len(name.split()) > 1 and name.isupper():
            name = name.title()  # a shouted transcript label: VLADIMIR PUTIN
        if person and not self.aliases.knows(name):
            name = sp.trim_name(name)
        canonical = self.aliases.canonical(name)
        if name_only:
            return _Who(canonical, None, person)  # (the role, and what it tells later quotes)
        if role_only:
            role = self._roles.get(canonical) or role  # "the minister": the role given before
        # The role is the one given at the person's first mention, else the one given here.
        if person:
            mention = self._mention(canonical.split()[-1]) or self._mention(name.split()[-1])
            if (
                mention
                and mention[2]
                and mention[0] <= pos
                and self.aliases.canonical(mention[1]) == canonical
            ):
                role = mention[2]
        role = role or self._roles.get(canonical)
        if role:
            self._roles.setdefault(canonical, role)
        if role and person:
            self._role_names.setdefault(sp.tidy_role(role).casefold(), []).append((pos, canonical))
        return _Who(canonical, sp.tidy_role(role), person)

    def _mention(self, surname: str) -> tuple[int, str, str | None] | None:
        """The first mention of ``surname`` with given names: (offset, full name, role)."""
        if surname in self._mentions:
            return self._mentions[surname]
        found = None
        text = self.text
        if surname[:1].isupper() and surname not in sp.STOP_CAPS:
            # "El-Sisi" at a sentence's start is the "el-Sisi" named before.
            spellings = [surname]
            if _PARTICLE_START_RE.match(surname):
                spellings.append(surname[0].lower() + surname[1:])
            for spelling in spellings:
                # str.find, not a regex with a look-behind: a literal scan keeps this linear.
                at = text.find(spelling)
                while at >= 0 and (found is None or at < found[0]):
                    end = at + len(spelling)
                    if (
                        not _word_char(text, at - 1)
                        and not _word_char(text, end)
                        and _may_follow_name_part(text, at)
                    ):
                        floor = sp.chunk_floor(text, max(0, at - 120), at)
                        chunk = sp.chunk_at_end(text, floor, end)
                        name, role = sp.split_role_name(chunk.group()) if chunk else (None, None)
                        if name and len(name.split()) > 1 and name.split()[-1] == spelling:
                            found = (at, name, role)
                            break
                    at = text.find(spelling, end)
        self._mentions[surname] = found
        return found

    def _given_name_mention(self, given: str, pos: int) -> tuple[int, str, str | None] | None:
        """The latest full name before ``pos`` that starts with ``given``."""
        text, found = self.text, None
        at = text.find(given, max(0, pos - _MENTION_WINDOW), pos)
        while at >= 0:
            if not _word_char(text, at - 1):
                chunk = sp.CHUNK_RE.match(text, at)
                name = sp.split_role_name(chunk.group())[0] if chunk else None
                if name and len(name.split()) > 1 and name.split()[0] == given:
                    found = (at, name, None)
            at = text.find(given, at + len(given), pos)
        return found

    def _name_for_role(self, role: str, pos: int) -> str | None:
        """Who "the Kremlin spokesman" or "the Head of State" is: the person last named with
        that role (or with its head word: "President ... Volodymyr Zelensky") before ``pos``."""
        key, head, ours, wanted = _role_key(role)
        named = _latest_before(self._role_names.get(key, []), pos, 1)
        if named:
            return named[-1][1]
        if head is None:
            return None
        # Speakers already given a role with that head word, and "<role> <Name>" mentions.
        named_before = [
            (at, n, r)
            for r, items in self._role_names.items()
            if head in r.replace("-", " ").split()
            for at, n in _latest_before(items, pos, 1)
        ]
        named_before += _latest_before(self._people_titled(head, pos), pos, _LOOKBACK)
        if ours:
            # "the Lithuanian president" is not "Polish President Andrzej Duda".
            named_before = [
                item
                for item in named_before
                if not (theirs := sp.nations_in(item[2])) or theirs & ours
            ]
        named_before.sort()
        # The nearest one whose role shares the most words with this one (a shared nationality
        # counts for more: "the President of Russia" is the "Russian President").
        best = max(
            reversed(named_before),
            key=lambda item: (
                len(wanted & set(item[2].split())) + 2 * bool(ours & sp.nations_in(item[2]))
            ),
            default=None,
        )
        return best[1] if best else None

    def _people_titled(self, head: str, pos: int) -> list[tuple[int, str, str]]:
        """(offset, canonical name, role) of every "<role with head> <Name>" in the text before
        ``pos``, and maybe some after it."""
        # (The text is read as far as a caller asks, once: a single quote's role is usually
        # the last one named in it, and nothing after it counts.)
        found, resume = self._head_names.setdefault(head, ([], 0))
        if resume is None or resume >= pos:
            return found
        text = self.text
        for m in _head_re(head).finditer(text, resume):
            if m.start() >= pos:
                self._head_names[head] = (found, m.start())
                return found
            if _word_char(text, m.start() - 1):
                continue
            # The whole phrase around the head word: "Deputy Head of the Office ... Ihor Zhovkva".
            floor = sp.chunk_floor(text, max(0, m.start() - 60), m.start())
            before = sp.chunk_at_end(text, floor, m.end())
            chunk = sp.CHUNK_RE.match(text, before.start() if before else m.start())
            name, role = sp.split_role_name(chunk.group()) if chunk else (None, None)
            if name and role and len(name.split()) > 1 and not sp.is_institution(name):
                tidy = (sp.tidy_role(role) or "").casefold()
                found.append((m.start(), self.aliases.canonical(name), tidy))
        self._head_names[head] = (found, None)  # (all read)
        return found

    def _person_before(self, pos: int, pronoun: str | None) -> _Who:
        """What "he" or "she" at ``pos`` refers to: the latest person named before it as a
        speaker or as a sentence's subject, skipping one whose given name says the other gender.
        """
        wanted = (
            None if pronoun is None else "f" if pronoun.casefold() in sp.FEMININE_PRONOUNS else "m"
        )

        def fits(who: _Who) -> bool:
            return wanted is None or sp.gender_of(who.name) in (wanted, None)

        found = self._latest_person(pos, fits, fallback=True)
        return found[0] if found else _NOBODY

    def _described(self, role: str, pos: int) -> _Who | None:
        """Who "the diplomat" or "the Lithuanian president" at ``pos`` is: the latest person named
        before it (a speaker or a subject, else any "<role> <Name>") whose role, when known,
        agrees with it; nobody when an unnamed one was brought in since ("a senior diplomat,
        speaking on condition of anonymity, said ... "...," the diplomat said")."""
        wanted = sp.tidy_role(role) or role

        def fits(who: _Who) -> bool:
            return who.name is not None and _roles_agree(wanted, who.role)

        found = self._latest_person(pos, fits, fallback=False, current=False)
        if found is None:
            found = self._latest_mention(pos, fits)
        if found is None:
            found = self._last_speaker(pos)
        if found is None or self._unnamed_since(wanted, found[1], pos):
            return None
        who = found[0]
        return _Who(who.name, who.role or wanted, True)

    def _latest_person(
        self, pos: int, fits: Callable[[_Who], bool], *, fallback: bool, current: bool = True
    ) -> tuple[_Who, int] | None:
        """(person, where named) of the latest person before ``pos`` that ``fits``: speakers
        and sentence subjects, newest first (with ``fallback``, the latest one at all when none
        fits). ``current``: whether the subject of the sentence holding ``pos`` counts (only
        when it comes before ``pos``)."""
        # Bounded look-backs (sentences, speakers) keep a pronoun's cost constant.
        if self._nothing_before(pos):
            return None
        k = bisect.bisect_left(self._people_at, pos) - 1
        if k < 0 and not current and self._in_first_sentence(pos):
            return None  # (nobody named before, no sentence before: the layout is not needed)
        floor = max(-1, k - _LOOKBACK)
        first_seen = None
        starts = self.layout.sent_starts
        i = bisect.bisect_right(starts, pos) - 1
        for j in range(i, max(i - _LOOKBACK, -1), -1):
            # Speakers named after this sentence's start are more recent than its subject.
            while k > floor and self._people_at[k] >= starts[j]:
                found = (self._people[k], self._people_at[k])
                first_seen = first_seen or found
                if fits(found[0]):
                    return found
                k -= 1
            if j < i:
                if j not in self._subjects:  # an earlier sentence's subject does not change
                    self._subjects[j] = self._subject_of(j, pos)
                who = self._subjects[j]
            else:
                who = self._subject_of(j, pos, before=True) if current else None
            if who is not None:
                first_seen = first_seen or (who, starts[j])
                if fits(who):
                    return who, starts[j]
        for at, who in zip(
            reversed(self._people_at[floor + 1 : k + 1]),
            reversed(self._people[floor + 1 : k + 1]),
            strict=True,
        ):
            if fits(who):
                return who, at
        if not fallback:
            return None
        if first_seen is None and k >= 0:
            first_seen = (self._people[k], self._people_at[k])
        return first_seen

    def _nothing_before(self, pos: int) -> bool:
        """Whether nothing comes before ``pos`` that a pronoun or a role there may refer to:
        only white space, and nobody remembered (a single quote's "The minister said ...")."""
        return not (self._people or self._role_names or self.text[:pos].strip())

    def _in_first_sentence(self, pos: int) -> bool:
        """Whether ``pos`` is in the text's first sentence (or before it), found without
        building the layout when it is not built yet: a later sentence or paragraph starts
        after one of . ! ? … or a line break or a separator (* <)."""
        if "layout" in self.__dict__:
            return bisect.bisect_right(self.layout.sent_starts, pos) <= 1
        return _SENTENCE_BREAK_CHAR_RE.search(self.text, 0, pos) is None

    def _last_speaker(self, pos: int) -> tuple[_Who, int] | None:
        """The person quoted last before ``pos``, when that was in this paragraph or the one
        before and no role of theirs is known ('"...," the adviser explained' after a quote of
        an adviser named without his title)."""
        k = bisect.bisect_left(self._people_at, pos) - 1
        if k < 0 or self._people[k].role:
            return None
        at = self._people_at[k]
        if self.layout.paragraph(pos) - self.layout.paragraph(at) > 1:
            return None
        return self._people[k], at

    def _latest_mention(self, pos: int, fits: Callable[[_Who], bool]) -> tuple[_Who, int] | None:
        """The latest "<role> <Full Name>" or "<Full Name>" before ``pos`` (within a bounded
        window) that ``fits``, whatever its place in its sentence."""
        # (Not in the sentence holding ``pos``: "X resigned ..., the president announced".)
        if self._in_first_sentence(pos):
            return None  # (only white space comes before the first sentence)
        end = self.layout.sentence(pos)[0]
        floor = max(0, end - _MENTION_WINDOW)
        if not _may_hold_full_name(self.masked, floor, end):
            return None
        found = None
        for m in sp.CHUNK_RE.finditer(self.masked, floor, end):
            if m.group().endswith(("'s", "’s")):
                continue  # "President Mirziyoyev's visit": not the person's own mention
            name, role = sp.split_role_name(m.group())
            # (A capitalised pair alone may be anything: "National Security".)
            if (
                name
                and len(name.split()) > 1
                and not sp.is_institution(name)
                and (role or self.aliases.knows(name))
            ):
                who = _Who(self.aliases.canonical(sp.trim_name(name)), sp.tidy_role(role), True)
                if fits(who):
                    found = (who, m.start())
        return found

    def _unnamed_since(self, role: str, since: int, pos: int) -> bool:
        """Whether "a/one ... <role noun>" (not an appositive to a name) comes between."""
        heads = [t for t in role.casefold().replace("-", " ").split() if sp.is_role_head(t)]
        if not heads or since >= pos:
            return False
        pattern = _indefinite_re(heads[-1])
        for m in pattern.finditer(self.masked, since, pos):
            if not _APPOSITIVE_BEFORE_RE.search(self.masked, max(0, m.start() - 40), m.start()):
                return True
        return False

    def _subject_of(self, j: int, pos: int, *, before: bool = False) -> _Who | None:
        """The person who is sentence ``j``'s subject, or the agent of "was stated by ..."
        (``before``: only a subject named before ``pos``)."""
        starts = self.layout.sent_starts
        if before and pos <= starts[j]:
            return None  # ("He said ...": no subject starts before the sentence does)
        end = starts[j + 1] if j + 1 < len(starts) else len(self.masked)
        passive_end = min(end, pos, starts[j] + 400)

        def matches() -> Iterator[re.Match[str] | None]:
            # (One after the other: the second is not needed when the first names someone. A
            # passive report holds "by".)
            if self.masked.find("by", starts[j], passive_end) >= 0:
                yield sp.PASSIVE_BY_RE.search(self.masked, starts[j], passive_end)
            yield _SUBJECT_START_RE.match(self.masked, starts[j])

        for m in matches():
            if before and m and m.start("s") >= pos:
                continue  # "In his words, the New START treaty ...": not what "his" refers to
            if m and sp.PRONOUNS.get(m.group("s").casefold()) is None:
                appositive = m.groupdict().get("appos")
                who = self.resolve_who(
                    m.group("s"), m.start("s"), appositive=appositive, describe=False
                )
                if who.person and who.name and (" " in who.name or self._mention(who.name)):
                    return who
        return None

    def attribute_plain(self, text: str, *, verbs: list[re.Match[str]] | None = None) -> str | None:
        """The speaker of a sentence without quotation marks ('Peskov said talks ...');
        ``verbs``: its speech verbs when already found (`speakers.speech_verbs` of the text)."""
        masked = self.masked
        if verbs is None:
            verbs = self._masked_verbs()[0]
        found = sp.lead_speaker(masked, fragment=False, verbs=verbs)
        if found is None:
            # (An attribution after a comma or a dash holds a speech verb or "according to":
            # past the last of them, no AFTER_RE match is tried.)
            last = max(verbs[-1].end() if verbs else -1, masked.rfind("according") + 1)
            for pos in _late_starts(masked, 0, last):
                late = sp.AFTER_RE.match(masked, pos)
                if late:
                    phrase, appos = sp.speaker_group(late)
                    return self.resolve_who(phrase, pos, appositive=appos, name_only=True).name
            return None
        return self.resolve_who(found[0], found[2], appositive=found[1], name_only=True).name


# "One European diplomat", "a senior official": someone new, not someone named before.
_INDEFINITE_RE = re.compile(r"(?i)(?:an?|one|another|some|two|three|several)\s")
_INDEFINITE_BEFORE_RE = re.compile(
    r"\b(?:[Aa]n?|[Oo]ne|[Aa]nother|[Ss]ome|[Tt]wo|[Tt]hree|[Ss]everal)\s+(?:[\w'’-]+\s+){0,2}$"
)
# "the official said", "the source added": someone left unnamed, whoever was named before.
_UNNAMED_HEADS = frozenset(("official", "source"))
_INTRODUCED_HEADS = sp.words(
    """spokesman spokeswoman spokesperson aide adviser advisor envoy ambassador representative
    negotiator correspondent"""
)
_OF = frozenset(("of", "to", "for"))
_MENTION_WINDOW = 1500  # characters looked back at for "the diplomat" named in passing
_APPOSITIVE_BEFORE_RE = re.compile(r"[A-Z][\w'’.-]*,\s*$")


@functools.lru_cache(maxsize=64)
def _indefinite_re(head: str) -> re.Pattern[str]:
    """ "a senior European diplomat", "one EU diplomat": someone new, not named."""
    return re.compile(
        rf"\b(?:[Aa]n?|[Oo]ne|[Aa]nother)\s+(?:[\w'’-]+\s+){{0,3}}?{re.escape(head)}\b"
    )


@functools.lru_cache(maxsize=4096)
def _role_key(role: str) -> tuple[str, str | None, frozenset[str], frozenset[str]]:
    """(lookup key, head word, nations, words) of a role, as `_Extractor._name_for_role` uses
    them ("the Lithuanian president" -> ("lithuanian president", "president", {"lithuania"},
    {"lithuanian", "president"})): pure, so worked out once per role."""
    key = (sp.tidy_role(role) or "").casefold()
    tokens = key.split()
    heads = [t for t in tokens if sp.is_role_head(t)]
    # The noun an of-phrase hangs on is the head: "adviser to the president of ukraine".
    main = next(
        (t for t, after in itertools.pairwise(tokens) if sp.is_role_head(t) and after in _OF),
        heads[-1] if heads else None,
    )
    # ("the head of state" is the president, "the head of government" the prime minister)
    head = next((h for phrase, h in _HEAD_SYNONYMS if phrase in key), main)
    return key, head, sp.nations_in(key), frozenset(tokens)


@functools.lru_cache(maxsize=64)
def _head_re(head: str) -> re.Pattern[str]:
    """A role's head word anywhere ("President", "president"): compiled once per word."""
    return re.compile(rf"(?i){re.escape(head)}\b")


_PARTICLE_START_RE = re.compile(r"(?:Al|El|Ad|As|Ash|At|Ar|An|Az)-\w")


@functools.lru_cache(maxsize=4096)
def _role_heads(role: str) -> frozenset[str]:
    key = role.casefold()
    heads = {t for t in key.replace("-", " ").split() if sp.is_role_head(t)}
    for phrase, head in _HEAD_SYNONYMS:
        if phrase in key:
            heads.add(head)
    return frozenset(heads)


@functools.lru_cache(maxsize=4096)
def _is_generic(role: str) -> bool:
    """A description with no role noun, or one that fits anybody ("the senior diplomat")."""
    heads = _role_heads(role)
    return not heads or bool(heads & sp.GENERIC_HEADS)


def _roles_agree(wanted: str, role: str | None) -> bool:
    """Whether a person with ``role`` can be the one described by ``wanted`` ("the Ukrainian
    president"): no other nationality, and a shared role noun unless the description is one
    that fits anybody ("the diplomat", "the 61-year-old Dane")."""
    if not role:
        # (A spokesman or an aide is introduced as one: nobody else is "the spokesman".)
        return not _role_heads(wanted) & _INTRODUCED_HEADS
    theirs, ours = sp.nations_in(role), sp.nations_in(wanted)
    role = role.casefold()
    if theirs and ours and not theirs & ours:
        return False
    heads = _role_heads(wanted)
    if not heads or heads & sp.GENERIC_HEADS:
        return True
    words = set(role.replace("-", " ").split())
    return bool(heads & words) or ("premier" in words and "minister" in heads)


def _latest_before(items: list[tuple], pos: int, n: int) -> list[tuple]:
    """The last ``n`` of ``items`` (sorted by their first field, an offset) before ``pos``."""
    i = bisect.bisect_left(items, (pos,))
    return items[max(0, i - n) : i]


def _may_follow_name_part(text: str, at: int) -> bool:
    """Whether a word at ``at`` can be the last of a longer name: a name part (a word, an
    initial, a particle) ends right before it, across spaces but not a line break. (Else the
    name found there is the word alone, and a search for it is skipped.)"""
    i = at - 1
    while i >= 0 and text[i].isspace() and text[i] != "\n":
        i -= 1
    return i >= 0 and i < at - 1 and (text[i].isalnum() or text[i] in "_.'’-")


def _may_hold_full_name(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] may hold a name of two words or more, as `split_role_name` finds
    one in a speaker phrase: only a test that saves the phrases' search. Each word of such a
    name is (or ends) a word of the text that is not a plain lower-case one (it holds a capital,
    "al-", "d'") or a particle ("von der Leyen")."""
    count = 0
    for word in text[start:end].split():
        if not (word.isascii() and word.isalpha() and word.islower()) or word.endswith(
            sp.NAME_PARTICLES
        ):
            count += 1
            if count > 1:
                return True
    return False


def _is_word_char(ch: str) -> bool:
    """A word character, as the regex engine's word boundary sees it."""
    return ch.isalnum() or ch == "_"


# Rule helpers' tests, which only save a regex search that cannot match:
# qm.NAMING_CUE_RE ends with a cue word or a determiner, then white space, before the quote;
# its words are matched in any case (an ASCII word: its lower case says; else searched), and a
# cue word may end a longer one ("recalled" ends with "called").
_NAMING_DETERMINERS = frozenset(("the", "a", "an", "it", "its", "what"))
_NAMING_CUE_ENDINGS = tuple(
    sorted(
        sp.words(
            """called dubbed calls calling as titled named film movie book song novel album
            documentary play poem series show programme program newspaper magazine daily weekly
            slogan term word words phrase motto hashtag headline title banner campaign initiative
            doctrine project festival exercise exercises operation platform bill law decree
            resolution convention treaty memorandum declaration strategy award medal prize order
            portal channel website company agency"""
        )
    )
)
# qm.DEFINITE_BEFORE_RE: "the", "its", "Russia's" ... then white space before the quote.
_DEFINITE_ENDINGS = tuple(
    sorted(sp.words("the The this these those its their his her our your 's ’s"))
)


def _may_end_naming_cue(masked: str, window: int, opener: int) -> bool:
    if not masked[opener - 1 : opener].isspace() or opener <= window:
        return False
    words = masked[window:opener].split()
    if not words:
        return False
    last = words[-1]
    if not last.isascii():
        return True
    last = last.lower()
    return last in _NAMING_DETERMINERS or last.endswith(_NAMING_CUE_ENDINGS)


def _word_char(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] in "-_")
