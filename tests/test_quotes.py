"""Quote extraction: a table of (text, expected quotes) with the no-quote cases in the same table,
then the article readers, the alias table and single-quote attribution.

Every sentence here is written for these tests (no article text is copied).
"""

from __future__ import annotations

import json
import re

import pytest

from stance import speakers as sp
from stance.quotes import (
    Article,
    ArticleError,
    Quote,
    SpeakerAliases,
    _Extractor,
    _is_question,
    article_from_html,
    extract_quotes,
    find_attribution,
    parse_article,
    read_article,
)
from stance.speakers import AliasFileError

# (text, [(quote, speaker, role or ...)]): ... means "any role".
CASES: list[tuple[str, list[tuple[str, str | None, object]]]] = [
    # 1. plain, speaker after the quote, with and without a role
    (
        '"We will not give up," Zelensky said.',
        [("We will not give up,", "Volodymyr Zelensky", None)],
    ),
    (
        '"The door stays open," said Dmitri Peskov.',
        [("The door stays open,", "Dmitry Peskov", None)],
    ),
    (
        "“Nothing has changed,” Kremlin spokesman Dmitry Peskov told reporters on Tuesday.",
        [("Nothing has changed,", "Dmitry Peskov", "Kremlin spokesman")],
    ),
    (
        '"We are listening," Dmytro Kuleba, Ukraine\'s foreign minister, said.',
        [("We are listening,", "Dmytro Kuleba", "Ukraine's foreign minister")],
    ),
    (
        '"Every proposal will be studied," said Sergei Lavrov, the Russian foreign minister.',
        [("Every proposal will be studied,", "Sergei Lavrov", "Russian foreign minister")],
    ),
    (
        '"A pause now only helps the aggressor," according to Andriy Yermak.',
        [("A pause now only helps the aggressor,", "Andriy Yermak", None)],
    ),
    # 2. split around its attribution: one quote, parts joined with one space
    (
        '"We are ready," Peskov said, "but not on those terms."',
        [("We are ready, but not on those terms.", "Dmitry Peskov", None)],
    ),
    (
        "“The offer is there,” the minister, Ana Lind, said, “and it will stay there.”",
        [("The offer is there, and it will stay there.", "Ana Lind", "minister")],
    ),
    # 3. multi-paragraph: the opening mark repeats, the closing mark only at the end
    (
        'Lavrov spoke for an hour.\n\n"The first point is simple. We want guarantees.\n\n'
        '"The second point is harder," he said.',
        [
            (
                "The first point is simple. We want guarantees. The second point is harder,",
                "Sergei Lavrov",
                None,
            )
        ],
    ),
    # 4. colon introduction
    (
        'Lavrov told reporters: "The talks in Geneva were useful."',
        [("The talks in Geneva were useful.", "Sergei Lavrov", None)],
    ),
    (
        "German Chancellor Olaf Scholz said: „Wir bleiben an der Seite der Ukraine.“",
        [("Wir bleiben an der Seite der Ukraine.", "Olaf Scholz", "German Chancellor")],
    ),
    # (« » marks; the verbs are English only, so the speaker stays unknown but the quote is kept)
    (
        "Le ministre Marc Dubois a déclaré : « Nous soutenons les négociations. »",
        [("Nous soutenons les négociations.", None, None)],
    ),
    # 5. transcript turns; questions are not quotes
    (
        "Question: Are talks possible this year?\n\nVladimir Putin: We have never refused talks.",
        [("We have never refused talks.", "Vladimir Putin", None)],
    ),
    (
        "Moderator: Thank you.\n\nDmitry Peskov: Contacts continue at the expert level.\n\n"
        "Journalist: And at the top level?\n\nPeskov: Not yet.",
        [
            ("Contacts continue at the expert level.", "Dmitry Peskov", None),
            ("Not yet.", "Dmitry Peskov", None),
        ],
    ),
    (
        "President of Russia Vladimir Putin: Good afternoon, colleagues. Let us begin.",
        [("Good afternoon, colleagues. Let us begin.", "Vladimir Putin", "President of Russia")],
    ),
    # 6. fragment inside reported speech
    (
        'Zelensky said Ukraine was "not ready" for talks.',
        [("not ready", "Volodymyr Zelensky", None)],
    ),
    (
        "Peskov said dialogue was 'badly needed'.",
        [("badly needed", "Dmitry Peskov", None)],
    ),
    (
        'Talks are "a trap for the naive," Kuleba wrote.',
        [("a trap for the naive,", "Dmytro Kuleba", None)],
    ),
    # 7. a social-media post
    (
        'Kuleba wrote on X: "Any pause will be used to regroup."',
        [("Any pause will be used to regroup.", "Dmytro Kuleba", None)],
    ),
    # institutions: "the" dropped
    (
        '"Moscow remains open to a political settlement," the Kremlin said.',
        [("Moscow remains open to a political settlement,", "Kremlin", None)],
    ),
    (
        'The Russian Foreign Ministry said in a statement: "Sanctions will not change our course."',
        [("Sanctions will not change our course.", "Russian Foreign Ministry", None)],
    ),
    # pronouns resolve to the latest named speaker or subject
    (
        'Ursula von der Leyen visited Kyiv on Monday. "Europe will stand with you," she said.',
        [("Europe will stand with you,", "Ursula von der Leyen", None)],
    ),
    # British single quotes as the primary marks; apostrophes are not marks
    (
        "‘We don’t negotiate under fire,’ the minister Ana Lind said. "
        "Ukraine’s allies’ plans were not discussed.",
        [("We don’t negotiate under fire,", "Ana Lind", ...)],
    ),
    (
        "'The allies' plan is dead,' said Ana Lind.",
        [("The allies' plan is dead,", "Ana Lind", None)],
    ),
    # a name in apposition to a role, and a relative clause's subject
    (
        'The Finnish president, Aino Virtanen, told reporters: "Our border stays closed."',
        [("Our border stays closed.", "Aino Virtanen", ...)],
    ),
    (
        'Lavrov said he had spoken to Ana Lind, who wrote later that the call was "useful".',
        [("useful", "Ana Lind", None)],
    ),
    # the reporting verb of the sentence, not a verb inside what is reported
    (
        'Peskov told reporters that the president had answered "about 60" questions.',
        [("about 60", "Dmitry Peskov", None)],
    ),
    # "he" skips a woman named in between (and "she" a man)
    (
        "Maria Zakharova spoke on Friday. Yuri Ushakov has not commented. "
        '"The door is closed," she said.',
        [("The door is closed,", "Maria Zakharova", None)],
    ),
    # an unnamed speaker: the quote is kept, with no name and without borrowing one
    (
        '"We expected more," Lavrov said.\n\n"Nobody trusts anybody," a senior diplomat said.',
        [("We expected more,", "Sergei Lavrov", None), ("Nobody trusts anybody,", None, None)],
    ),
    (
        'The demands, a source in the delegation said, were "out of touch with reality".',
        [("out of touch with reality", None, None)],
    ),
    # a quote with no attribution right after another one continues the same speaker
    (
        '"There were hard moments," Ana Lind said. "But we did not give in."',
        [
            ("There were hard moments,", "Ana Lind", None),
            ("But we did not give in.", "Ana Lind", None),
        ],
    ),
    # a role alone refers back to the person named with it
    (
        'Foreign Minister Ana Lind arrived in Kyiv. "We are here to listen," the minister said.',
        [("We are here to listen,", "Ana Lind", "Foreign Minister")],
    ),
    # a body's own phrase, and a possessive that names the person nearest the verb
    (
        '"Details remain to be settled," the Prime Minister\'s Office said.',
        [("Details remain to be settled,", "Prime Minister's Office", None)],
    ),
    (
        '"No decision has been taken," Zelensky\'s spokesman said.',
        [("No decision has been taken,", "Volodymyr Zelensky", "Zelensky's spokesman")],
    ),
    # name particles and prefixes
    (
        '"Europe must do more," said von der Leyen.',
        [("Europe must do more,", "Ursula von der Leyen", None)],
    ),
    (
        '"The truce will hold," said Khalid al-Amin, the group\'s negotiator.',
        [("The truce will hold,", "Khalid al-Amin", "group's negotiator")],
    ),
    # "called" with an object and no determiner before the quote reports words; with one, names
    (
        'Kuleba called the proposal "absurd" and said it would be rejected.',
        [("absurd", "Dmytro Kuleba", None)],
    ),
    ('Moscow calls its invasion a "special military operation".', []),
    # a term after "the" is dropped, lower-case words someone is said to have used are kept
    (
        'Putin said the goal was the "demilitarisation and denazification" of the country.',
        [("demilitarisation and denazification", "Vladimir Putin", None)],
    ),
    # an interview's answers belong to the person interviewed
    (
        "Ana Lind spoke to us in Vilnius.\n\nQ: Will there be talks?\n\nA: Not this year.",
        [("Not this year.", "Ana Lind", None)],
    ),
    # a flattened transcript: turns run on from a heading and after "<…>"
    (
        "Opening remarks at the meeting on economic issues President of Russia Vladimir Putin: "
        "Good afternoon. <…> Dmitry Peskov: We will take two more questions.",
        [
            ("Good afternoon.", "Vladimir Putin", "President of Russia"),
            ("We will take two more questions.", "Dmitry Peskov", None),
        ],
    ),
    # unknown speaker: kept with None, never dropped
    (
        'The message read: "Stay in your homes and wait for further instructions."',
        [("Stay in your homes and wait for further instructions.", None, None)],
    ),
    # descriptions resolve to the person named before ("the diplomat", "the chancellor")
    (
        "Deputy Foreign Minister Mikhail Galuzin met the ambassador on Friday.\n\n"
        '"We expect answers, not excuses," the veteran diplomat said.',
        [("We expect answers, not excuses,", "Mikhail Galuzin", ...)],
    ),
    (
        'Mikhail Galuzin chaired the session. "The agenda is set," the senior diplomat noted.',
        [("The agenda is set,", "Mikhail Galuzin", ...)],
    ),
    (
        "Friedrich Merz flew to Vilnius on Tuesday. Addressing the troops, the chancellor said "
        'Germany would "stand guard on the eastern flank".',
        [("stand guard on the eastern flank", "Friedrich Merz", ...)],
    ),
    (
        "The 61-year-old Dane, who has run the agency since 2019, said the audit had found "
        '"no sign of fraud".',
        [("no sign of fraud", None, ...)],
    ),
    (
        'Lars Holm defended the budget. "We spent what we promised," Holm said. The 61-year-old '
        'Dane, who has run the agency since 2019, said the audit had found "no sign of fraud".',
        [
            ("We spent what we promised,", "Lars Holm", None),
            ("no sign of fraud", "Lars Holm", ...),
        ],
    ),
    # a role with its nationality: not the president of another country
    (
        "Gitanas Nausėda hosted the summit in Vilnius, a day after meeting Polish President "
        'Andrzej Duda. "Our borders are NATO\'s borders," the Lithuanian president said.',
        [("Our borders are NATO's borders,", "Gitanas Nausėda", ...)],
    ),
    # "according to him", "in her words", "in the words of X"
    (
        "Finnish President Alexander Stubb spoke after the vote. According to him, the alliance "
        'was "stronger than ever".',
        [("stronger than ever", "Alexander Stubb", ...)],
    ),
    (
        'Mette Frederiksen addressed parliament. In her words, Denmark would "not bargain with '
        'aggressors".',
        [("not bargain with aggressors", "Mette Frederiksen", None)],
    ),
    (
        'The plan was, in the words of Josep Borrell, "a step in the dark".',
        [("a step in the dark", "Josep Borrell", None)],
    ),
    (
        'The mood, in the words of one delegate, was "tense but polite".',
        [("tense but polite", None, None)],
    ),
    # a name set off by commas after a description in lower case
    (
        'A second analyst, Olga Marchenko, wrote that the offensive had "stalled for good".',
        [("stalled for good", "Olga Marchenko", "analyst")],
    ),
    (
        'The club\'s head coach, Marco Rossi, said the team had "earned the right to play".',
        [("earned the right to play", "Marco Rossi", "club's head coach")],
    ),
    # a lower-case title before a name after the quote
    (
        "„Wir liefern weiter“, deputy spokeswoman Christiane Hoffmann said.",
        [("Wir liefern weiter", "Christiane Hoffmann", ...)],
    ),
    (
        '"The budget is a fantasy," shadow health secretary Nora Blake said.',
        [("The budget is a fantasy,", "Nora Blake", ...)],
    ),
    # an appositive and a relative clause; a decimal number inside an appositive
    (
        "Kemi Badenoch, the opposition leader, who toured the shipyard on Monday, told reporters "
        'that the budget was "a fantasy".',
        [("a fantasy", "Kemi Badenoch", "opposition leader")],
    ),
    (
        'DeepState, a monitoring group with 1.2 million followers, posted: "The village is lost."',
        [("The village is lost.", "DeepState", None)],
    ),
    # words between the speaker and the verb, a quoted title among them
    (
        'Ursula von der Leyen often says that Europe must "learn the language of power".',
        [("learn the language of power", "Ursula von der Leyen", None)],
    ),
    (
        'Jens Stoltenberg, the former NATO chief, likes to say that weapons are "the way to '
        'peace".',
        [("the way to peace", "Jens Stoltenberg", ...)],
    ),
    (
        'The writer Serhiy Zhadan, whose novel "The Orphanage" sold widely, once wrote that '
        '"war makes everyone a witness".',
        [("war makes everyone a witness", "Serhiy Zhadan", "writer")],
    ),
    # a colon after a verb that is not a speech verb, the quote in the next paragraph
    (
        'The shadow chancellor, Mel Stride, went further:\n\n"This budget will not survive the '
        'spring."',
        [("This budget will not survive the spring.", "Mel Stride", ...)],
    ),
    # "she": the latest subject of her gender, newer than the last speaker
    (
        '"Talks are possible," Oleh Marchuk said. The opposition leader Yulia Tymoshenko took a '
        'harder line. "There can be no talks while the shelling continues," she said.',
        [
            ("Talks are possible,", "Oleh Marchuk", None),
            ("There can be no talks while the shelling continues,", "Yulia Tymoshenko", ...),
        ],
    ),
    # a name does not run on from a timestamp line or a heading
    (
        "14.10 BST\n\nLammy says talks must include Kyiv\n\nForeign Secretary David Lammy spoke "
        'in London.\n\n"Nothing about Ukraine without Ukraine," Lammy said.',
        [("Nothing about Ukraine without Ukraine,", "David Lammy", ...)],
    ),
    # honorifics are not part of the name
    (
        '"Our support is not negotiable," Sir Lindsay Hoyle said.',
        [("Our support is not negotiable,", "Lindsay Hoyle", None)],
    ),
    (
        '"Dialogue is the only path," said Ayatollah Ahmad Khatami.',
        [("Dialogue is the only path,", "Ahmad Khatami", "Ayatollah")],
    ),
    (
        "Qatar's minister of state, Sheikh Khalid bin Ahmed Al Thani, met both delegations. "
        '"Both sides were constructive," Sheikh Khalid said.',
        [("Both sides were constructive,", "Khalid bin Ahmed Al Thani", ...)],
    ),
    # a name with a particle at a sentence's start
    (
        "Egyptian President Abdel Fattah el-Sisi hosted the talks. El-Sisi said the parties "
        'were "closer than before".',
        [("closer than before", "Abdel Fattah el-Sisi", ...)],
    ),
    # institutions with "of" and "to the" in their names; "a source in" a body is not the body
    (
        'The European Association of Steel Producers said the tariffs were "a blunt instrument".',
        [("a blunt instrument", "European Association of Steel Producers", None)],
    ),
    (
        'The Permanent Mission of Ukraine to the UN said in a statement: "The vote speaks for '
        'itself."',
        [("The vote speaks for itself.", "Permanent Mission of Ukraine to the UN", None)],
    ),
    (
        'A source in the Defence Ministry told the agency that the drills were "routine".',
        [("routine", None, None)],
    ),
    # a quoted clause after "the campaign" is words, not a name; a paper's title is not a quote
    (
        'Senator Marc Leroy said he backed the campaign "as soon as the budget allows it".',
        [("as soon as the budget allows it", "Marc Leroy", ...)],
    ),
    (
        "In a column for the Paris weekly « Le Point », Senator Marc Leroy said the plan was "
        "sound.",
        [],
    ),
    # an indefinite description after a named speaker is someone else, unnamed
    (
        '"We expected more," Ana Lind said.\n\n"Nobody trusts anybody," a senior European '
        "diplomat said.",
        [("We expected more,", "Ana Lind", None), ("Nobody trusts anybody,", None, None)],
    ),
    # a quoted phrase followed by "approach", "policy" ... names a policy
    ('Several capitals backed Washington\'s "strength first" approach in public.', []),
    # NOT quotes: scare quotes, names, titles, terms, questions, apostrophes
    ('Officials discussed the so-called "peace plan" on Friday.', []),
    ('Both sides cited the "Istanbul agreements" as a starting point.', []),
    ('Moscow calls the invasion a "special military operation".', []),
    ('The film "Winter on Fire" was shown in Brussels.', []),
    ('He read the newspaper "Kommersant" every morning.', []),
    ('The drone, dubbed "Lyutyi", has a long range.', []),
    ('The report mentioned a "grey zone" near the river.', []),
    ("Ukraine's allies haven't changed their stance since the '90s.", []),
    ('A group known as "Freedom of Russia Legion" claimed the raid.', []),
    ("Question: Will you meet him?\n\nJournalist: Please answer.", []),
    ("Related article: Ukraine and Russia swap prisoners", []),
    ('The 12" guns fired for an hour.', []),
    ('The interview ran on the "Rain" TV channel.', []),
    ('The report mentioned a "grey zone" near the river.', []),
    ('In Kyiv, the proposed "humanitarian" pause was seen as a trick.', []),
]


