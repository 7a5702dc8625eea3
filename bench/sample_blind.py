"""Draw, build and check the blind real-text test set ``bench/data/press_release_blind.csv``.

    python bench/sample_blind.py list  [ARCHIVE] [--out /tmp/blind_candidates.jsonl]
    python bench/sample_blind.py build DECISIONS [ARCHIVE] [--out OUT_CSV]
    python bench/sample_blind.py verify [ARCHIVE] [--labels bench/data/press_release_blind.csv]

Why: ``bench/data/press_release_labels.csv`` (399 passages) guided how the training data was
written, so it is a development set. This second set was labelled blind: by hand, in the order
below, without running the model on any candidate and without looking at the training CSVs.
The format is the dev file's (see ``bench/evaluate_real.py``): ``file,link,start,end,sha1,label,
note``, pointers into the archive only, never its text.

Sampling rule (``list``, seed 20240611):
1. Every release (``link``) that appears in the dev file is left out, and so is any sentence that
   occurs word for word in one of those releases (a news item often repeats an address).
2. Each remaining body is split into sentences (the archive flattens paragraphs into single
   spaces; the splitter knows titles and initials such as "Mr." or "J."). A candidate is one
   sentence, joined with the next one or two while it is shorter than 60 characters; candidates
   longer than 600 characters are dropped.
3. Four streams, each shuffled with its own ``random.Random`` (SEED, SEED + 1, + 2, + 3):
   - *talks* (t, 2,285 candidates): every candidate that mentions talks, negotiat*, dialogue,
     peace (not the adjective "peaceful", save "peaceful settlement/solution/means..."),
     ceasefire, truce, settlement, diplomacy, Minsk, Istanbul, Normandy, the Contact Group,
     delegation, "meeting with", security guarantees, compromise, concessions, ultimatum,
     surrender, capitulation, appeasement, mediation, the negotiating table or a frozen conflict;
   - *random* (r, 42,691): all candidates of the same releases, drawn uniformly, so it also holds
     some that use those words about something else (trade talks, procedural meetings);
   - *refusal* (f, 1,188) and *blame* (g, 319): the candidates outside the talks stream that
     carry the words of refusals (victory, "until we...", give up, territorial integrity,
     liberate, withdraw, "no alternative", on the battlefield, ...) or of blame and distrust
     (lies, theatre, sabotage, pointless, "Kiev regime", ...). They were added after the whole
     talks stream had been read and had given only 37 ``anti`` passages: refusals in this archive
     mostly say "we will fight until..." or "we will not give up what is ours" without any talks
     vocabulary. Both were read in full, for ``anti`` passages only.

Labelling (``build``): each candidate got a label by hand under the guideline of
``training/data/README.md`` ("Label guideline" and its worked hard cases): the stance on
negotiating of the speaker of the passage, in this passage. As in the dev file, a passage that
only blames the other side for stalling, sabotaging or quitting talks (e.g. "Kiev refuses to
honour the Minsk agreements"), with no openness of the speaker's own in it, is ``anti``; with
that openness ("we stand for a political settlement; Russia quit the formats") it is ``pro``.
Defiant war aims that rule out concessions ("we will not give up what is ours", "victory means
all our territory back", "we will fight until the end") are ``anti``; pleas for weapons or
sanctions "to force Russia to peace" and evacuation truces are ``neutral``. A passage may be
widened to the previous or next sentence (1-3 sentences, 60-600 characters) when one sentence
alone does not carry the stance. A candidate is *skipped* only when it is unreadable, holds a
journalist's question, or is too mixed to label. Kept, in stream order: ``pro`` and ``anti`` up to
100 each from the talks stream (at most 40 of its ``neutral``), then ``anti`` from the refusal and
blame streams, then the random stream until ``neutral`` reached 100 in all (any ``pro``/``anti``
met there is kept too while its quota is open). A candidate whose label is full, that overlaps a
kept passage (the archive repeats sentences) or whose release already gave 3 passages is
labelled but not kept (over quota, not a skip).

Result (labelled 2,285 + 1,188 + 319 + 70 candidates): 259 passages, 100 ``pro``, 59 ``anti``,
100 ``neutral`` (40 from the talks stream, 60 random); 22 candidates skipped (11 with a
journalist's question, 8 too mixed, 3 unreadable fragments). The archive outside the dev releases
holds no more clear ``anti`` passages under this rule, hence fewer than 100 (or 70).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from evaluate_real import (  # noqa: E402
    DEFAULT_ARCHIVE,
    DEFAULT_LABELS,
    LABEL_COLUMNS,
    inside_repository,
    read_archive,
    read_pointers,
    resolve,
    sha1,
)

SEED = 20240611
BLIND = BENCH / "data" / "press_release_blind.csv"
MIN_CHARS, MAX_CHARS, MAX_SENTENCES = 60, 600, 3
PER_LINK = 3
QUOTA = {"pro": 100, "anti": 100, "neutral": 100}
TALKS_NEUTRAL = 40
LABELS = ("pro", "anti", "neutral")

TALK_WORDS = re.compile(
    r"\b(?:talks?|negotiat\w*|dialog(?:ue)?s?|peace(?:fully|maker\w*)?"
    r"|peaceful (?:settlement|solution|resolution|means|path|way|dialogue)"
    r"|cease-?fires?|truce|settl(?:e|ement|ing)|diplomac\w*|diplomat\w*|Minsk|Istanbul|Normandy"
    r"|Contact Group|TCG|delegations?|meeting with|security guarantees?|compromis(?:e|es|ing)"
    r"|concessions?|ultimat(?:um|ums|a)|surrender\w*|capitulat\w*|appease\w*|mediat\w*"
    r"|negotiating table|frozen conflict)\b",
    re.IGNORECASE,
)

# Refusals seldom use the talks vocabulary ("we will fight until every village is free"), so a
# third stream, read after the talks stream, holds the other candidates with these words.
REFUSAL_WORDS = re.compile(
    r"\b(?:victor(?:y|ies|ious)|win (?:the|this|our) war|until (?:we|the|our|all|it|they|Russia"
    r"|Ukraine|full|complete)|give up|cede|cession|territorial integrity|occupied territor\w*"
    r"|liberat\w*|de-?occupation|withdraw\w*|Munich|1938|appeas\w*|Minsk-3|freez\w*|frozen"
    r"|goals? of the (?:special )?(?:military )?operation|will be (?:achieved|attained|fulfilled"
    r"|accomplished)|no (?:other )?alternative|no other (?:way|choice|option)|on the battlefield"
    r"|by force|at any (?:cost|price)|not negotiable|non-negotiable|red lines?"
    r"|ultimat(?:um|ums|a))\b",
    re.IGNORECASE,
)

# Read last: the other candidates with words of blame and distrust ("they lie", "a theatre").
BLAME_WORDS = re.compile(
    r"\b(?:dead end|deadlock\w*|pointless|futile|useless|sabotag\w*|imitat\w*|stall\w*|unwilling\w*"
    r"|not serious|insincere|trust\w*|lie|lies|lying|pretend\w*|theat(?:re|er)|reward\w*|kneel\w*"
    r"|concede|trade (?:our|their) (?:land|territor\w*)|only (?:when|after|once)|precondition\w*"
    r"|bargain\w*|deal with (?:them|Russia|Kiev|Kyiv)|agreements? with (?:them|Russia|Kiev|Kyiv)"
    r"|Kiev regime|neo-Nazi\w*|denazif\w*|demilitari\w*)\b",
    re.IGNORECASE,
)

# A sentence ends at . ! ? or an ellipsis, optionally followed by closing quotes or brackets,
# then white space and something that can open a sentence.
_END = re.compile(
    r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+"
    r"(?=[\"'\u201c\u2018\u00ab(\[\u2013\u2014-]?[A-Z0-9\u0400-\u042f])"
)
_NO_END = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|No|Nos|Jr|Sr|Prof|Gen|Lt|Col|Sgt|Capt|vs|approx|Art|Para|p|pp)"
    r"|\b[A-Z]|\b(?:U\.S|U\.K|U\.N|E\.U))\.$"
)


def sentences(body: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``body``, white space stripped."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(body):
        head = body[max(0, match.start() - 8) : match.start() + 1]
        if _NO_END.search(head):
            continue
        end = match.end()
        spans.append((start, end))
        start = end
    spans.append((start, len(body)))
    out = []
    for s, e in spans:
        while s < e and body[s].isspace():
            s += 1
        while e > s and body[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def dev_links(path: Path = DEFAULT_LABELS) -> set[tuple[str, str]]:
    return {(row["file"], row["link"]) for row in read_pointers(path)}


def candidates(archive: dict[str, dict[str, tuple[str, str]]], dev: set[tuple[str, str]]):
    """The talks, random, refusal and blame streams, shuffled with SEED, SEED + 1, + 2 and + 3."""
    dev_sentences = set()
    for name, rows in archive.items():
        for link, (_, body) in rows.items():
            if (name, link) in dev:
                dev_sentences.update(body[s:e] for s, e in sentences(body))
    talks, pool, refusals, blame = [], [], [], []
    for name in sorted(archive):
        for link in sorted(archive[name]):
            if (name, link) in dev:
                continue
            date, body = archive[name][link]
            spans = sentences(body)
            for i in range(len(spans)):
                j = i
                while spans[j][1] - spans[i][0] < MIN_CHARS and j + 1 < len(spans) and j - i < 2:
                    j += 1
                start, end = spans[i][0], spans[j][1]
                text = body[start:end]
                if not MIN_CHARS <= len(text) <= MAX_CHARS:
                    continue
                if any(body[s:e] in dev_sentences for s, e in spans[i : j + 1]):
                    continue
                record = {
                    "file": name,
                    "link": link,
                    "date": date[:10],
                    "start": start,
                    "end": end,
                    "sentence": i,
                    "prev": list(spans[i - 1]) if i else None,
                    "next": list(spans[j + 1]) if j + 1 < len(spans) else None,
                }
                pool.append(record)
                if TALK_WORDS.search(text):
                    talks.append(record)
                elif REFUSAL_WORDS.search(text):
                    refusals.append(record)
                elif BLAME_WORDS.search(text):
                    blame.append(record)
    random.Random(SEED).shuffle(talks)
    random.Random(SEED + 1).shuffle(pool)
    random.Random(SEED + 2).shuffle(refusals)
    random.Random(SEED + 3).shuffle(blame)
    return talks, pool, refusals, blame


def cmd_list(args) -> int:
    out = Path(args.out)
    if inside_repository(out):
        print(f"{out}: candidates hold archive text; write them outside the repository")
        return 2
    archive = read_archive(Path(args.archive))
    talks, pool, refusals, blame = candidates(archive, dev_links())
    with out.open("w", encoding="utf-8") as handle:
        for stream, records in (("t", talks), ("r", pool), ("f", refusals), ("g", blame)):
            for number, rec in enumerate(records, start=1):
                body = archive[rec["file"]][rec["link"]][1]
                rec = dict(rec, id=f"{stream}{number:05d}", text=body[rec["start"] : rec["end"]])
                handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(
        f"{len(talks)} talks, {len(pool)} random, {len(refusals)} refusal and {len(blame)} blame "
        f"candidates -> {out}"
    )
    return 0


def read_decisions(path: Path) -> list[dict[str, str]]:
    """Tab-separated ``id, widen, label, note``; ``widen`` is ``0``, ``-1``, ``+1``, ``-1+1``,
    ``+2`` (sentences added before/after); ``label`` is pro/anti/neutral, ``skip:REASON``, or
    ``-`` for a candidate left unlabelled because its release already gave PER_LINK passages."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cid, widen, label, note = [*line.split("\t"), "", "", ""][:4]
        rows.append(
            {
                "id": cid.strip(),
                "widen": widen.strip() or "0",
                "label": label.strip(),
                "note": note.strip(),
            }
        )
    return rows


