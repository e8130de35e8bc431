"""Paper surveys typed into a spreadsheet: read what Excel writes, or refuse it with a sentence.

Excel saves a sheet in one of a few ways, and an Indonesian office meets all of them:
"CSV UTF-8" (UTF-8 with a BOM), "CSV (dipisahkan koma)" (the Windows code page, cp1252,
with `;` as the separator because the decimal separator is `,` in the Indonesian
locale), "Teks Unicode" (UTF-16 little-endian with a BOM, tab-separated), and a Mac may
write UTF-16 big-endian. LibreOffice and Google Sheets write UTF-8 without a BOM.

Rules of reading, each there because a real file broke it:
- the encoding comes from the BOM, else UTF-8 if the bytes are valid UTF-8, else cp1252;
  a file that is none of these, or an .xlsx workbook, is refused with what to do instead;
- the separator is the one of tab, `;` and `,` that splits the first row the most (a
  `sep=;` first line, which Excel understands, decides it outright);
- an answer is exactly one of the ASCII digits 1, 2, 3, 4 (not "³", not "٤", not "4.0");
- every row has as many values as the header (or, without a header, as the first row);
- line numbers are the file's own lines, blank ones included, as an editor shows them.
Every refusal names the line and says what is wrong in Bahasa Indonesia and English.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from broker.core.ikm import ELEMENT_CODES

MAX_BYTES = 50 * 1024 * 1024  # a year of a busy MPP's paper forms is a few MB
SEPARATORS = ("\t", ";", ",")
SERVICE_COLUMNS = ("SERVICE", "LAYANAN", "KODE LAYANAN")
ANSWERS = {"1": 1, "2": 2, "3": 3, "4": 4}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class PaperSurveyError(ValueError):
    """The file cannot be read as survey answers; says why (and where) in both languages."""

    def __init__(self, text_id: str, text_en: str):
        super().__init__(f"{text_id}\n{text_en}")
        self.text_id, self.text_en = text_id, text_en


@dataclass(frozen=True)
class Respondent:
    line: int  # where the row starts in the file
    service: str
    answers: tuple[int, ...]


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding name) of a spreadsheet export."""
    if data.startswith(b"PK\x03\x04"):
        raise PaperSurveyError(f"{name} adalah buku kerja Excel (.xlsx), bukan CSV. Simpan sebagai "
                               "\"CSV UTF-8\" atau \"Teks Unicode\" lalu coba lagi.",
                               f"{name} is an Excel workbook (.xlsx), not a CSV. Save it as \"CSV UTF-8\" or "
                               "\"Unicode Text\" and try again.")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), "UTF-16" if encoding == "utf-16" else "UTF-8"
            except UnicodeDecodeError as exc:
                raise PaperSurveyError(f"{name} rusak: byte {exc.start} tidak dapat dibaca sebagai {encoding}.",
                                       f"{name} is damaged: byte {exc.start} is not valid {encoding}.") from None
    if len(data) >= 4 and data[1:8:2] == b"\0" * len(data[1:8:2]) and data[0:8:2].count(0) == 0:
        return _utf16_without_bom(data, "utf-16-le", name), "UTF-16 LE"
    if len(data) >= 4 and data[0:8:2] == b"\0" * len(data[0:8:2]) and data[1:8:2].count(0) == 0:
        return _utf16_without_bom(data, "utf-16-be", name), "UTF-16 BE"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as exc:
        raise PaperSurveyError(f"{name}: pengodean teks tidak dikenal (byte {exc.start}). Simpan dari Excel sebagai "
                               "\"CSV UTF-8\" lalu coba lagi.",
                               f"{name}: unknown text encoding (byte {exc.start}). Save it from Excel as "
                               "\"CSV UTF-8\" and try again.") from None