def _ids() -> list[str]:
    return [text[:40] for text, _ in CASES]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=_ids())
def test_extract_quotes_table(text: str, expected: list[tuple[str, str | None, object]]) -> None:
    quotes = extract_quotes(text)
    got = [(q.quote, q.speaker, q.speaker_role) for q in quotes]
    assert len(got) == len(expected), got
    for (quote, speaker, role), (want_quote, want_speaker, want_role) in zip(
        got, expected, strict=True
    ):
        assert quote == want_quote
        if want_speaker is not ...:
            assert speaker == want_speaker, got
        if want_role is not ...:
            assert role == want_role, got


def test_offsets_span_the_quote_and_its_split_parts() -> None:
    text = 'Intro. "We are ready," Peskov said, "but not on those terms." Outro.'
    (quote,) = extract_quotes(text)
    assert text[quote.start : quote.end] == 'We are ready," Peskov said, "but not on those terms.'
    assert not quote.is_fragment
    assert quote.text_for_model == quote.quote


def test_fragment_is_classified_by_its_sentence() -> None:
    text = 'Talks went nowhere. Zelensky said Ukraine was "not ready" for talks. More later.'
    (quote,) = extract_quotes(text)
    assert quote.is_fragment
    assert quote.context == 'Zelensky said Ukraine was "not ready" for talks.'
    assert quote.text_for_model == quote.context
    assert text[quote.start : quote.end] == "not ready"


