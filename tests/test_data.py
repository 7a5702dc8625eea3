from __future__ import annotations

from pathlib import Path

import pytest

from stance.data import normalize_label, read_labelled_csv
from stance.errors import DataError

GOOD_HEADER = "text,label,speaker,date,source\n"


def write(tmp_path: Path, content: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pro", "pro"),
        (" PRO ", "pro"),
        ("Favour", "pro"),
        ("favor", "pro"),
        ("support", "pro"),
        ("pro-negotiation", "pro"),
        ("AGAINST", "anti"),
        ("oppose", "anti"),
        ("anti-negotiation", "anti"),
        ("None", "neutral"),
        ("neither", "neutral"),
        ("off-topic", "neutral"),
        ("maybe", None),
        ("", None),
    ],
)
def test_label_aliases(value: str, expected: str | None) -> None:
    assert normalize_label(value) == expected


def test_reads_rows_with_optional_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEADER
        + '"We are ready, truly ready, to talk",Favour,Ana Lind,2023-05-01,interview\n'
        + "No talks now,AGAINST,,,\n"
        + "\n"  # a blank line is not a row
        + "Grain exports rose,none,Jo Ruiz,2024-01-02T10:00:00,report\n",
    )
    data = read_labelled_csv(path)
    assert data.texts == [
        "We are ready, truly ready, to talk",
        "No talks now",
        "Grain exports rose",
    ]
    assert data.labels == ["pro", "anti", "neutral"]
    assert data.speakers == ["Ana Lind", None, "Jo Ruiz"]
    assert data.dates == ["2023-05-01", None, "2024-01-02T10:00:00"]
    assert data.origins == [f"{path}:2", f"{path}:3", f"{path}:5"]
    assert len(data.sha256) == 64


def test_bom_is_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufefftext,label\nWe want talks,pro\n".encode())
    assert read_labelled_csv(path).labels == ["pro"]


def test_renamed_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "quote,stance\nWe want talks,pro\n")
    data = read_labelled_csv(path, text_column="quote", label_column="stance")
    assert data.texts == ["We want talks"]


def test_multiline_field_reports_its_starting_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'text,label\n"first line\nsecond line",pro\n"",anti\n')
    with pytest.raises(DataError, match=r"data\.csv:4: empty 'text'"):
        read_labelled_csv(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", r"empty file, expected a header row"),
        ("words,label\nhi,pro\n", r":1: missing column 'text'; the header has 'words', 'label'"),
        ("text\nhi\n", r":1: missing column 'label'"),
        ("text,label\n,pro\n", r"1 invalid row: .*data\.csv:2: empty 'text'"),
        ("text,label\n   ,pro\n", r"data\.csv:2: empty 'text'"),
        (
            "text,label\nWe want talks,maybe\n",
            r"data\.csv:2: unknown 'label' 'maybe' \(expected pro, anti or neutral",
        ),
        (
            "text,label\nWe want talks,pro,extra\n",
            r"data\.csv:2: expected 2 fields as in the header, found 3",
        ),
        (
            "text,label\nWe want talks\n",
            r"data\.csv:2: expected 2 fields as in the header, found 1",
        ),
        (
            "text,label,date\nWe want talks,pro,last May\n",
            r"data\.csv:2: 'date' 'last May' is not an ISO 8601 date",
        ),
        ("text,label\nok,pro\nbad,\x00\n", r"data\.csv:3: contains a NUL byte"),
    ],
)
def test_bad_csvs_name_file_line_and_problem(tmp_path: Path, content: str, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataError, match=message):
        read_labelled_csv(path)


def test_many_invalid_rows_list_first_twenty_and_count(tmp_path: Path) -> None:
    rows = "".join(f"text {i},wrong\n" for i in range(25))
    path = write(tmp_path, "text,label\nfine,pro\n" + rows)
    with pytest.raises(DataError) as info:
        read_labelled_csv(path)
    message = str(info.value)
    assert message.startswith("25 invalid rows:")
    assert "data.csv:3:" in message and "data.csv:22:" in message and "data.csv:23:" not in message
    assert "(and 5 more)" in message and "--skip-invalid" in message


def test_skip_invalid_records_what_it_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\nfine,pro\n,anti\nalso fine,neutral\nx,bogus\n")
    data = read_labelled_csv(path, skip_invalid=True)
    assert data.texts == ["fine", "also fine"]
    assert [(row.line, row.reason.split()[0]) for row in data.skipped] == [
        (3, "empty"),
        (5, "unknown"),
    ]


def test_not_utf8_names_line_and_suggests_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\nfine,pro\nCaf\u00e9 talks,neutral\n".encode("cp1252"))
    with pytest.raises(DataError, match=r"data\.csv:3: not UTF-8 \(byte 0xe9\); .*--encoding"):
        read_labelled_csv(path)
    assert read_labelled_csv(path, encoding="cp1252").texts[1] == "Caf\u00e9 talks"


def test_unknown_encoding_name(tmp_path: Path) -> None:
    path = write(tmp_path, "text,label\nfine,pro\n")
    with pytest.raises(DataError, match="unknown encoding 'klingon'"):
        read_labelled_csv(path, encoding="klingon")


@pytest.mark.parametrize("name", ["missing.csv", "."])
def test_missing_file_or_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(DataError, match=r"no such file|is a directory"):
        read_labelled_csv(tmp_path / name)


def test_only_a_header_is_no_data(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no usable rows"):
        read_labelled_csv(write(tmp_path, "text,label\n"))


def test_several_files_are_concatenated_and_hashed_together(tmp_path: Path) -> None:
    a = write(tmp_path, "text,label\none,pro\n", "a.csv")
    b = write(tmp_path, "text,label\ntwo,anti\n", "b.csv")
    both = read_labelled_csv([a, b])
    assert both.texts == ["one", "two"]
    assert both.sha256 == read_labelled_csv([a, b]).sha256
    assert both.sha256 != read_labelled_csv([b, a]).sha256
