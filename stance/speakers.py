"""Who said it: the alias table, names and roles in a phrase, and the attribution grammar.

`stance.quotes` finds the quotation marks; this module answers the questions about people around
them: is "Kremlin spokesman Dmitry Peskov" a role and a name (and which is which), which words of
a sentence attribute a quote ("..., Peskov said", "said Peskov", "according to Peskov", "Peskov
told reporters that ..."), and what is the one canonical spelling of a name (Zelenskyy, Zelenskiy
-> "Volodymyr Zelensky"). Stdlib only; the default alias table is read lazily from aliases.json,
and the big patterns (each holds the few thousand characters of CHUNK) are compiled on first use.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import cast

from stance.errors import InputError

__all__ = ["AliasFileError", "SpeakerAliases"]


def words(text: str) -> frozenset[str]:
    """The set of the white-space separated words of ``text``."""
    return frozenset(text.split())


_words = words


class _LazyPattern:
    """A regex compiled on first use. Compiling the speaker patterns (each holds the few
    thousand characters of CHUNK) was most of this module's import time. On first use the proxy
    compiles its pattern and puts it in its own place in the module, so that later uses go to
    the compiled pattern directly, at no extra cost."""

    __slots__ = ("_flags", "_name", "_namespace", "_source")

    def __init__(self, namespace: dict[str, object], name: str, source: str, flags: int) -> None:
        self._namespace, self._name, self._source, self._flags = namespace, name, source, flags

    def __getattr__(self, attr: str) -> object:
        compiled = re.compile(self._source, self._flags)
        self._namespace[self._name] = compiled
        return getattr(compiled, attr)


def lazy_compile(
    namespace: dict[str, object], name: str, source: str, flags: int = 0
) -> re.Pattern[str]:
    """``re.compile(source)`` on first use, for the module global ``name`` of ``namespace``."""
    return cast("re.Pattern[str]", _LazyPattern(namespace, name, source, flags))


class AliasFileError(InputError):
    """A user's alias file that cannot be read (missing, not JSON/CSV, wrong shape)."""