# An article in the seed's layout, written for this test: the patterns of the example article
# (title before the name, "he added", fragments in reported speech, "said last week that").
SEED_LAYOUT = "\n\n".join(
    [
        "",
        "# Calls for a Truce Draw a Sharp Reply",
        "By [Wire Service](#)",
        "March 03, 2024",
        "",
        "Foreign ministers met in Vienna on Tuesday as pressure grew for a ceasefire.",
        '"Anyone who asks us to stop now is asking us to surrender territory," Ukrainian '
        "Foreign Minister Dmytro Kuleba said at a press conference.",
        '"A frozen conflict is just a break before the next war," he added.',
        "Ukrainian President Volodymyr Zelensky met the ministers later in the day.",
        'Zelenskyy said last week that Ukraine was "not ready" to sign anything while troops '
        "remained on its land.",
        'Kremlin spokesman Dmitri Peskov said on Monday that talks were "overdue" and that '
        'Moscow was "prepared to listen to any serious offer."',
        'He also said the West was "pushing Kyiv to fight to the last Ukrainian."',
        "Original url:",
        "<https://example.org/2024/03/03/calls-for-a-truce>",
    ]
)


def test_seed_layout_article_end_to_end() -> None:
    article = parse_article(SEED_LAYOUT, source="seed.txt")
    assert article.title == "Calls for a Truce Draw a Sharp Reply"
    assert article.date == "2024-03-03"
    assert article.url == "https://example.org/2024/03/03/calls-for-a-truce"
    assert article.text.startswith("Foreign ministers met")
    assert "Original url" not in article.text
    got = [
        (q.quote, q.speaker, q.speaker_role, q.is_fragment) for q in extract_quotes(article.text)
    ]
    kuleba, role = "Dmytro Kuleba", "Ukrainian Foreign Minister"
    assert got == [
        (
            "Anyone who asks us to stop now is asking us to surrender territory,",
            kuleba,
            role,
            False,
        ),
        ("A frozen conflict is just a break before the next war,", kuleba, role, False),
        ("not ready", "Volodymyr Zelensky", "Ukrainian President", True),
        ("overdue", "Dmitry Peskov", "Kremlin spokesman", True),
        ("prepared to listen to any serious offer.", "Dmitry Peskov", "Kremlin spokesman", True),
        (
            "pushing Kyiv to fight to the last Ukrainian.",
            "Dmitry Peskov",
            "Kremlin spokesman",
            True,
        ),
    ]