def cmd_build(args) -> int:
    archive = read_archive(Path(args.archive))
    records = {}
    with open(args.candidates, encoding="utf-8") as handle:
        for line in handle:
            rec = json.loads(line)
            records[rec["id"]] = rec
    kept: list[dict[str, object]] = []
    taken: dict[tuple[str, str], list[tuple[int, int]]] = {}
    counts: Counter[str] = Counter()
    talks_neutral = 0
    skipped: Counter[str] = Counter()
    over = 0
    for row in read_decisions(Path(args.decisions)):
        rec = records[row["id"]]
        if row["label"].startswith("skip"):
            skipped[row["label"]] += 1
            continue
        if row["label"] == "-":  # not labelled: its release already gave PER_LINK passages
            over += 1
            continue
        label = row["label"]
        if label not in LABELS:
            raise SystemExit(f"{row['id']}: bad label {label!r}")
        body = archive[rec["file"]][rec["link"]][1]
        spans = sentences(body)
        i = rec["sentence"]
        j = next(k for k, (s, e) in enumerate(spans) if e == rec["end"])
        before = -int(m.group(1)) if (m := re.search(r"-(\d)", row["widen"])) else 0
        after = int(m.group(1)) if (m := re.search(r"\+(\d)", row["widen"])) else 0
        start, end = spans[i + before][0], spans[j + after][1]
        if (
            j + after - (i + before) + 1 > MAX_SENTENCES
            or not MIN_CHARS <= end - start <= MAX_CHARS
        ):
            raise SystemExit(f"{row['id']}: widened passage breaks the 1-3 sentence/60-600 rule")
        key = (rec["file"], rec["link"])
        stream = row["id"][0]
        full = (
            counts[label] >= QUOTA[label]
            or (stream == "t" and label == "neutral" and talks_neutral >= TALKS_NEUTRAL)
            or (stream in "fg" and label == "neutral")  # read for anti passages only
        )
        overlap = any(s < end and start < e for s, e in taken.get(key, []))
        if full or overlap or len(taken.get(key, [])) >= PER_LINK:
            over += 1
            continue
        taken.setdefault(key, []).append((start, end))
        counts[label] += 1
        talks_neutral += row["id"].startswith("t") and label == "neutral"
        kept.append(
            {
                "file": rec["file"],
                "link": rec["link"],
                "start": start,
                "end": end,
                "sha1": sha1(body[start:end]),
                "label": label,
                "note": row["note"],
            }
        )
    out = Path(args.out)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LABEL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    print(
        f"kept {len(kept)} ({dict(counts)}; {talks_neutral} neutral from the talks stream), "
        f"skipped {sum(skipped.values())} ({dict(skipped)}), over quota {over} -> {out}"
    )
    return 0


