"""`antrian ikm ANSWERS.csv` against what Excel (and LibreOffice, and a tired typist) really writes.

The corpus is written here with the real encodings: Excel's "CSV UTF-8" (BOM), "CSV (dipisahkan koma)"
in an Indonesian locale (cp1252, semicolons), "Teks Unicode" (UTF-16 LE with BOM, tabs), a Mac's
UTF-16 BE, LibreOffice's UTF-8 without BOM; then the mistakes that once ended in a traceback.
"""

from __future__ import annotations

import codecs

import pytest

from broker.reports.paper import PaperSurveyError, read_paper_survey

ROWS = [  # (name, answers, service): names with the characters cp1252 and UTF-16 files carry
    ("José Café", (4, 3, 3, 4, 3, 3, 4, 3, 4), "A"),
    ("Siti – Rembang", (4, 4, 3, 4, 4, 3, 4, 3, 4), "A"),
    ("Ni Luh “Ayu”", (3, 3, 3, 3, 3, 3, 4, 2, 3), "B"),
    ("Bambang", (3, 3, 3, 4, 3, 3, 4, 3, 3), "B"),
]  # IKM of the four: 83.33 (tests/test_ikm.py works it out by hand)
HEADER = ["No", "Nama", *[f"U{i}" for i in range(1, 10)], "Layanan"]


def table(sep: str, newline: str = "\r\n", rows=ROWS) -> str:
    lines = [sep.join(HEADER)]
    for n, (name, answers, service) in enumerate(rows, start=1):
        cell = f'"{name}"' if sep in name or '"' in name else name
        lines.append(sep.join([str(n), cell, *map(str, answers), service]))
    return newline.join(lines) + newline


EXCEL = {  # file name: bytes as the program writes them
    "csv-utf8-bom-comma.csv": codecs.BOM_UTF8 + table(",").encode("utf-8"),
    "csv-utf8-bom-semicolon.csv": codecs.BOM_UTF8 + table(";").encode("utf-8"),
    "csv-cp1252-semicolon.csv": table(";").encode("cp1252"),
    "csv-cp1252-comma.csv": table(",").encode("cp1252"),
    "unicode-text-utf16le.txt": codecs.BOM_UTF16_LE + table("\t").encode("utf-16-le"),
    "unicode-text-utf16be.txt": codecs.BOM_UTF16_BE + table("\t").encode("utf-16-be"),
    "utf16le-without-bom.txt": table("\t").encode("utf-16-le"),
    "libreoffice-utf8-lf.csv": table(",", "\n").encode("utf-8"),
    "sep-line-cp1252.csv": b"sep=;\r\n" + table(";").encode("cp1252"),
    "old-mac-cr.csv": table(";", "\r").encode("cp1252"),
}


@pytest.fixture
def write(tmp_path):
    def write(name: str, data: bytes | str):
        path = tmp_path / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path
    return write


@pytest.mark.parametrize("name", sorted(EXCEL))
def test_every_excel_export_reads_the_same(write, name):
    respondents = read_paper_survey(write(name, EXCEL[name]))
    assert [(r.service, r.answers) for r in respondents] == [(s, a) for _, a, s in ROWS]
    assert [r.line for r in respondents] == [2, 3, 4, 5] if not name.startswith("sep-") else [3, 4, 5, 6]


def test_quoted_comments_with_separators_and_line_breaks_keep_the_line_count(write):
    text = ("U1;U2;U3;U4;U5;U6;U7;U8;U9;Saran\r\n"
            '4;4;4;4;4;4;4;4;4;"cepat; ramah\r\nterima kasih"\r\n'
            "\r\n"
            "4;4;4;4;4;4;4;4;4;\r\n"
            "4;4;4;4;4;4;4;4;x;\r\n")
    path = write("comments.csv", text.encode("cp1252"))
    with pytest.raises(PaperSurveyError) as refused:
        read_paper_survey(path)
    assert "line 6: answer U9 is \"x\"" in refused.value.text_en  # the comment took lines 2-3, line 4 is blank
    assert "baris 6: jawaban U9" in refused.value.text_id


def test_blank_lines_and_empty_excel_rows_are_skipped_but_counted(write):
    text = "U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4\n\n,,,,,,,,\n\n4,4,4,4,5,4,4,4,4\n"
    with pytest.raises(PaperSurveyError) as refused:
        read_paper_survey(write("blanks.csv", text))
    assert "line 6: answer U5 is \"5\"" in str(refused.value)