def test_parse_article_plain_text() -> None:
    article = parse_article('Peskov rules out a truce\n\n"No," Peskov said.\n')
    assert article.title == "Peskov rules out a truce"
    assert article.text == '"No," Peskov said.'
    plain = parse_article('"We are ready," Peskov said. Talks may resume.')
    assert plain.title is None and plain.text.startswith('"We are ready,"')


def test_article_from_html_keeps_paragraphs_and_metadata() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i} describes the day's meetings in the capital in some detail.</p>"
        for i in range(4)
    )
    html = (
        "<html><head><title>Envoys meet in Geneva</title>"
        '<meta property="article:published_time" content="2024-02-01T08:00:00Z"></head>'
        "<body><article><h1>Envoys meet in Geneva</h1>"
        f'{paragraphs}<p>"We made progress," said Sergey Lavrov.</p></article>'
        "<script>var x = 1;</script></body></html>"
    )
    article = article_from_html(html, url="https://example.org/geneva")
    assert article.title == "Envoys meet in Geneva"
    assert article.date == "2024-02-01"
    assert article.url == "https://example.org/geneva"
    assert "var x" not in article.text and "\n\n" in article.text
    (quote,) = extract_quotes(article.text)
    assert (quote.quote, quote.speaker) == ("We made progress,", "Sergei Lavrov")