def _utf16_without_bom(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise PaperSurveyError(f"{name} tampak seperti UTF-16 tetapi rusak.",
                               f"{name} looks like UTF-16 but is damaged.") from None


def _rows(text: str, separator: str, name: str) -> list[tuple[int, list[str]]]:
    """(first line, cells) of every record; blank lines are kept as empty records, so lines count right."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=False)
    rows, line = [], 0
    try:
        for cells in reader:
            rows.append((line + 1, cells))
            line = reader.line_num
    except csv.Error:  # such as a field of more than 128 KB: an unclosed quote swallowing the file
        raise PaperSurveyError(f"{name} baris {line + 1}: isian terlalu panjang, atau tanda kutip (\") tidak ditutup.",
                               f"{name} line {line + 1}: a value is too long, or a quote (\") is never closed.") from None
    return rows


def _separator(text: str, name: str) -> tuple[str, str]:
    """The separator, and the text without a `sep=` line (that line is replaced by a blank one to keep numbering)."""
    first, newline, rest = text.partition("\n")
    hint = first.strip().strip('"')
    if hint.lower().startswith("sep=") and len(hint) == 5:
        return hint[4], "\n" + rest if newline else ""
    header = next((line for line in text.splitlines() if line.strip(" \t;,\"'")), "")
    if not header:
        raise PaperSurveyError(f"{name} tidak berisi jawaban.", f"{name} has no answers.")

    def fields(sep: str) -> int:
        return len(next(csv.reader([header], delimiter=sep), []))

    best = max(SEPARATORS, key=fields)  # ties keep the first: tab, then semicolon, then comma
    if fields(best) < 2:
        raise PaperSurveyError(f"{name}: baris pertama tidak terbagi dengan tab, titik koma atau koma.",
                               f"{name}: the first row is not separated by tabs, semicolons or commas.")
    return best, text


def read_paper_survey(path: str | Path) -> list[Respondent]:
    """Every respondent of the file. Columns U1..U9 under an optional header, with an optional service
    column (SERVICE or LAYANAN); without a header the first nine columns are U1..U9 and a tenth the service."""
    name = str(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PaperSurveyError(f"{name} tidak dapat dibaca: {reason}.", f"cannot read {name}: {reason}.") from None
    if len(data) > MAX_BYTES:
        raise PaperSurveyError(f"{name} lebih dari {MAX_BYTES // 2**20} MB: bukan berkas survei kertas.",
                               f"{name} is over {MAX_BYTES // 2**20} MB: not a paper survey file.")
    text, _ = decode(data, name)
    if "\0" in text:
        raise PaperSurveyError(f"{name} bukan berkas teks CSV.", f"{name} is not a CSV text file.")
    if not text.strip():
        raise PaperSurveyError(f"{name} tidak berisi jawaban.", f"{name} has no answers.")
    separator, text = _separator(text, name)
    records = [(line, [c.strip() for c in cells]) for line, cells in _rows(text, separator, name)]
    records = [(line, cells) for line, cells in records if any(cells)]  # blank lines, or only separators
    if not records:
        raise PaperSurveyError(f"{name} tidak berisi jawaban.", f"{name} has no answers.")
    first_line, first = records[0]
    header = [c.upper() for c in first]
    if "U1" in header:
        missing = [c for c in ELEMENT_CODES if c not in header]
        if missing:
            raise PaperSurveyError(f"{name} baris {first_line}: judul kolom tidak memuat {', '.join(missing)}.",
                                   f"{name} line {first_line}: the header has no column {', '.join(missing)}.")
        columns = [header.index(c) for c in ELEMENT_CODES]
        service = next((header.index(c) for c in SERVICE_COLUMNS if c in header), None)
        width, body, shape_id, shape_en = len(header), records[1:], "judul kolom", "the header"
    else:
        columns, width, body = list(range(len(ELEMENT_CODES))), len(first), records
        if width not in (len(ELEMENT_CODES), len(ELEMENT_CODES) + 1):
            raise PaperSurveyError(f"{name} baris {first_line}: {width} nilai; tanpa judul kolom setiap baris "
                                   f"berisi {len(ELEMENT_CODES)} jawaban U1..U9, dan boleh ditambah kode layanan.",
                                   f"{name} line {first_line}: {width} values; without a header every row holds the "
                                   f"{len(ELEMENT_CODES)} answers U1..U9, optionally followed by a service code.")
        service = len(ELEMENT_CODES) if width > len(ELEMENT_CODES) else None
        shape_id, shape_en = "baris pertama", "the first row"
    found = []
    for line, cells in body:
        if len(cells) != width:
            raise PaperSurveyError(f"{name} baris {line}: {len(cells)} nilai, padahal {shape_id} punya {width}.",
                                   f"{name} line {line}: {len(cells)} values, but {shape_en} has {width}.")
        answers = []
        for code, column in zip(ELEMENT_CODES, columns):
            value = cells[column]
            if value not in ANSWERS:
                shown = f'"{value}"' if value else "kosong"
                raise PaperSurveyError(
                    f"{name} baris {line}: jawaban {code} adalah {shown}, bukan 1, 2, 3 atau 4.",
                    f"{name} line {line}: answer {code} is {shown if value else 'empty'}, not 1, 2, 3 or 4.")
            answers.append(ANSWERS[value])
        found.append(Respondent(line, cells[service][:64] if service is not None else "", tuple(answers)))
    if not found:
        raise PaperSurveyError(f"{name} hanya berisi judul kolom, tanpa jawaban.",
                               f"{name} has a header but no answers.")
    return found