@pytest.mark.parametrize("value", ["³", "٤", "４", "4.0", "-1", "0", "5", "", "empat", "1 2"])
def test_only_ascii_digits_one_to_four_are_answers(write, value):
    text = f"U1;U2;U3;U4;U5;U6;U7;U8;U9\n4;4;{value};4;4;4;4;4;4\n"
    with pytest.raises(PaperSurveyError) as refused:
        read_paper_survey(write("digits.csv", text))
    assert "line 2: answer U3 is" in refused.value.text_en and "bukan 1, 2, 3 atau 4" in refused.value.text_id


def test_spaces_around_an_answer_are_fine(write):
    [respondent] = read_paper_survey(write("spaces.csv", "U1;U2;U3;U4;U5;U6;U7;U8;U9\n 4;4\u00a0;4;4;4;4;4;4;4\n"))
    assert respondent.answers == (4,) * 9


@pytest.mark.parametrize("row,count", [("4,4,4,4,4,4,4,4,4,4,4", 11), ("4,4,4,4,4,4,4,4", 8)])
def test_a_row_wider_or_narrower_than_the_header_is_refused(write, row, count):
    with pytest.raises(PaperSurveyError) as refused:
        read_paper_survey(write("width.csv", f"U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4\n\n{row}\n"))
    assert f"line 4: {count} values, but the header has 9" in refused.value.text_en


def test_without_a_header_rows_keep_the_first_rows_width(write):
    respondents = read_paper_survey(write("plain.csv", "4;4;4;4;4;4;4;4;4;A\n3;3;3;3;3;3;3;3;3;B\n"))
    assert [r.service for r in respondents] == ["A", "B"]
    with pytest.raises(PaperSurveyError, match="line 2: 9 values, but the first row has 10"):
        read_paper_survey(write("plain2.csv", "4;4;4;4;4;4;4;4;4;A\n3;3;3;3;3;3;3;3;3\n"))
    with pytest.raises(PaperSurveyError, match="line 1: 11 values"):
        read_paper_survey(write("plain3.csv", "4;4;4;4;4;4;4;4;4;A;x\n"))


REFUSED = {  # file: (bytes, what the English sentence says)
    "workbook.xlsx": (b"PK\x03\x04\x14\x00\x06\x00" + bytes(200), "is an Excel workbook (.xlsx)"),
    "garbage.csv": (b"\x81\x8d\x8f\x90\x9d\xff\xfe\x00", "unknown text encoding"),
    "nul.csv": (b"U1,U2\x00,U3\n", "not a CSV text file"),
    "empty.csv": (b"", "has no answers"),
    "blank.csv": (b"\r\n\r\n;;;\r\n", "has no answers"),
    "header-only.csv": (b"U1;U2;U3;U4;U5;U6;U7;U8;U9\r\n", "a header but no answers"),
    "no-u7.csv": (b"U1;U2;U3;U4;U5;U6;U8;U9\r\n4;4;4;4;4;4;4;4\r\n", "the header has no column U7"),
    "one-column.csv": (b"4\n4\n", "not separated by tabs, semicolons or commas"),
    "broken-utf16.txt": (codecs.BOM_UTF16_LE + b"U\x001\x00\x00\xd8", "damaged"),
    "digit-three.csv": ("U1;U2;U3;U4;U5;U6;U7;U8;U9\n4;4;4;4;4;4;4;4;³\n".encode(), 'answer U9 is "³"'),
    "arabic-indic.csv": ("U1,U2,U3,U4,U5,U6,U7,U8,U9\r\n٤,٤,٤,٤,٤,٤,٤,٤,٤\r\n".encode("utf-16"), 'answer U1 is "٤"'),
    "eleven-values.csv": (b"U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,4,4,4,4,4,4,4,4,4,4\n", "11 values, but the header has 9"),
    "unclosed-quote.csv": (b'U1,U2,U3,U4,U5,U6,U7,U8,U9\n4,"4,4\n' + b"x" * 200_000, "line 2"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_files_that_are_refused_say_why_in_both_languages(write, name):
    data, reason = REFUSED[name]
    with pytest.raises(PaperSurveyError) as refused:
        read_paper_survey(write(name, data))
    assert reason in refused.value.text_en and refused.value.text_id and refused.value.text_id != refused.value.text_en