def test_read_article_by_suffix(tmp_path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        '<html><body><p>"We are ready," Peskov said.</p></body></html>', encoding="utf-8"
    )
    assert extract_quotes(read_article(page).text)[0].speaker == "Dmitry Peskov"
    note = tmp_path / "note.txt"
    note.write_bytes('\ufeff"Ready," Peskov said.'.encode())  # a BOM is tolerated
    article = read_article(note)
    assert isinstance(article, Article) and article.source == str(note)
    assert article.text == '"Ready," Peskov said.'


def test_read_article_errors_name_the_file(tmp_path) -> None:
    bad = tmp_path / "latin1.txt"
    bad.write_bytes('"Caf\xe9 talks," he said.'.encode("latin-1"))
    with pytest.raises(ArticleError, match=r"latin1\.txt.*not UTF-8"):
        read_article(bad)
    with pytest.raises(ArticleError, match=r"missing\.txt"):
        read_article(tmp_path / "missing.txt")


def test_speaker_aliases_default_and_user_file(tmp_path) -> None:
    aliases = SpeakerAliases.default()
    assert aliases.canonical("Zelenskyy") == "Volodymyr Zelensky"
    assert aliases.canonical("Volodymyr Zelenskiy") == "Volodymyr Zelensky"
    assert aliases.canonical("Dmitri Peskov") == "Dmitry Peskov"
    assert aliases.canonical("Sergey Lavrov") == "Sergei Lavrov"
    assert aliases.canonical("Erdoğan") == "Recep Tayyip Erdogan"
    assert aliases.canonical("Mr Peskov") == "Dmitry Peskov"
    assert aliases.canonical("Ana Lind") == "Ana Lind"  # unknown names pass through
    assert 30 <= len(aliases) <= 100

    as_json = tmp_path / "aliases.json"
    as_json.write_text(json.dumps({"Lindh": "Ana Lind", "Ana Lind": ["A. Lind"]}), encoding="utf-8")
    user = SpeakerAliases.from_file(as_json)
    assert user.canonical("Lindh") == "Ana Lind" and user.canonical("A. Lind") == "Ana Lind"
    assert user.canonical("Zelenskiy") == "Volodymyr Zelensky"  # the default is kept

    as_csv = tmp_path / "aliases.csv"
    as_csv.write_text("alias,canonical\nBen O.,Ben Okafor\n", encoding="utf-8")
    assert SpeakerAliases.from_file(as_csv).canonical("ben o.") == "Ben Okafor"
    text = '"We are ready," Ben O. said.'
    assert extract_quotes(text, aliases=SpeakerAliases.from_file(as_csv))[0].speaker == "Ben Okafor"

    broken = tmp_path / "broken.csv"
    broken.write_text("only-one-column\n", encoding="utf-8")
    with pytest.raises(AliasFileError, match=r"broken\.csv: line 1"):
        SpeakerAliases.from_file(broken)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('"We are ready to talk," Peskov said.', "Dmitry Peskov"),
        ("Lavrov: we are open", "Sergei Lavrov"),
        ("“There is nothing to discuss,” said Zelenskiy.", "Volodymyr Zelensky"),
        ("Peskov said talks were possible in principle.", "Dmitry Peskov"),
        ("Talks are possible in principle, Peskov said.", "Dmitry Peskov"),
        ("We are ready to talk.", None),
        ('"We are ready to talk."', None),
        ("", None),
    ],
)
def test_find_attribution(text: str, speaker: str | None) -> None:
    assert find_attribution(text) == speaker


