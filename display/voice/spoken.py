"""How a call is said aloud: numbers, ticket numbers and counter ids in Indonesian (and English).

Kept apart from any speech engine so the exact words can be tested for every
number, and so every announcer, `antrian say` and the hall TV say the same thing.
Nothing here raises on odd input: an unexpected ticket or counter id is read
character by character rather than dropped, because a call must never go unsaid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_ONES_ID = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
_ONES_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_TENS_EN = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")

# Indonesian names of the letters, as an announcer reads "4K-10": "empat ka sepuluh".
LETTERS_ID = {"A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge", "H": "ha", "I": "i",
              "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en", "O": "o", "P": "pe", "Q": "ki", "R": "er",
              "S": "es", "T": "te", "U": "u", "V": "fe", "W": "we", "X": "eks", "Y": "ye", "Z": "zet"}

MAX_WORDS = 999_999  # above this, numbers are read digit by digit


def number_id(n: int) -> str:
    """An integer in Indonesian words: 0 'nol', 11 'sebelas', 100 'seratus', 1000 'seribu', 2019 'dua ribu sembilan belas'."""
    if n < 0:
        return "minus " + number_id(-n)
    if n > MAX_WORDS:
        return digits_id(str(n))
    if n == 0:
        return "nol"
    return " ".join(_words_id(n))


def _words_id(n: int) -> list[str]:
    """Words of 1..999999 (never 'nol': a zero part is silent, as in 'seratus lima')."""
    if n == 0:
        return []
    if n < 10:
        return [_ONES_ID[n]]
    if n == 10:
        return ["sepuluh"]
    if n == 11:
        return ["sebelas"]
    if n < 20:
        return [_ONES_ID[n - 10], "belas"]
    if n < 100:
        return [_ONES_ID[n // 10], "puluh", *_words_id(n % 10)]
    if n < 1000:
        head = ["seratus"] if n // 100 == 1 else [_ONES_ID[n // 100], "ratus"]
        return head + _words_id(n % 100)
    head = ["seribu"] if n // 1000 == 1 else [*_words_id(n // 1000), "ribu"]
    return head + _words_id(n % 1000)


def number_en(n: int) -> str:
    """An integer in English words: 123 'one hundred twenty-three', 4010 'four thousand ten'."""
    if n < 0:
        return "minus " + number_en(-n)
    if n > MAX_WORDS:
        return digits_en(str(n))
    if n < 20:
        return _ONES_EN[n]
    if n < 100:
        return _TENS_EN[n // 10] + (f"-{_ONES_EN[n % 10]}" if n % 10 else "")
    if n < 1000:
        return f"{_ONES_EN[n // 100]} hundred" + (f" {number_en(n % 100)}" if n % 100 else "")
    return f"{number_en(n // 1000)} thousand" + (f" {number_en(n % 1000)}" if n % 1000 else "")


def digits_id(text: str) -> str:
    """Each digit on its own: '007' -> 'nol nol tujuh'."""
    return " ".join(_ONES_ID[int(d)] for d in text if d.isdigit())


def digits_en(text: str) -> str:
    return " ".join(_ONES_EN[int(d)] for d in text if d.isdigit())


class Language(StrEnum):
    INDONESIAN = "id"
    ENGLISH = "en"


class NumberMode(StrEnum):
    """How the digits of a ticket number are read; sites choose, digit by digit is the default."""

    DIGITS = "digits"  # "A nol nol tujuh"
    WORDS = "words"  # "A tujuh", "B seratus dua puluh tiga"


_PARTS = re.compile(r"[A-Za-z]+|[0-9]+")


def ticket_words(number: str, mode: NumberMode = NumberMode.DIGITS, lang: Language = Language.INDONESIAN) -> str:
    """'A001' -> 'A nol nol satu' (digits) or 'A satu' (words); the letter stays a capital for the voice."""
    parts: list[str] = []
    for part in _PARTS.findall(str(number)):
        if part.isdigit():
            if mode == NumberMode.WORDS:
                parts.append(number_id(int(part)) if lang == Language.INDONESIAN else number_en(int(part)))
            else:
                parts.append(digits_id(part) if lang == Language.INDONESIAN else digits_en(part))
        else:
            parts.append(" ".join(part.upper()))
    return " ".join(parts)


def counter_words(counter: str, lang: Language = Language.INDONESIAN) -> str:
    """A counter id as said: '3' -> 'tiga', '4K-10' -> 'empat ka sepuluh', '07' -> 'nol tujuh'.

    Numbers are read as numbers, letters by their Indonesian names, separators are silent.
    A number with a leading zero is read digit by digit, as people read it off the sign.
    """
    words: list[str] = []
    for part in _PARTS.findall(str(counter)):
        if part.isdigit():
            leading_zero = len(part) > 1 and part.startswith("0")
            if lang == Language.INDONESIAN:
                words.append(digits_id(part) if leading_zero else number_id(int(part)))
            else:
                words.append(digits_en(part) if leading_zero else number_en(int(part)))
        elif lang == Language.INDONESIAN:
            words.extend(LETTERS_ID.get(c, c.lower()) for c in part.upper())
        else:
            words.extend(part.upper())
    return " ".join(words)


@dataclass(frozen=True)
class SpeechStyle:
    """A site's way of calling: reading mode, whether to add the agency, English after Indonesian."""

    mode: NumberMode = NumberMode.DIGITS
    with_agency: bool = False
    english: bool = False  # also say the call in English, after the Indonesian
    queue_word: str = "antrian"  # some sites write and say "antrean"


def call_phrase(number: str, counter: str, agency: str = "", style: SpeechStyle = SpeechStyle(),
                lang: Language = Language.INDONESIAN) -> str:
    """One call in one language: 'Nomor antrian A nol nol satu, silakan menuju loket tiga'."""
    ticket = ticket_words(number, style.mode, lang)
    desk = counter_words(counter, lang)
    if lang == Language.ENGLISH:
        text = f"Number {ticket}, please go to counter {desk}"
    else:
        text = f"Nomor {style.queue_word} {ticket}, silakan menuju loket {desk}"
    if style.with_agency and agency.strip():
        text += f", {agency.strip()}"
    return text


def announcement(number: str, counter: str, agency: str = "", style: SpeechStyle = SpeechStyle()
                 ) -> list[tuple[Language, str]]:
    """Everything said for one call, in order: the Indonesian phrase, then the English one if enabled."""
    said = [(Language.INDONESIAN, call_phrase(number, counter, agency, style, Language.INDONESIAN))]
    if style.english:
        said.append((Language.ENGLISH, call_phrase(number, counter, agency, style, Language.ENGLISH)))
    return said