# -- the alias table -------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """The lookup form of a name: no diacritics, case-folded, one space, no possessive."""
    decomposed = unicodedata.normalize("NFKD", name.replace("’", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = re.sub(r"'s$", "", plain.strip())
    return " ".join(plain.replace(".", ". ").split()).casefold().replace(". ", ".").rstrip(".")


class SpeakerAliases:
    """An alias -> canonical name table, e.g. "Zelenskyy" -> "Volodymyr Zelensky".

    Lookups ignore case, diacritics and a possessive "'s". A full name that is not listed but
    whose surname is ("Dmitri Peskov") maps to the listed person when the given names agree.
    """

    __slots__ = ("_given", "_table")

    def __init__(self, table: Mapping[str, str] | None = None) -> None:
        self._table: dict[str, str] = {}
        self._given: dict[str, set[str]] = {}
        for alias, canonical in (table or {}).items():
            self._add(alias, canonical)

    def _add(self, alias: str, canonical: str) -> None:
        self._table[_key(alias)] = canonical
        self._table.setdefault(_key(canonical), canonical)
        # Given names (and their initials) of the canonical person, for the surname fallback.
        given = self._given.setdefault(canonical, set())
        for name in (alias, canonical):
            for token in _key(name).split()[:-1]:
                given.update((token, token[0]))

    @classmethod
    def default(cls) -> SpeakerAliases:
        """The table shipped with the package (about 70 public figures)."""
        return _default_aliases()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> SpeakerAliases:
        """The default table with a user's file merged over it.

        JSON: ``{"alias": "Canonical Name"}`` or ``{"Canonical Name": ["alias", ...]}``.
        CSV: two columns, alias then canonical name (a header row ``alias,canonical`` is skipped).
        """
        merged = cls()
        merged._table = dict(_default_aliases()._table)
        merged._given = {k: set(v) for k, v in _default_aliases()._given.items()}
        for alias, canonical in _read_alias_file(Path(path)):
            merged._add(alias, canonical)
        return merged

    def canonical(self, name: str) -> str:
        """The canonical spelling of ``name``; ``name`` itself (tidied) when it is not listed."""
        name = " ".join(name.split())
        key = _key(name)
        if key in self._table:
            return self._table[key]
        tokens = key.split()
        # An honorific or title word in front ("Mr Peskov", "President Putin") is not the name.
        while len(tokens) > 1 and tokens[0].rstrip(".") in _HONORIFIC_KEYS:
            tokens = tokens[1:]
            if " ".join(tokens) in self._table:
                return self._table[" ".join(tokens)]
        if len(tokens) > 1 and tokens[-1] in self._table:
            person = self._table[tokens[-1]]
            if tokens[0] in self._given.get(person, ()) or tokens[0][0] in self._given.get(
                person, ()
            ):
                return person
        return re.sub(r"['’]s$", "", name)

    def __bool__(self) -> bool:
        # (len() counts the people: truth only needs to know that the table is not empty.)
        return bool(self._table)

    def knows(self, name: str) -> bool:
        """Whether ``name`` is listed (as an alias or a canonical name)."""
        return _key(name) in self._table

    def __len__(self) -> int:
        return len(set(self._table.values()))

    def __repr__(self) -> str:
        return f"SpeakerAliases({len(self)} people, {len(self._table)} spellings)"


@functools.lru_cache(maxsize=1)
def _default_aliases() -> SpeakerAliases:
    # Read on first use, not at import: importing stance.quotes stays cheap.
    raw = json.loads(resources.files("stance").joinpath("aliases.json").read_text(encoding="utf-8"))
    table = SpeakerAliases()
    for canonical, alias in _pairs_from_json(raw, Path("aliases.json")):
        table._add(alias, canonical)
    return table


def _read_alias_file(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise AliasFileError(f"{path}: cannot read the alias file ({err.strerror or err})") from err
    except UnicodeDecodeError as err:
        raise AliasFileError(
            f"{path}: the alias file is not UTF-8 text; re-save it as UTF-8"
        ) from err
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise AliasFileError(
                f"{path}: not valid JSON ({err.msg} at line {err.lineno})"
            ) from err
        return [(alias, canonical) for canonical, alias in _pairs_from_json(raw, path)]
    pairs = []
    for line_no, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise AliasFileError(
                f"{path}: line {line_no}: expected two columns 'alias,canonical name', got {row!r}"
            )
        if line_no == 1 and _key(row[0]) == "alias":
            continue  # the header row
        pairs.append((row[0].strip(), row[1].strip()))
    return pairs


def _pairs_from_json(raw: object, path: Path) -> Iterator[tuple[str, str]]:
    """(canonical, alias) pairs from either JSON shape; keys starting with "_" are comments."""
    if not isinstance(raw, dict):
        raise AliasFileError(f"{path}: expected a JSON object of alias -> canonical name")
    for key, value in raw.items():
        if key.startswith("_"):
            continue
        if isinstance(value, str):  # {"alias": "Canonical"}
            yield value, key
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            yield key, key  # {"Canonical": [aliases]}
            for alias in value:
                yield key, alias
        else:
            raise AliasFileError(
                f"{path}: the value of {key!r} must be a canonical name or a list of aliases"
            )


# -- words ---------------------------------------------------------------------------------

# Nouns that head a role ("Kremlin spokesman", "Foreign Minister"); the name follows them.
ROLE_HEADS = _words(
    """president minister spokesman spokeswoman spokesperson secretary chief head adviser
    advisor aide envoy ambassador commander general leader mayor governor chairman
    chairwoman chair director official negotiator deputy lawmaker speaker prosecutor
    ombudsman ombudswoman commissioner chancellor premier diplomat counterpart lieutenant
    colonel major captain sergeant admiral marshal correspondent analyst member
    representative pope patriarch king queen prince emir sheikh senator congressman
    congresswoman mp professor ceo founder investor writer author editor journalist
    commentator expert economist strategist vice-president coordinator lady ayatollah
    cardinal imam rabbi archbishop bishop politician lawyer activist blogger historian
    tycoon billionaire oligarch businessman businesswoman cleric"""
)
# Role nouns that describe almost anyone in the news: "the diplomat said" refers back to the
# latest person named, whatever that person's title ("the diplomat" after "Deputy Foreign
# Minister Sergei Ryabkov").
GENERIC_HEADS = _words(
    """diplomat official politician leader lawmaker veteran figure activist blogger commentator
    expert analyst member representative"""
)
# Lower-case words that may sit inside a role or an institution ("foreign policy chief").
_ROLE_WORDS = ROLE_HEADS | _words(
    """foreign defence defense press policy security national prime vice senior top former
    acting first interior finance economy economic health energy justice affairs state
    presidential parliamentary military intelligence armed forces staff office ministry
    delegation team human rights government general's chief's"""
)
_HONORIFIC_KEYS = _words(
    """mr mrs ms dr gen lt col sen rep gov prof sgt capt adm maj sir lord dame rev baroness
    baron ayatollah sheikh cardinal imam rabbi archbishop bishop president
    minister chancellor premier pope patriarch king queen prince"""
)
# Capitalised words that start a sentence or a clause but never a name.
STOP_CAPS = _words(
    """The A An But And Or So Yet Still Also However Meanwhile Earlier Later Then Now Instead
    On In At By For From To With Without After Before When While As Although Though If Since
    Asked Speaking Addressing Writing Responding Referring Commenting Following Despite
    During This That These Those There Here It Its His Her Their Our My We You They He She I
    Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February
    March April May June July August September October November December Today Yesterday
    Tomorrow Last Next Thank Thanks Dear Good Please Yes No Well Indeed Finally Moreover
    Furthermore Separately Overall Elsewhere Officials Analysts Experts Critics Residents
    Witnesses Sources Diplomats Observers Reports Others Many Some Both All Several
    Authorities Lawmakers Protesters Soldiers Troops Commentators Supporters Opponents
    Ukrainians Russians Americans Europeans People Everyone Nobody Police Prosecutors
    Investigators Doctors Journalists Reporters Media Statement Report Who Which What Where
    Why How According Another"""
) | frozenset(
    f"{p}{a}{c}"
    for p in ("I", "We", "You", "They", "He", "She", "It", "Let", "There", "That", "What")
    for a in "'’"
    for c in ("ve", "ll", "re", "d", "m", "s")
)
# Capitalised single words that are places, states or bodies, never a person's surname.
NON_PERSONS = _words(
    """Moscow Kyiv Kiev Ukraine Russia Washington Beijing Brussels London Paris Berlin Kremlin
    NATO EU UN US USA UK Pentagon Ankara Istanbul Minsk Warsaw Tehran China Turkey Germany
    France Britain Poland America Europe Belarus Iran Israel Japan India Hamas Hezbollah
    Gazprom TASS Interfax RIA Reuters AFP AP BBC CNN Bloomberg Vatican Kremlin's Crimea
    Donbas Donbass Mariupol Kharkiv Odesa Odessa Kherson Zaporizhzhia Bakhmut Geneva Vienna
    Rome Budapest Tokyo Seoul Delhi Riyadh Doha Qatar Saudi Ukraine's Russia's Moscow's
    Kyiv's Washington's Beijing's"""
)
# Words that make a capitalised phrase a body, not a person ("Russian Foreign Ministry").
INSTITUTION_WORDS = _words(
    """ministry kremlin house office council parliament rada duma government department agency
    service committee commission union organization organisation nations forces army navy
    command staff embassy mission bank fund court party federation republic states kingdom
    administration cabinet secretariat alliance nato eu un pentagon headquarters group
    company corporation institute university centre center times post news press network
    channel television tv radio agency gazprom rosatom association club league foundation
    society assembly board bureau authority tribunal coalition academy directorate"""
)

# Nationality words and the country they point to: "Ukrainian", "Ukraine's" -> "ukraine".
# A role's nationality must agree with a person's known role before "the Lithuanian president"
# refers back to them ("Polish President Andrzej Duda" is not "the Lithuanian president").
_NATION_TABLE = """ukraine ukrainian | russia russian | france french frenchman frenchwoman |
    britain british briton uk u.k. | us u.s. usa american america | germany german |
    poland polish pole | italy italian | spain spanish spaniard | china chinese |
    turkey turkish turk turkiye | iran iranian | israel israeli | finland finnish finn |
    sweden swedish swede | norway norwegian | denmark danish dane | estonia estonian |
    latvia latvian | lithuania lithuanian | belarus belarusian | moldova moldovan |
    georgia georgian | hungary hungarian | slovakia slovak | slovenia slovenian slovene |
    czech czechia | romania romanian | bulgaria bulgarian | serbia serbian serb |
    croatia croatian croat | greece greek hellenic | austria austrian | switzerland swiss |
    netherlands dutch | belgium belgian | ireland irish | portugal portuguese |
    canada canadian | japan japanese | india indian | pakistan pakistani | qatar qatari |
    saudi saudi-arabian | oman omani | egypt egyptian | syria syrian | iraq iraqi |
    kazakhstan kazakh | brazil brazilian | mexico mexican | australia australian |
    korea korean | vatican | eu european | nato | cuba cuban | venezuela venezuelan |
    argentina argentine argentinian | chile chilean | colombia colombian | peru peruvian |
    nicaragua nicaraguan | bolivia bolivian | armenia armenian | azerbaijan azerbaijani |
    uzbekistan uzbek | kyrgyzstan kyrgyz | tajikistan tajik | turkmenistan turkmen |
    mongolia mongolian | vietnam vietnamese | indonesia indonesian | malaysia malaysian |
    thailand thai | philippines philippine filipino | singapore singaporean |
    afghanistan afghan | bangladesh bangladeshi | lebanon lebanese | jordan jordanian |
    palestine palestinian | kuwait kuwaiti | bahrain bahraini | emirates emirati uae |
    yemen yemeni | libya libyan | tunisia tunisian | algeria algerian | morocco moroccan |
    sudan sudanese | ethiopia ethiopian | kenya kenyan | nigeria nigerian | ghana ghanaian |
    senegal senegalese | luxembourg luxembourgish | iceland icelandic | malta maltese |
    cyprus cypriot | montenegro montenegrin | albania albanian | macedonia macedonian |
    bosnia bosnian | kosovo kosovar | africa african"""
NATIONS: dict[str, str] = {
    word: group.split()[0] for group in _NATION_TABLE.split("|") for word in group.split()
}


@functools.lru_cache(maxsize=8192)
def nations_in(phrase: str | None) -> frozenset[str]:
    """The countries or places a role names: "Ukrainian President" -> {"ukraine"}, "Ukraine's"
    too; the words of an "of" phrase count as places ("President of the Republic of South
    Ossetia" -> {"south", "ossetia"}), so that two roles of different places disagree."""
    if not phrase:
        return frozenset()
    out = set()
    after_of = False
    for token in phrase.split():
        word = bare_word(token).strip(",")
        if word in NATIONS:
            out.add(NATIONS[word])
        elif (
            after_of
            and word.isalpha()
            and len(word) > 2
            and word not in _ROLE_WORDS
            and word not in INSTITUTION_WORDS
            and word not in _STATE_WORDS
        ):
            out.add(word)
        after_of = word == "of" or (after_of and word not in ("and", "for", "to"))
    return frozenset(out)


# Words of a state's formal name that say nothing of which state it is.
_STATE_WORDS = _words(
    """the of republic federation kingdom united states state people's peoples islamic
    democratic socialist federal arab grand duchy principality commonwealth union
    confederation plurinational bolivarian emirates"""
)


def is_demonym(word: str) -> bool:
    """A nationality noun or adjective ("Slovenian", "Briton"): a description, not a name."""
    low = bare_word(word)
    return (low in NATIONS and NATIONS[low] != low) or low.endswith(("ian", "ean", "ese"))


PRONOUNS = {
    "he": "person",
    "she": "person",
    "him": "person",
    "her": "person",
    "it": "body",
    "they": "plural",
    "we": "plural",
    "them": "plural",
}
FEMININE_PRONOUNS = frozenset(("she", "her"))

UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĖĘĚĜĞĠĢĤĪĮİĴĶĹĻĽŁŃŅŇŌŐŒŔŘŚŜŞŠŢŤŪŮŰŲŴŶŸŹŻŽ"
# (Speed: the speaker patterns are searched at every position of a sentence, so each of their
# alternatives starts with a literal or a character class, which the regex engine rejects at a
# glance; an optional group is written "(?:A|B|)", which tries the same things in the same order
# as "(?:A|B)?" without the engine's loop around it.)


def alternation(options: Iterable[str]) -> str:
    """A regex matching any of the literal ``options``, as a prefix tree: "say(?:ing|s)?" for
    say, says, saying. It matches what the plain alternation (longest first) matches, but the
    regex engine rejects a position after a character or two instead of trying every option:
    these lists are tried at each position of a search."""
    tree: dict = {}
    for word in options:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # the end of a word

    def emit(node: dict) -> str:
        parts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not parts:
            return ""
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        # (Greedy "?": a longer word is tried before the shorter one it extends.)
        return f"(?:{body})?" if "" in node else body

    return f"(?:{emit(tree)})"


# One capitalised token: a word ("Peskov", "Ukraine's", "Lvova-Belova"), initials ("U.S.", "V.")
# or an abbreviated honorific ("Mr.", "Gen.").
_CAP = (
    rf"(?:{alternation(words('Mr Mrs Ms Dr Gen Lt Col Sen Rep Gov Prof Sgt Capt Adm Maj St Rev'))}"
    rf"\.(?=\s)|[{UPPER}]\.(?:[{UPPER}]\.)*(?=\s)"
    rf"|(?:{alternation(words('al el ad as ash at ar an az'))}-|d['’]|)"
    rf"[{UPPER}](?:[\w'’\-]|\.(?=\w))*)"
)
_ROLE_LC = alternation(w for w in _ROLE_WORDS if "'" not in w)
_TOKEN = rf"(?:{_CAP}|(?:{_ROLE_LC})(?:'s|’s)?\b)"
# (White space inside a name never holds a line break: a name does not run on from a heading or
# a timestamp line into the paragraph after it.)
_SP = r"[^\S\n]+"
# "to the" joins a body or a posting to where it serves: "Permanent Mission of Ukraine to the UN";
# "to" alone only after a posting: "Ambassador to Ukraine Bridget Brink" (not "Zelensky to Trump").
_TO = "|".join(
    rf"(?<={w[0]}{w[1:]} )|(?<={w[0].lower()}{w[1:]} )"
    for w in sorted(
        words("Mission Ambassador Envoy Representative Delegation Embassy Adviser Advisor")
    )
)
_CONNECTOR = (
    rf"(?:of(?:{_SP}the)?|for|de|da|di|do|dos|von|van|der|den|al|el|bin|ibn|le|la|du|y"
    rf"|to{_SP}the|(?:{_TO})to)"
)
# A speaker phrase: capitalised tokens and role words, with "of"/"for" or name particles between
# them ("U.S. Secretary of State Antony Blinken", "Ursula von der Leyen").
# ("(?<![\w].)" after a first letter is "\b" before it: von, van, de, der, den, da, bin, ibn.)
_PARTICLE = r"(?:v(?<![\w].)(?:an|on)|d(?<![\w].)(?:a|e(?:n|r)?)|b(?<![\w].)in|i(?<![\w].)bn)"
CHUNK = (
    rf"(?:(?:the|The){_SP}|(?:{_PARTICLE}{_SP})+(?=[{UPPER}])|)"
    rf"{_TOKEN}(?:{_SP}(?:{_CONNECTOR}{_SP})*{_TOKEN}){{0,9}}"
)
# he, she, it, they as whole words
PRONOUN = r"(?:(?:[Hh](?<![\w].)e|[Ss](?<![\w].)he|[Ii](?<![\w].)t|[Tt](?<![\w].)hey)\b)"
SPEECH_VERB_WORDS = _words(
    """said says say saying told tells telling added adds adding noted notes noting stressed
    stresses stressing warned warns warning wrote writes writing posted posts posting
    insisted insists insisting argued argues arguing asked asks replied replies replying
    declared declares claimed claims explained explains explaining emphasised emphasized
    emphasises emphasizes emphasising emphasizing underlined underlines underscored
    underscores recalled recalls announced announces continued continues commented comments
    remarked stated states observed suggested suggests acknowledged acknowledges admitted
    admits conceded tweeted responded answered urged urges complained vowed vows pledged
    promised predicted cautioned concluded affirmed reiterated reiterates repeated assured
    maintained countered retorted mentioned highlighted echoed quipped joked lamented
    boasted contended believes thinks confirmed denied demanded predicted told"""
)
# Verbs that report someone's words only when a fragment follows them: "called the plan
# "absurd"", "described talks as "premature"" (immediately before a quote they name a thing).
_CHARACTERISING_VERBS = _words(
    """called calls calling described describes describing dismissed dismisses branded labelled
    labeled termed denounced slammed condemned criticised criticized praised hailed welcomed
    accused rejected backed supported endorsed opposed"""
)
# (The words first: no word is the start of the phrases after them, so the order changes no
# match, and a position that starts no verb is rejected sooner.)
SPEECH_VERB = (
    rf"(?:{alternation(SPEECH_VERB_WORDS)}"
    r"|(?:was|were|is|has\s+been)\s+quoted\s+(?:as\s+saying|by)|pointed\s+out|went\s+on)\b"
)
REPORTING_VERB = rf"(?:{SPEECH_VERB}|{alternation(_CHARACTERISING_VERBS)}\b)"
# Words allowed between a speaker and the verb: "Peskov also said", "Peskov on Wednesday said".
# ("Stoltenberg likes to say that", "Peskov often says", "Zhadan once wrote".)
ADV = (
    r"(?:[a-z]+ly|also|later|earlier|previously|again|then|has|had|have|was|is|would|will|once"
    r"|further|on\s+[A-Z][a-z]+day|last\s+week|himself|herself|too|separately|often|always"
    r"|never|sometimes|now|long|(?:likes?|liked|loves?|loved|used|tends?|tended)\s+to)"
)
# A character of an appositive: not a clause's end (a decimal point is not one: "2.4 million"),
# and a quoted title inside it is masked ('whose book "~~~" sold well').
_APPOS_CHAR = r"(?:[^,.;:!?\"“”«»()\n]|(?<=\d)\.(?=\d)|[\"“„«]~+[\"”“»])"
# An appositive between commas: "Dmytro Kuleba, Ukraine's foreign minister, said", and a
# relative clause after it: "Kemi Badenoch, the opposition leader, who toured the yard, said".
APPOS = (
    rf",\s+(?P<appos>{_APPOS_CHAR}{{2,90}}?)"
    rf"(?:,\s+(?:who|whose)\s{_APPOS_CHAR}{{2,120}}?)?,"
)
# A role after an inverted attribution: 'said Steve Witkoff, the U.S. special envoy'.
_TAIL_APPOS = r"(?:,\s+(?P<tail>(?:the|a|an)\s+(?:[^,.;:!?\"“”«»()\n]|\.(?=\w|\s+[a-z])){2,90}))?"

# Lower-case words before a lower-case role and a name: '"...," shadow defence secretary James
# Cartlidge said' (the role starts at its role word).
_LOWER_TITLE = (
    rf"(?:(?!(?:a|an|one|another|some|two|several)\s)(?:[a-z][\w'’-]*\s+){{1,2}}"
    rf"(?=(?:{_ROLE_LC})\s+(?:{_ROLE_LC}\s+)*[{UPPER}]))?"
)
# After a closing mark: ', Peskov said' / ', said Peskov' / ', according to Peskov' / ', he added'.
AFTER_RE = lazy_compile(
    globals(),
    "AFTER_RE",
    rf"[ \t]*(?:[,;]|[—–]|--)?\s*(?:"
    rf"(?P<v1>{SPEECH_VERB})\s+(?P<s1>{CHUNK}|{PRONOUN}\b){_TAIL_APPOS}"
    rf"|according\s+to\s+(?P<s2>{CHUNK}|(?:him|her)(?=\s*[,.;:)]|\s*$))"
    rf"|{_LOWER_TITLE}(?P<s3>{CHUNK}|{PRONOUN}\b)(?:{APPOS})?\s+(?:{ADV}\s+){{0,3}}"
    rf"(?P<v3>{SPEECH_VERB}))",
)
# A relative clause's subject: "Volodymyr Zelensky, who wrote on X that ...".
REL_SUBJECT_RE = lazy_compile(
    globals(), "REL_SUBJECT_RE", rf"(?P<s>{CHUNK}),?\s+who\s+(?:{ADV}\s+){{0,3}}$"
)
# Someone not named: "a senior European diplomat said", "said one official".
# ("the ministry said", "his office said": a body or a person who can speak, not "the report".)
_SPEAKING_NOUNS = (
    r"(?:officials?|ministry|minister|spokes(?:man|woman|person)|statement|office|embassy"
    r"|government|authorities|military|army|command|president|sources?|diplomats?|aides?"
    r"|advisers?|advisors?|envoys?|delegation|negotiators?|leaders?|mayor|governor|prosecutors?"
    r"|agency|service|department|council|committee|commission|party|presidency|administration"
    r"|cabinet|parliament|lawmakers?|senators?|general|commanders?|officers?|staff|kremlin)"
)
# The words of _SPEAKING_NOUNS ("officials?" -> official, officials).
_SPEAKING_NOUN_WORDS = frozenset(
    word
    for stem in _SPEAKING_NOUNS[3:-1]
    .replace("spokes(?:man|woman|person)", "spokesman|spokeswoman|spokesperson")
    .split("|")
    for word in ((stem[:-2], stem[:-1]) if stem.endswith("s?") else (stem,))
)
# The words that start ANONYMOUS_BEFORE_RE's first kind of match: "a senior diplomat said".
_UNNAMED_DETERMINERS = _words("a an A An one One another Another two Two some Some several Several")


def _unnamed_floor(lead: str, start: int, end: int) -> int:
    """Where a match of ANONYMOUS_BEFORE_RE in lead[start:end] may start, at the earliest: after
    the last of ; : . ! ? ~ and the quotation marks, which none holds, and after the last comma
    unless only ADV follow it (then it may close the match's ", ... ," part, and the comma
    before may open it: none before that)."""
    m = _last_stop_re(';:.!?"“”«»~').search(lead, start, end)
    if m:
        start = m.start() + 1
    last = lead.rfind(",", start, end)
    if last < 0:
        return start
    if not _UNNAMED_TAIL_RE.fullmatch(lead, last + 1, end):
        return last + 1
    before = lead.rfind(",", start, last)
    earlier = lead.rfind(",", start, before) if before >= 0 else -1
    return earlier + 1 if earlier >= 0 else start


def _may_be_unnamed(lead: str, start: int, end: int) -> bool:
    """Whether ANONYMOUS_BEFORE_RE may match in lead[start:end]: only a test that saves its
    search. A match ends with white space, and starts with "a", "one", "some" ... or with
    "the", "his", "its" ... at most four words before a speaking noun ("the ministry", "its
    press office"). Such a word ends a white-space-separated word after no letter or digit
    ("(a"); the noun starts one, before white space or a comma ("ministry,")."""
    if not lead[end - 1 : end].isspace():
        return False
    found = lead[start:end].split()
    ends = found if all(map(str.isalnum, found)) else [_word_end(w) for w in found]  # "(a": "a"
    if not _UNNAMED_DETERMINERS.isdisjoint(ends):
        return True
    if _DEFINITE_DETERMINERS.isdisjoint(ends):
        return False
    nouns = [w.split(",", 1)[0] for w in found] if lead.find(",", start, end) >= 0 else found
    if _SPEAKING_NOUN_WORDS.isdisjoint(nouns):
        return False
    # (The noun ends the match's words: at most two ADV, four words, follow it, or a comma.)
    for i, noun in enumerate(nouns):
        if (
            noun in _SPEAKING_NOUN_WORDS
            and (i >= len(found) - 5 or found[i] != noun)
            and not _DEFINITE_DETERMINERS.isdisjoint(ends[max(0, i - 4) : i])
        ):
            return True
    return False


def _word_end(word: str) -> str:
    """The word characters (letters, digits, "_") that end ``word``: "a" of "(a", "" of "a,"."""
    if word.isalnum():
        return word
    i = len(word)
    while i and (word[i - 1].isalnum() or word[i - 1] == "_"):
        i -= 1
    return word[i:]


_DEFINITE_DETERMINERS = _words("the The his His her Her their Their its Its")
# What follows the ", ... ," part of an ANONYMOUS_BEFORE_RE match.
_UNNAMED_TAIL_RE = lazy_compile(globals(), "_UNNAMED_TAIL_RE", rf"\s+(?:{ADV}\s+){{0,2}}")
ANONYMOUS_BEFORE_RE = lazy_compile(
    globals(),
    "ANONYMOUS_BEFORE_RE",
    rf"\b(?:(?:[Aa]n?|[Oo]ne|[Aa]nother|[Tt]wo|[Ss]ome|[Ss]everal)\s+[^,;:.!?\"“”«»~\n]{{1,60}}?"
    rf"|(?:[Tt]he|[Hh]is|[Hh]er|[Tt]heir|[Ii]ts)\s+(?:[a-z-]+\s+){{0,3}}{_SPEAKING_NOUNS})"
    rf"(?:,[^,;:.!?\"“”«»~\n]{{1,60}},)?\s+(?:{ADV}\s+){{0,2}}$",
)
_NOT_A_SUBJECT = (
    r"(?:and|or|but|nor|that|which|who|whom|as|while|when|where|because|if|though|although|to"
    r"|for|of|in|on|at|with|from|by|than|then|so|he|she|it|they|we|i|you|this|these|those)"
)
# After a closing mark, a lower-case subject: '"...," a senior diplomat said', '"...,"
# officials told Reuters', '"...," said one official'.
ANONYMOUS_AFTER_RE = lazy_compile(
    globals(),
    "ANONYMOUS_AFTER_RE",
    rf"[ \t]*(?:[,;]|[—–]|--)?[ \t]*(?:(?:[Aa]n?|[Oo]ne|[Aa]nother|[Tt]wo|[Ss]ome|[Ss]everal)\s+"
    rf"[^,.;:!?\"“”«»~\n]{{1,60}}?\s+(?:{ADV}\s+){{0,2}}{SPEECH_VERB}"
    rf"|(?P<desc>(?:the\s+|his\s+|her\s+|their\s+|its\s+)?(?!{_NOT_A_SUBJECT}\b)[a-z][\w-]*"
    rf"(?:\s+[a-z][\w-]*){{0,4}}?)"
    rf"\s+(?:{ADV}\s+){{0,2}}{SPEECH_VERB}"
    rf"|{SPEECH_VERB}\s+(?:a|an|one|another|two|some|several|the\s+[a-z]|[a-z]+s\b))",
)


def described(m: re.Match[str]) -> str:
    """The speaker phrase of an ANONYMOUS_AFTER_RE match: a definite description with a role
    noun ('"...," the veteran diplomat said') refers back to someone; anything else is
    ANONYMOUS."""
    desc = m.group("desc")
    if desc and desc.startswith("the ") and is_role_head(desc.split()[-1]):
        return desc
    return ANONYMOUS


# A definite description before a verb: "the veteran diplomat said that ...".
DESCRIBED_BEFORE_RE = lazy_compile(
    globals(),
    "DESCRIBED_BEFORE_RE",
    rf"\b(?P<s>[Tt]he\s+(?:[a-z0-9][\w'’-]*\s+){{1,3}}?{alternation(ROLE_HEADS)})"
    rf"\s+(?:{ADV}\s+){{0,3}}$",
)
# A speaker right before a verb found earlier in the sentence: "Zelensky said last week that...".
SUBJECT_BEFORE_RE = lazy_compile(
    globals(), "SUBJECT_BEFORE_RE", rf"(?P<s>{CHUNK}|{PRONOUN})(?:{APPOS})?\s+(?:{ADV}\s+){{0,3}}$"
)
# A speaker right after the verb, ending the lead-in: 'said Peskov: "..."'.
SUBJECT_AFTER_RE = lazy_compile(
    globals(), "SUBJECT_AFTER_RE", rf"\s+(?:by\s+)?(?P<s>{CHUNK}){_TAIL_APPOS}\s*[,:]?\s*$"
)
# The agent of a passive report: "This was stated by Adviser Mykhailo Podolyak."
PASSIVE_BY_RE = lazy_compile(
    globals(),
    "PASSIVE_BY_RE",
    rf"\b(?:was|were|has\s+been|had\s+been)\s+{SPEECH_VERB}\s+by\s+(?P<s>{CHUNK})",
)
# "according to Peskov", "in the words of Peskov", "according to her,", "in his words,".
ACCORDING_RE = lazy_compile(
    globals(),
    "ACCORDING_RE",
    rf"\b(?:[Aa]ccording\s+to|[Ii]n\s+the\s+words\s+of)\s+"
    rf"(?:(?P<s>{CHUNK})|(?P<p>him|her)(?=\s*[,.;:)]))"
    rf"|\b[Ii]n\s+(?P<q>his|her)\s+(?:own\s+)?words\b"
    rf"|\b(?:[Aa]ccording\s+to|[Ii]n\s+the\s+words\s+of)\s+"
    rf"(?P<a>(?:an?|one|another|some|two|several)\s)",
)
VERB_RE = lazy_compile(globals(), "VERB_RE", rf"\b{REPORTING_VERB}")
CHUNK_AT_END_RE = lazy_compile(globals(), "CHUNK_AT_END_RE", rf"{CHUNK}$")


def chunk_at_end(text: str, floor: int, end: int) -> re.Match[str] | None:
    """``CHUNK_AT_END_RE.search(text, floor, end)``: the speaker phrase ending at ``end``."""
    if text[end - 1 : end] == "\n":  # ("$" matches before a last line break too)
        return CHUNK_AT_END_RE.search(text, floor, end)
    # (Searched from where such a phrase may start, at the earliest: see _phrase_floor.)
    return CHUNK_AT_END_RE.search(text, _phrase_floor(text, floor, end, adv=False), end)


CHUNK_RE = lazy_compile(globals(), "CHUNK_RE", CHUNK)


@functools.lru_cache(maxsize=8192)
def split_role_name(phrase: str) -> tuple[str | None, str | None]:
    """ "Ukrainian Foreign Minister Dmytro Kuleba" -> (name, role): the name and the role in it.

    The name is the run of capitalised words after the last role word; the role is what comes
    before it. A phrase with no name ("the Kremlin spokesman") gives (None, role); a possessive
    before a role word ("Zelensky's spokesman") gives the possessor as the name: the person
    nearest the verb.
    """
    tokens = phrase.split()
    # Leading articles, connectives, weekdays and honorifics are not part of a name or a role
    # (but "He" before a capitalised word is a name: Vice Premier He Lifeng).
    while tokens and (tokens[0] in STOP_CAPS or tokens[0] == "the"):
        if tokens[0] in ("He", "She") and len(tokens) > 1 and is_capitalised(tokens[1]):
            break
        tokens = tokens[1:]
    if not tokens:
        return None, None
    # "The European Association of Steel Producers", "Permanent Mission of Ukraine to the UN": a
    # body word joined by "of" or "to" to the words after it makes the whole phrase the body's name.
    if tokens[0][:1].isupper() and not any(is_role_head(t) for t in tokens):
        for i, t in enumerate(tokens[:-1]):
            if bare_word(t) in INSTITUTION_WORDS and tokens[i + 1] in ("of", "to", "for"):
                return " ".join(tokens), None
    # The role's head is its last role noun; a possessive ("the President's Office") is not one.
    # ("General Staff" is a body: a role noun followed by a body word is not a head.)
    head = max(
        (
            i
            for i, t in enumerate(tokens)
            if is_role_head(t)
            and not (i + 1 < len(tokens) and bare_word(tokens[i + 1]) in INSTITUTION_WORDS)
        ),
        default=-1,
    )
    name = _trailing_name(tokens[head + 1 :])
    rest = tokens[head + 1 :]
    parts = name.split() if name else []
    joint = rest[len(rest) - len(parts) - 1] if head >= 0 and len(rest) > len(parts) else ""
    if parts and (joint in ("of", "for", "the", "to") or joint.endswith(("'s", "’s"))):
        # "President of Russia Vladimir Putin": the capitalised run starts with the object of
        # the role's of-phrase; the name is its last two words ("Ursula von der Leyen": the
        # particles stay). "Head of State" alone has no name; "chief of staff Andriy Yermak"
        # needs no cut.
        words = [i for i, t in enumerate(parts) if t not in _PARTICLES]
        if len(words) >= 3:
            parts = parts[words[-2] :]
        elif len(words) == 2 and parts[0] in NON_PERSONS:
            parts = parts[1:]
        else:
            parts = []
        name = " ".join(parts) or None
    if name is None or (head < 0 and name.casefold() in INSTITUTION_WORDS):
        # "Zelensky's spokesman", "Zelensky's office": the person nearest the verb.
        possessor = _possessor(tokens)
        if possessor:
            return possessor, " ".join(tokens)
        # "Russian defence ministry", "the Prime Minister's Office": the phrase is a body.
        # (With a role word it is a person's role: "the Head of the President's Office"; but
        # "the Office of the UN High Commissioner for Refugees" is a body: its first noun is.)
        body = any(bare_word(t) in INSTITUTION_WORDS for t in tokens)
        if head < 0 and body and tokens[0][:1].isupper():
            return " ".join(tokens), None
        if (
            len(tokens) > 2
            and tokens[0][:1].isupper()
            and bare_word(tokens[0]) in INSTITUTION_WORDS
            and tokens[1] in ("of", "for", "to")
        ):
            return " ".join(tokens), None
        return None, (" ".join(tokens) if head >= 0 else None)
    n = len(name.split())
    if head < 0 and n > 2:
        # "Contact Group Boris Gryzlov": a body's name, then a person's.
        parts = name.split()
        k = max((i for i, t in enumerate(parts) if bare_word(t) in INSTITUTION_WORDS), default=-1)
        if 0 <= k < len(parts) - 2:
            return " ".join(parts[k + 1 :]), " ".join(tokens[: len(tokens) - n + k + 1])
    body = head < 0 and bare_word(name.split()[-1]) in INSTITUTION_WORDS and len(tokens) > n
    if body and tokens[-n - 1].endswith(("'s", "’s")):
        return " ".join(tokens[-n - 1 :]), None  # "Russia's Defence Ministry"
    role = " ".join(tokens[: len(tokens) - n]) if head >= 0 else None
    return name, role or None


def trim_name(name: str) -> str:
    """A person's name of four words or more (particles aside) is cut to its last two: the words
    before them are a role's ("... and Euro-Atlantic Integration Olga Stefanishyna")."""
    tokens = name.split()
    words = [i for i, t in enumerate(tokens) if t not in _PARTICLES and t not in _CAP_PARTICLES]
    if len(words) < 4:
        return name
    return " ".join(tokens[words[-2] :])


def is_role_head(token: str) -> bool:
    # "Secretary-General", "Vice-President": a hyphenated role noun is a head too.
    low = token.casefold()
    return low in ROLE_HEADS or ("-" in low and any(p in ROLE_HEADS for p in low.split("-")))


def bare_word(token: str) -> str:
    """A word without a possessive "'s", case-folded."""
    return (token[:-2] if token.endswith(("'s", "’s")) else token).casefold()


def _trailing_name(tokens: list[str]) -> str | None:
    """The run of capitalised tokens (with name particles) that ends the phrase."""
    out: list[str] = []
    for token in reversed(tokens):
        if (is_capitalised(token) and not token.endswith(("'s", "’s"))) or (
            token in _PARTICLES and out
        ):
            out.append(token)
        else:
            break
    while len(out) > 1 and out[-1] in _HONORIFICS_AND_ARTICLES:
        out.pop()  # "Mr Peskov" -> "Peskov"
    return " ".join(reversed(out)) or None


# Honorifics are not part of a name: "Sir Lindsay Hoyle" is Lindsay Hoyle ("Ayatollah", "Pope",
# "Sheikh" and the like are role nouns: "Ayatollah Ahmad Khatami" -> role "Ayatollah").
_HONORIFICS_AND_ARTICLES = _words(
    "Mr Mr. Mrs Mrs. Ms Ms. Dr Dr. Sir Dame Lord Baroness Baron Prof Prof. Rev Rev. The A An"
)
_NAME_PREFIX_RE = re.compile(r"(?:al|el|ad|as|ash|at|ar|an|az)-\w|d['’]\w")


def is_capitalised(token: str) -> bool:
    # "Peskov", and Arabic or French names that start lower-case: "al-Hayya", "d'Estaing".
    return token[:1].isupper() or bool(_NAME_PREFIX_RE.match(token))


_PARTICLES = _words("von van der den de da bin ibn al el")
NAME_PARTICLES = tuple(sorted(_PARTICLES))
_CAP_PARTICLES = _words("Al El Bin Ibn bint Bint")  # "Mohammed bin Abdulrahman Al Thani"
# Titles followed by a given name, not a surname: "Sheikh Mohammed", "Prince William".
GIVEN_NAME_TITLES = _words("sheikh sheikha prince princess king queen emir sultan")


def _possessor(tokens: list[str]) -> str | None:
    # "Zelensky's spokesman" -> Zelensky; "the President's Office" has no person's name.
    for i in range(len(tokens) - 1, -1, -1):
        owner = tokens[i][:-2]
        if (
            tokens[i].endswith(("'s", "’s"))
            and not is_role_head(owner)
            and owner not in NON_PERSONS
        ):
            # ("President Mirziyoyev's visit": the owner is Mirziyoyev.)
            head = max((k for k in range(i) if is_role_head(tokens[k])), default=-1)
            name = _trailing_name([*tokens[head + 1 : i], owner])
            if name:
                return name
    return None


# Given names that do not end in -a but are women's, and -a names that are men's.
_FEMALE_NAMES = _words(
    """ursula karine christine mette agnes catherine janet susan hillary nancy theresa liz
    elizabeth margaret marine ingrid nikki kristi tulsi karin beate ruth michele jill linda
    caroline margrethe ine kaja"""
)
_MALE_A_NAMES = _words(
    """mykola nikola ilya nikita luca andrea joshua sasha musa isa mustafa hamza moussa misha
    kostya dima vova yura kolya foma kuzma"""
)


def gender_of(name: str | None) -> str | None:
    """ "f", "m" or None (unknown) from a name's given name, or a Slavic surname's ending."""
    if not name:
        return None
    tokens = _key(name).split()
    if len(tokens) == 1:
        if tokens[0].endswith(("ova", "eva", "ina", "ska", "skaya", "aya")):
            return "f"  # Zakharova, Zelenska
        return "m" if tokens[0].endswith(("ov", "ev", "in", "sky", "skyy", "skiy", "yi")) else None
    given = tokens[0]
    if given in _FEMALE_NAMES or (given.endswith("a") and given not in _MALE_A_NAMES):
        return "f"
    return "m"


@functools.lru_cache(maxsize=8192)
def is_institution(name: str) -> bool:
    """Whether a speaker name is a body or a place ("Russian Foreign Ministry", "Moscow")."""
    tokens = name.split()
    if len(tokens) == 1:
        return name in NON_PERSONS or name.isupper()
    # (bare_word drops a possessive only: "Forces" stays "forces", "Ministry's" is "ministry")
    return any(bare_word(t) in INSTITUTION_WORDS for t in tokens)


# -- attribution: who speaks in the words around a quote ----------------------------------

LEAD_LABEL_RE = lazy_compile(globals(), "LEAD_LABEL_RE", rf"\s*(?P<s>{CHUNK})\s*:\s*$")


def speech_verbs(text: str) -> list[re.Match[str]]:
    """The speech verbs of ``text`` ("said", "told", "was quoted as saying"), in order."""
    return _verbs(_SPEECH_VERB_RE, _SPEECH_HINTS, text)


def reporting_verbs(text: str) -> list[re.Match[str]]:
    """The reporting verbs of ``text``: the speech verbs and "called", "described" ..."""
    return _verbs(VERB_RE, _REPORTING_HINTS, text)


# (Speed: the verb patterns are tried at every position of the text, which cost as much as the
# rest of a single quote's attribution. Every verb they match is a whole lower-case word, or a
# phrase holding "quoted", "pointed" or "went", so it is one of the runs of a-z letters of the
# text, which bytes.translate and split find in C: a text with none of the verbs among its runs
# has no match, and the search may start at the first of them. The answers are the same.)
_LOWER_RUNS = bytes(c if 0x61 <= c <= 0x7A else 0x20 for c in range(256))  # a-z kept, else " "
_PHRASE_HINTS = frozenset((b"quoted", b"pointed", b"went"))
_SPEECH_HINTS = frozenset(w.encode() for w in SPEECH_VERB_WORDS) | _PHRASE_HINTS
_REPORTING_HINTS = _SPEECH_HINTS | frozenset(w.encode() for w in _CHARACTERISING_VERBS)


def _verbs(pattern: re.Pattern[str], hints: frozenset[bytes], text: str) -> list[re.Match[str]]:
    runs = text.encode("utf-8", "surrogatepass").translate(_LOWER_RUNS).split()
    found = hints.intersection(runs)
    if not found:
        return []
    if b"quoted" in found:
        return list(pattern.finditer(text))  # ("was quoted as saying" starts before its hint)
    # Each match starts where one of the words found starts: the pattern is tried there only,
    # in order, past the end of the match before (what finditer would find).
    at = []
    for hint in found:
        word = hint.decode()
        i = text.find(word)
        while i >= 0:
            at.append(i)
            i = text.find(word, i + 1)
    at.sort()
    out = []
    end = 0
    for i in at:
        if i >= end and (m := pattern.match(text, i)):
            out.append(m)
            end = m.end()
    return out


def lead_speaker(
    lead: str, *, fragment: bool, verbs: list[re.Match[str]] | None = None
) -> tuple[str, str | None, int] | None:
    """The speaker of the reporting verb nearest the quote in the words before it.

    Returns (phrase, appositive, offset of the phrase in ``lead``) or None; the phrase is
    ANONYMOUS for a speaker who is not named ("a source in the delegation said"). ``verbs``:
    ``speech_verbs(lead)`` when the caller has them already (not for a fragment).
    """
    if not lead or lead.isspace():
        return None
    # (The literal tests before the regexes are what a match needs: they only save time.)
    if ("ccording" in lead or "words" in lead) and (m := ACCORDING_RE.search(lead)):
        if m.group("s"):
            return m.group("s"), None, m.start("s")
        if m.group("a"):
            return ANONYMOUS, None, m.start("a")
        pronoun = m.group("p") or m.group("q")
        return ("she" if pronoun == "her" else "he"), None, m.start()
    if verbs is None or fragment:
        verbs = reporting_verbs(lead) if fragment else speech_verbs(lead)
    for k in range(len(verbs) - 1, -1, -1):
        found = _verb_subject(lead, verbs[k])
        if found is None:
            continue
        # A verb inside the that-clause of an earlier one reports the earlier speaker's words:
        # "Peskov told reporters that the president had answered "around 80" questions".
        # So does an unnamed speaker's verb inside a named one's report ("The White House said
        # the two leaders had agreed ...").
        for earlier in verbs[:k]:
            outer = _verb_subject(lead, earlier)
            # ("that" may be left out: "Fu Cong said Beijing supported ...".)
            if (
                outer
                and outer[0]
                and (
                    found[0] == ANONYMOUS
                    or _THAT_RE.search(lead, earlier.end(), found[2])
                    or (found[2] > earlier.end() and not lead[earlier.end() : found[2]].strip())
                )
            ):
                return outer
        return found
    if lead.rstrip().endswith(":") and (m := LEAD_LABEL_RE.fullmatch(lead)):
        return m.group("s"), None, m.start("s")
    return None


def _verb_subject(lead: str, verb: re.Match[str]) -> tuple[str, str | None, int] | None:
    """Who the verb's subject is: before it, in a "who" clause, unnamed, or after it."""
    end = verb.start()
    floor = max(0, end - 160)
    # "Volodymyr Zelensky, who wrote on X that ..." ("who" is a person's: "a trader in London,
    # who asked not to be named," is not London).
    # (Only a test that saves the search: "who" is a word among the last seven before the verb,
    # at most three ADV after it.)
    m = (
        REL_SUBJECT_RE.search(lead, floor, end)
        if lead.find("who", floor, end) >= 0 and "who" in lead[floor:end].split()[-7:]
        else None
    )
    if m and (_is_person_name(m.group("s")) or split_role_name(m.group("s"))[1]):
        return m.group("s"), None, m.start("s")
    # "Kremlin spokesman Dmitry Peskov said on Wednesday that ..."
    start, appositive = _subject_floor(lead, floor, end)
    if not lead[end - 1 : end].isspace():
        found = None  # (a subject is followed by white space: '"...(said' has none)
    else:
        found = _subject_before(lead, start, end, appositive)
    if found and names_someone(found[0]) and not _object_of_preposition(lead, found[0], found[2]):
        return found
    # "The club's head coach, Marco Rossi, said": a name set off by commas after a
    # description in lower case is the subject.
    m = (
        NAMED_APPOS_RE.search(lead, floor, end)
        if appositive and _named_between_commas(lead, floor, end)
        else None
    )
    if m and _is_person_name(m.group("s")):
        return m.group("s"), m.group("desc"), m.start("s")
    # "the outspoken minister said that ...": a description, resolved to someone named before.
    # (Only tests that save the search: "the" and a role noun among the last seven words.)
    near = max(0, end - 80)
    if (
        lead.find("he", near, end) >= 0
        and not ROLE_HEADS.isdisjoint(lead[near:end].split()[-7:])
        and (m := DESCRIBED_BEFORE_RE.search(lead, near, end))
    ):
        return m.group("s"), None, m.start("s")
    # "Russia's demands, a source in the delegation said, were ..."
    start = _unnamed_floor(lead, near, end)
    if _may_be_unnamed(lead, start, end) and (m := ANONYMOUS_BEFORE_RE.search(lead, start, end)):
        return ANONYMOUS, None, m.start()
    # 'said Peskov: "...'
    m = SUBJECT_AFTER_RE.match(lead, verb.end()) if _may_end_after_verb(lead) else None
    if m and names_someone(m.group("s")):
        return m.group("s"), m.group("tail"), m.start("s")
    return None


# (Speed: SUBJECT_BEFORE_RE is searched from the start of the clause before the verb, and the
# regex engine tries a match at every position of it. A match is a speaker phrase, maybe an
# appositive set off by commas, white space, at most three ADV (six words) and the verb. Every
# word of the phrase but its first (which may be matched from its middle) is a token, a
# connector or a particle: a capitalised word, a role word, "of", "the" ... So a plain
# lower-case word of none of those kinds ("sides", "our") before the phrase's end starts the
# phrase at the earliest, and a search from there finds the same match.)
_PHRASE_LOWER_WORDS = _ROLE_WORDS | _words(
    "the of for de da di do dos von van der den al el bin ibn le la du y to"
)
_ADV_WORDS = _words(
    """also later earlier previously again then has had have was is would will once further
    himself herself too separately often always never sometimes now long on last week likes
    like liked loves love loved used tends tend tended to"""
)


# The plainest subjects, as most are: capitalised words and role words, maybe after "the", or a
# pronoun; then single-word ADV ("Josep Borrell said", "the Kremlin spokesman also said",
# "Ukraine's delegation said", "he had said"). One space after each word. (Possessive: a range
# that is not one fails at once, not after trying every split of its words.)
_PLAIN_ADV = alternation(
    words(
        """also later earlier previously again then has had have was is would will once
        further himself herself too separately often always never sometimes now long"""
    )
)
_PLAIN_SUBJECT_RE = lazy_compile(
    globals(),
    "_PLAIN_SUBJECT_RE",
    rf"\s*+((?:[Tt]he )?+(?:(?:[A-Z][a-z]*|{_ROLE_LC})(?:'s)?+ ){{1,10}}+"
    rf"|(?<!\w)(?:[Hh]e|[Ss]he|[Ii]t|[Tt]hey) )(?:(?:[a-z]+ly|{_PLAIN_ADV}) ){{0,3}}+",
)


def _subject_before(
    lead: str, start: int, end: int, appositive: bool
) -> tuple[str, str | None, int] | None:
    """(phrase, appositive, offset) of SUBJECT_BEFORE_RE's match in lead[start:end], or None
    (``appositive`` as `_subject_floor` tells).

    A range that _PLAIN_SUBJECT_RE spans is such a match from its first word: the regex's
    speaker phrase (CHUNK, else PRONOUN) takes those words as its tokens, greedily, up to the
    ADV words, which no token is; the white space before them cannot start one. That is told
    without the big regex, whose single try costs more than the rest of a simple attribution.
    Else the regex searches from where a match may start."""
    m = _PLAIN_SUBJECT_RE.fullmatch(lead, start, end)
    if m:
        return m.group(1)[:-1], None, m.start(1)
    start = _subject_start(lead, start, end, appositive)
    if start >= end:
        return None
    m = SUBJECT_BEFORE_RE.search(lead, start, end)
    return (m.group("s"), m.group("appos"), m.start("s")) if m else None


def _subject_start(lead: str, start: int, end: int, appositive: bool) -> int:
    """Where a match of SUBJECT_BEFORE_RE in lead[start:end] may start, at the earliest
    (``appositive`` as `_subject_floor` tells: else the range holds no comma)."""
    if not appositive:
        return _phrase_floor(lead, start, end, adv=True)
    # An appositive ends at the last comma (only ADV follow it: `_subject_floor`), and the
    # phrase ends where the appositive starts: at the comma before, or at the one before that
    # for an appositive with a who-clause. Each only when the words between the commas fit.
    # Without an appositive, the match follows the last comma.
    last = lead.rfind(",", start, end)
    floor = _phrase_floor(lead, last + 1, end, adv=True)
    before = lead.rfind(",", start, last)
    if before < 0:
        return floor
    if _APPOS_BODY_RE.fullmatch(lead, before + 1, last):
        floor = min(floor, _phrase_floor(lead, start, before, adv=False))
    earlier = lead.rfind(",", start, before)
    if (
        earlier >= 0
        and _WHO_BODY_RE.fullmatch(lead, before + 1, last)
        and _APPOS_BODY_RE.fullmatch(lead, earlier + 1, before)
    ):
        floor = min(floor, _phrase_floor(lead, start, earlier, adv=False))
    return floor


# The parts of APPOS between its commas: ", <appositive>" and ", who <clause>".
_APPOS_BODY_RE = re.compile(rf"\s+{_APPOS_CHAR}{{2,90}}")
_WHO_BODY_RE = re.compile(rf"\s+(?:who|whose)\s{_APPOS_CHAR}{{2,120}}")


def _phrase_floor(lead: str, start: int, end: int, *, adv: bool) -> int:
    """Where a speaker phrase that ends in lead[start:end] (followed by ADV words up to
    ``end`` when ``adv``, else ending at ``end``) may start, at the earliest."""
    found = lead[start:end].split()
    n = i = len(found)
    # The words that may be ADV: "[a-z]+ly", "on Wednesday", "also" ...
    while adv and i > 0 and n - i < 6:
        word = found[i - 1]
        if word not in _ADV_WORDS and not word.endswith(("ly", "day")):
            break
        i -= 1
    # The phrase ends at found[i - 1] or later: with a word that can close it, else there is
    # none (``end``: an empty search).
    for word in found[max(i - 1, 0) :]:
        if may_close_phrase(word):
            break
    else:
        return end
    # It starts in the last word before that which it cannot hold whole (a plain lower-case
    # word that is no role word, connector or particle), or later.
    k = i - 1
    while k > 0:
        word = found[k]
        if word.isalpha() and word.isascii() and word.islower() and word not in _PHRASE_LOWER_WORDS:
            break
        k -= 1
    if k <= 0:
        return start
    if not (found[k].endswith("the") or may_close_phrase(found[k])):
        k += 1  # (nor does one start inside it: it ends with no "the", role word or pronoun)
    return start + len(lead[start:end].rsplit(None, n - k)[0])


# The role words (of _ROLE_LC) by their last two letters, for str.endswith.
_ROLE_LC_BY_END: dict[str, tuple[str, ...]] = {}
for _w in sorted(w for w in _ROLE_WORDS if "'" not in w):
    _ROLE_LC_BY_END[_w[-2:]] = (*_ROLE_LC_BY_END.get(_w[-2:], ()), _w)
del _w


def may_close_phrase(word: str) -> bool:
    """Whether a speaker phrase (CHUNK) or a pronoun may end with ``word``: it holds a capital,
    or it ends with a role word ("minister", "president's": the regex may match one from a
    word's middle) or with he, she, it or they. (Any word but a lower-case ASCII one may.)"""
    if not word.isascii() or not word.islower():
        return True
    if word.endswith("'s"):
        word = word[:-2]
    return word.endswith(("he", "it", "hey")) or word.endswith(_ROLE_LC_BY_END.get(word[-2:], ()))


_HONORIFIC_STOPS = tuple(
    sorted(
        f"{h}." for h in _words("Mr Mrs Ms Dr Gen Lt Col Sen Rep Gov Prof Sgt Capt Adm Maj St Rev")
    )
)


def _may_end_after_verb(lead: str) -> bool:
    """Whether SUBJECT_AFTER_RE may match in ``lead``, which it runs to the end of: only a test
    that saves the match. Its last character before white space is a comma or a colon, or ends a
    speaker phrase or a "the ..." appositive: never ; ! ? ( ) or a quotation mark, and a full
    stop only after an initial or an abbreviated honorific ("U.S.", "Mr.") before white space."""
    body = lead.rstrip()
    last = body[-1:]
    if not last or last in ';!?()"“”«»':
        return False
    if last == ".":
        return len(body) < len(lead) and (body[-2:-1].isupper() or body.endswith(_HONORIFIC_STOPS))
    return True


_THAT_RE = re.compile(r"\bthat\b")
# What may follow an appositive's closing comma before the verb: "Kuleba, the minister, also said".
_ADV_TAIL_RE = lazy_compile(globals(), "_ADV_TAIL_RE", rf"\s+(?:{ADV}\s+){{0,3}}")


def _stop_floor(text: str, floor: int, end: int, stops: str) -> int:
    """After the last of ``stops`` and the last full stop after a word that does not start with a
    capital ("talks. Peskov") in text[floor:end], else ``floor``: where a phrase that holds
    neither, ending at ``end``, may start."""
    m = _last_stop_re(stops).search(text, floor, end)
    start = m.start() + 1 if m else floor
    i = text.rfind(".", start, end)
    while i >= start:
        if i + 1 < end and text[i + 1].isspace():
            j = i
            while j > start and (text[j - 1].isalnum() or text[j - 1] in "'’-"):
                j -= 1
            if j == i or not text[j].isupper():
                return i + 1
        i = text.rfind(".", start, i)
    return start


@functools.lru_cache(maxsize=8)
def _last_stop_re(stops: str) -> re.Pattern[str]:
    """The last of ``stops`` in a search's range: one scan in C, not one str.rfind per stop."""
    chars = re.escape(stops)
    return re.compile(rf"[{chars}][^{chars}]*\Z")


def chunk_floor(text: str, floor: int, end: int) -> int:
    """Where a search for a speaker phrase (CHUNK) ending at ``end`` may start: a CHUNK holds
    only words, initials, ' ’ - . and spaces, so it starts after the last other character.
    (The match found from there is the one found from ``floor``; it is only found sooner.)"""
    return _stop_floor(text, floor, end, ',;:!?()"“”«»~\n')


def _subject_floor(lead: str, floor: int, end: int) -> tuple[int, bool]:
    """Where a search for the verb's subject ending at ``end`` may start, and whether an
    appositive may end right before the verb.

    A subject phrase (with its appositive and adverbs) never holds ; : ! ? ( ) or a line break,
    nor a full stop after a word that does not start with a capital ("talks. Peskov said"), nor
    a comma unless an appositive closes right before the verb. Starting the search after the
    last such character finds the same match, without trying every position of the sentence.
    """
    start = _stop_floor(lead, floor, end, ";:!?()\n")
    comma = lead.rfind(",", start, end)
    if comma < 0:
        return start, False
    if _ADV_TAIL_RE.fullmatch(lead, comma + 1, end):
        return start, True
    return comma + 1, False


NAMED_APPOS_RE = lazy_compile(
    globals(),
    "NAMED_APPOS_RE",
    rf"(?P<desc>\b(?:[Tt]he|[Aa]n?|[Aa]nother|[Hh]is|[Hh]er|[Ii]ts|[Tt]heir|[\w-]+['’]s)\s+"
    rf"[^,.;:!?\"“”«»~\n]{{0,50}}?\b[a-z][\w'’-]*),\s+(?P<s>{CHUNK}),\s+(?:{ADV}\s+){{0,3}}$",
)
_NAME_BETWEEN_COMMAS_RE = lazy_compile(globals(), "_NAME_BETWEEN_COMMAS_RE", rf"\s+{CHUNK}")


def _named_between_commas(lead: str, floor: int, end: int) -> bool:
    """Whether a speaker phrase stands between the last two commas of lead[floor:end], as in
    every match of NAMED_APPOS_RE there (only a test that saves its search)."""
    last = lead.rfind(",", floor, end)
    before = lead.rfind(",", floor, last) if last >= 0 else -1
    return before >= 0 and _NAME_BETWEEN_COMMAS_RE.fullmatch(lead, before + 1, last) is not None


_PREPOSITION_BEFORE_RE = re.compile(
    r"\b(?:in|of|from|at|with|near|inside|within|to|for|among|by)\s+$", re.I
)


def _object_of_preposition(lead: str, phrase: str, at: int) -> bool:
    """ "A source in the Russian Foreign Ministry told", "people in the West say": a body or a
    single word after a preposition is not the subject (a person's full name is: "At a briefing
    in Brussels NATO chief Mark Rutte said"). ``phrase``: the subject found at ``at``."""
    floor = max(0, at - 12)
    if not _may_end_with(lead, floor, at, _PREPOSITIONS) or not _PREPOSITION_BEFORE_RE.search(
        lead, floor, at
    ):
        return False
    name = split_role_name(phrase)[0]
    return not (name and " " in name and not is_institution(name))


_PREPOSITIONS = tuple(sorted(_words("in of from at with near inside within to for among by")))


def _may_end_with(text: str, floor: int, end: int, endings: tuple[str, ...]) -> bool:
    """Whether text[floor:end] may end with one of ``endings`` (in any case) and white space, as
    a regex like _PREPOSITION_BEFORE_RE needs: only a test that saves its search (a word
    outside ASCII is left to the regex, whose matching in any case knows more than lower())."""
    if not text[end - 1 : end].isspace() or end <= floor:
        return False
    found = text[floor:end].split()
    if not found:
        return False
    last = found[-1]
    return not last.isascii() or last.lower().endswith(endings)


def _is_person_name(phrase: str) -> bool:
    name, _ = split_role_name(phrase)
    return bool(name) and not is_institution(name)


# The speaker phrase of an attribution to someone not named: it is attributed, to nobody.
ANONYMOUS = ""


_SPEECH_VERB_RE = lazy_compile(globals(), "_SPEECH_VERB_RE", rf"\b{SPEECH_VERB}")


def names_someone(phrase: str) -> bool:
    """Whether a speaker phrase is a pronoun or holds a name or a role ("This" does not)."""
    return phrase.casefold() in PRONOUNS or split_role_name(phrase) != (None, None)


def speaker_start(m: re.Match[str]) -> int:
    """Where the speaker phrase of an AFTER_RE match starts."""
    return next(m.start(g) for g in ("s1", "s2", "s3") if m.group(g) is not None)


def speaker_group(m: re.Match[str]) -> tuple[str, str | None]:
    """(speaker phrase, appositive) of an AFTER_RE match."""
    return m.group("s1") or m.group("s2") or m.group("s3"), m.group("appos") or m.group("tail")


def appositive_role(appositive: str | None) -> str | None:
    # "Dmytro Kuleba, Ukraine's foreign minister, said": a role only when it has a role word.
    if not appositive or not any(bare_word(w) in ROLE_HEADS for w in appositive.split()):
        return None
    if _CLAUSE_APPOSITIVE_RE.match(appositive):
        return None
    return tidy_role(appositive)


_CLAUSE_APPOSITIVE_RE = re.compile(r"(?i)(?:who|which|whose|speaking|writing|asked)\b")
_ARTICLE_RE = re.compile(r"(?i)^(?:the|a|an)\s+")


def tidy_role(role: str | None) -> str | None:
    if not role:
        return None
    role = _ARTICLE_RE.sub("", role.strip(" ,"))
    return role or None


def is_question_label(label: str) -> bool:
    # "Question from the audience", "Journalist (retranslated)", "Q."
    first = label.split()[0].casefold().rstrip(".")
    return first in QUESTION_LABELS and (
        len(label.split()) == 1 or " from " in label or " of " in label
    )


# -- transcript labels ---------------------------------------------------------------------

# Turn labels of the people asking, not the public figure answering: not quotes.
QUESTION_LABELS = _words(
    """question questions q journalist journalists reporter reporters moderator host hosts
    interviewer presenter anchor audience participant participants voice voices remark
    remarks replica caller announcer narrator unidentified speaker correspondent"""
)
# Words that make "Word Word:" a heading or a label, not a speaker.
LABEL_STOP = _words(
    """Related Original Read More Note Notes Photo Photos Source Sources Update Updated Watch
    Video Tags Tag See Also Editor Editor's Correction Disclaimer Summary Background
    Analysis Opinion Transcript Full Text Breaking Latest Timeline Contents Figure Chart Map
    Image Caption Credit Credits Location Date Time Subject Topic Topics Keywords Category
    Share Comments Advertisement Key Quote Headline Lead Title Part Chapter Section Step Day
    Week Exclusive Live Posted Published Article Articles News Story Stories Agenda Question
    Answer Listen Follow Subscribe Warning Alert Today Tonight What Why How When Where Who
    Here Statement Reuters AFP AP TASS Interfax URL Link Links Email Tel Fax Note"""
)
NOT_BEFORE_LABEL = _words(
    """from to for with by of at on in about and or but than as like between among thanked
    urged called met meets meeting with visited phoned invited congratulated"""
) - {"meeting"}