# find_attribution takes shortcuts (an early exit when nothing in the text can name a speaker,
# the extractor's state built only when needed, the first quote with a speaker ends the search).
# Its answers are those of the full extraction: this table holds the answers it gave before the
# shortcuts, over every shape they single out (no cue, apostrophes, dashes and colons, each kind
# of quotation mark, verbs before, after and inside words), and each row is also checked against
# the full path itself.
ATTRIBUTIONS: list[tuple[str, str | None]] = [
    ("We are ready to talk.", None),
    ("Talks remain possible in principle this year, but not on those terms.", None),
    ("Ukraine's allies haven't changed course since the summit.", None),
    ("The allies' plan was discussed at length in Brussels.", None),
    ("Actions speak louder than words in this war.", None),
    ("The essays were discussed at the conference.", None),
    ("Lavrov - we are open to talks on security guarantees", "Sergei Lavrov"),
    ("Peskov: no comment on the report", "Dmitry Peskov"),
    ("Question: will the talks resume this year?", None),
    ("Zelensky — we will not give up a single village", "Volodymyr Zelensky"),
    ('"We are ready to talk, but not under fire," Peskov said.', "Dmitry Peskov"),
    ("“There is nothing to discuss,” said Zelenskiy.", "Volodymyr Zelensky"),
    ("« Nous sommes prêts », a déclaré Emmanuel Macron.", None),
    ("„Wir bleiben dabei“, sagte Olaf Scholz.", None),
    ("'We will not negotiate under fire,' said Kuleba.", "Dmytro Kuleba"),
    ("‘The door is open,’ the Kremlin said.", "Kremlin"),
    ('"We are ready," Peskov said, "but not on those terms."', "Dmitry Peskov"),
    ('Lavrov told reporters: "The talks in Geneva were useful."', "Sergei Lavrov"),
    ("Peskov said talks were possible in principle.", "Dmitry Peskov"),
    ("Talks are possible in principle, Peskov said.", "Dmitry Peskov"),
    (
        "Talks are possible in principle, but Moscow will not accept conditions set by Kyiv, "
        "Peskov said on Tuesday.",
        "Dmitry Peskov",
    ),
    ("According to Peskov, talks are possible.", "Dmitry Peskov"),
    ("Talks are possible, according to the Kremlin.", "Kremlin"),
    ("He said talks were possible.", None),
    ("In his words, the treaty is dead.", None),
    ("Kremlin spokesman Dmitry Peskov said talks were possible.", "Dmitry Peskov"),
    ("Dmytro Kuleba, Ukraine's foreign minister, said the offer was empty.", "Dmytro Kuleba"),
    ("Peskov said Lavrov had told Blinken that the talks were over.", "Dmitry Peskov"),
    ("Talks stalled. Peskov said the door was still open.", "Dmitry Peskov"),
    ("Talks stalled; Peskov said the door was still open.", "Dmitry Peskov"),
    ("Talks stalled\nPeskov said the door was still open.", "Dmitry Peskov"),
    ("The Kremlin said talks were possible.", "Kremlin"),
    ("A senior official said talks were possible.", None),
    ("Voenkor, a channel with 2.7 million readers, wrote that the front was stable.", "Voenkor"),
    ("Mr. Peskov said talks were possible.", "Dmitry Peskov"),
    ("U.S. envoy Steve Witkoff said the talks went well.", "Steve Witkoff"),
    ("Peskov was quoted as saying talks were possible.", "Dmitry Peskov"),
    ("Lavrov pointed out that the talks had stalled.", "Sergei Lavrov"),
    ("Dmitry\xa0Peskov said talks were possible.", "Dmitry Peskov"),
    ("The minister said the talks were over.", None),
    (
        "Ursula von der Leyen told the parliament that Europe would stand firm.",
        "Ursula von der Leyen",
    ),
    ("Europe must do more, said von der Leyen.", "Ursula von der Leyen"),
    ("The offer, a source in the delegation said, was out of touch with reality.", None),
    ("Zelensky, who spoke by video link, said the front was holding.", "Volodymyr Zelensky"),
    ("Nobody in Moscow has said that the talks are dead.", None),
    ("Putin and Xi said the partnership had no limits.", "Xi Jinping"),
    ('"Nothing has changed," he added.', None),
    ("The vote was 10 to 5. The ambassador said: the text was not ideal.", None),
]