def cmd_verify(args) -> int:
    archive = read_archive(Path(args.archive))
    pointers = read_pointers(Path(args.labels))
    passages, problems = resolve(pointers, archive)
    dev = dev_links()
    for n, row in enumerate(pointers, start=2):
        if (row["file"], row["link"]) in dev:
            problems.append(f"line {n}: {row['link']} is in the dev file")
        if row["label"] not in LABELS:
            problems.append(f"line {n}: label {row['label']!r}")
    for p in passages:
        if not MIN_CHARS <= len(p.text) <= MAX_CHARS:
            problems.append(f"{p.source}: {len(p.text)} characters")
    spans = sorted((p.file, p.link, p.start, p.end) for p in passages)
    for a, b in itertools.pairwise(spans):
        if a[:2] == b[:2] and b[2] < a[3]:
            problems.append(f"{a[1]}: passages [{a[2]}:{a[3]}] and [{b[2]}:{b[3]}] overlap")
    for problem in problems:
        print(f"problem: {problem}")
    counts = Counter(p.label for p in passages)
    print(
        f"{len(passages)} of {len(pointers)} rows resolve (sha1 and offsets ok); "
        f"labels {dict(sorted(counts.items()))}; links shared with the dev file: "
        f"{sum((r['file'], r['link']) in dev for r in pointers)}; problems: {len(problems)}"
    )
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="write the two shuffled candidate streams (JSON lines)")
    p_list.add_argument("archive", nargs="?", default=str(DEFAULT_ARCHIVE))
    p_list.add_argument("--out", default="/tmp/blind_candidates.jsonl")
    p_build = sub.add_parser("build", help="apply the hand labels and quotas, write the CSV")
    p_build.add_argument("decisions", help="id<TAB>widen<TAB>label<TAB>note, in stream order")
    p_build.add_argument("archive", nargs="?", default=str(DEFAULT_ARCHIVE))
    p_build.add_argument("--candidates", default="/tmp/blind_candidates.jsonl")
    p_build.add_argument("--out", default=str(BLIND))
    p_verify = sub.add_parser("verify", help="check that every row resolves and is blind")
    p_verify.add_argument("archive", nargs="?", default=str(DEFAULT_ARCHIVE))
    p_verify.add_argument("--labels", default=str(BLIND))
    args = parser.parse_args(argv)
    return {"list": cmd_list, "build": cmd_build, "verify": cmd_verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