def _full_path_attribution(text: str) -> str | None:
    """find_attribution without its shortcuts: every quote extracted, then the plain sentence."""
    extractor = _Extractor(text, SpeakerAliases.default())
    for quote in extractor.run():
        if quote.speaker:
            return quote.speaker
    stripped = text.strip()
    if (m := re.match(rf"({sp.CHUNK})\s*[:—–-]\s", stripped)) and not _is_question(m.group(1)):
        found = extractor.resolve(m.group(1), 0)
        if found[0]:
            return found[0]
    return extractor.attribute_plain(stripped)


@pytest.mark.parametrize(("text", "speaker"), ATTRIBUTIONS, ids=[t[:40] for t, _ in ATTRIBUTIONS])
def test_find_attribution_answers_are_those_of_the_full_path(
    text: str, speaker: str | None
) -> None:
    assert find_attribution(text) == speaker
    assert _full_path_attribution(text) == speaker


def test_speaker_patterns_compile_on_first_use_and_then_stand_in_their_place() -> None:
    assert find_attribution("Peskov said talks were possible.") == "Dmitry Peskov"
    for name in ("AFTER_RE", "CHUNK_RE", "SUBJECT_BEFORE_RE", "_SPEECH_VERB_RE"):
        assert isinstance(getattr(sp, name), re.Pattern), name


def test_long_flattened_text_is_linear_and_finds_turns() -> None:
    turn = (
        "Vladimir Putin: We have always said that we are open to dialogue. "
        "Question: Will the talks resume? Dmitry Peskov: Contacts continue. "
    )
    text = "The meeting opened at noon. " + turn * 300
    quotes = extract_quotes(text)
    assert len(quotes) == 600
    assert {q.speaker for q in quotes} == {"Vladimir Putin", "Dmitry Peskov"}
    assert quotes[0].quote == "We have always said that we are open to dialogue."


def test_quote_is_frozen() -> None:
    quote = Quote("a", "a", None, None, 0, 1, False)
    with pytest.raises(AttributeError):
        quote.quote = "b"  # type: ignore[misc]
